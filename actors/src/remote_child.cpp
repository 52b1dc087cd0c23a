// The local stand-in (the proxy) of a remote child (scaf/remote.hpp): it
// asks the node to run the child, passes its cancel, force and tree
// requests on, and ends as the child ended there, or with node_down (or, in
// a cluster, moves an idempotent child to another node).
#include "scaf/remote.hpp"

#include <chrono>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>

#include "scaf/atoms.hpp"
#include "scaf/cluster.hpp"
#include "scaf/logger.hpp"
#include "scaf/tree.hpp"

#include "remote_protocol.hpp"

namespace scaf {

namespace rp = remote_protocol;

namespace {

/// What a proxy hands between its handlers.
struct proxy_state {
  /// The node the child runs on now (another one after a move).
  remote_node node;
  /// Runs started so far.
  uint32_t attempts = 1;
  caf::actor host;
  /// The cancel that came before the host was known.
  caf::error pending_cancel;
  /// A force that came before the host was known.
  bool pending_force = false;
  /// Its scope forced it (an abort, its grace period over).
  bool forced = false;
  bool done = false;
  std::chrono::steady_clock::time_point spawned_at =
    std::chrono::steady_clock::now();
  /// Requests for its subtree that came before the host was known.
  std::vector<caf::typed_response_promise<tree_node>> tree_waiters;
};

caf::error lost(task_actor* self, const remote_request& req,
                const proxy_state& st, const std::string& how) {
  return make_error(errc::node_down, self->path(),
                    "node " + st.node.name() + " " + how + " while it ran " +
                      req.signature.name);
}

/// Whether the current message came from the child's node: its host
/// announces itself from there.
bool from_node(task_actor* self, const proxy_state& st) {
  auto& sender = self->current_sender();
  return sender && sender->node() == st.node.get()->entry.node();
}

/// Whether the current message came from `x`: the proxy takes a child's
/// end only from its host, or (a refusal) its node's entry actor.
bool sent_by(task_actor* self, const caf::actor& x) {
  auto& sender = self->current_sender();
  return x && sender && sender->get()->address() == x.address();
}

/// The stand-in's own line of the live tree, without its subtree.
tree_node own_view(task_actor* self, const proxy_state& st,
                   const remote_request& req) {
  tree_node x;
  x.path = self->path();
  x.name = x.path.substr(x.path.rfind('/') + 1);
  x.kind = req.kind;
  x.node = st.node.name();
  x.state = self->is_cancelled() ? node_state::cancelling : node_state::running;
  x.age = std::chrono::duration_cast<caf::timespan>(
    std::chrono::steady_clock::now() - st.spawned_at);
  return x;
}

/// Answers `promise` with the stand-in's line of the tree and its subtree
/// on its node (unanswered if that does not come in time).
void ask_tree(task_actor* self, const proxy_state& st,
              const remote_request& req,
              caf::typed_response_promise<tree_node> promise) {
  auto x = own_view(self, st, req);
  self->request(st.host, rp::tree_timeout, rp::tree_atom::value)
    .then(
      [promise, x](std::vector<std::string>& encoded) mutable {
        if (auto sub = rp::decode_tree(encoded)) {
          x.children.push_back(std::move(*sub));
          x.live_children = 1;
        } else {
          x.unanswered = true;
        }
        promise.deliver(std::move(x));
      },
      [promise, x](caf::error&) mutable {
        x.unanswered = true;
        promise.deliver(std::move(x));
      });
}

/// Answers the requests for its subtree that wait for a host with its own
/// line, unanswered: it has no host (any more).
void answer_tree_waiters(task_actor* self, proxy_state& st,
                         const remote_request& req) {
  for (auto& promise : std::exchange(st.tree_waiters, {})) {
    auto x = own_view(self, st, req);
    x.unanswered = true;
    promise.deliver(std::move(x));
  }
}

/// Ends the stand-in with `why` (empty: it quits normally).
void finish(task_actor* self, proxy_state& st, const remote_request& req,
            caf::error why) {
  answer_tree_waiters(self, st, req);
  st.done = true;
  if (req.ticket)
    req.ticket->release();
  self->quit(std::move(why));
}

/// The child's node was lost (`why` says how): the stand-in ends with
/// `why`, or, for an idempotent child of a cluster, runs the child again on
/// another node.
void lose_node(task_actor* self, std::shared_ptr<proxy_state> st,
               std::shared_ptr<const remote_request> req, caf::error why);

/// Asks the child's node to run it, and watches the node.
void request_spawn(task_actor* self, std::shared_ptr<proxy_state> st,
                   std::shared_ptr<const remote_request> req) {
  auto& node = *st->node.get();
  self->monitor(node.entry);
  auto types = rp::type_names(self->system(), req->signature);
  auto entry = node.entry;
  // No timeout: the node is watched (the monitor above, and the connection's
  // heartbeat), and a burst of requests may queue there for longer than any
  // fixed bound while the node is well.
  self
    ->request(entry, caf::infinite, rp::spawn_atom::value, rp::version,
              req->signature.name, std::move(types), self->path(), req->grace,
              req->args)
    .then([] {},
          [self, st, req, entry](caf::error& err) {
            // A late answer of a node the child moved away from.
            if (st->done || entry != st->node.get()->entry)
              return;
            auto& n = *st->node.get();
            auto why = rp::on_node(
              rp::request_failed(n.name, n.timeout, err, self->path()), n.name);
            // The node's refusal ends the child; not reaching it is a loss.
            if (err == caf::sec::request_receiver_down)
              lose_node(self, st, req, std::move(why));
            else
              finish(self, *st, *req, std::move(why));
          });
}

void lose_node(task_actor* self, std::shared_ptr<proxy_state> st,
               std::shared_ptr<const remote_request> req, caf::error why) {
  if (req->cluster)
    req->cluster->lost[req->ticket->index()].store(true);
  // Its scope stopped it already: it is stopped, as a local child would be
  // (the loss is logged, not made a failure of a scope that is stopping).
  if (st->forced || self->is_cancelled()) {
    logger().warn("{}: {}", self->path(), render(why));
    finish(self, *st, *req,
           st->forced ? make_error(errc::killed, self->path(),
                                   "forced; its node was lost meanwhile")
                      : self->cancel_reason());
    return;
  }
  // An idempotent child of a cluster runs again elsewhere.
  if (req->cluster) {
    auto here = req->ticket->index();
    if (st->attempts < req->max_attempts) {
      if (auto next = req->cluster->pick(req->eligible, here)) {
        logger().warn("{}: {}; running it again on node {}", self->path(),
                      render(why), req->cluster->nodes[*next].name());
        self->demonitor(st->node.get()->entry);
        if (st->host)
          self->demonitor(st->host);
        st->host = nullptr;
        answer_tree_waiters(self, *st, *req);
        st->node = req->cluster->nodes[*next];
        req->ticket->move_to(*next);
        ++st->attempts;
        request_spawn(self, st, req);
        return;
      }
    }
  }
  finish(self, *st, *req, std::move(why));
}

} // namespace

caf::behavior
remote_child_without_result(task_actor* self,
                            std::shared_ptr<const remote_request> req) {
  return remote_child(self, std::move(req), [](const caf::message& x) {
    auto value = decode_remote_value<void>(x);
    return value ? caf::error{} : std::move(value.error());
  });
}

caf::behavior remote_child(task_actor* self,
                           std::shared_ptr<const remote_request> req,
                           remote_delivery deliver) {
  auto st = std::make_shared<proxy_state>();
  st->node = req->node;
  self->on_down([self, st, req](caf::down_msg& msg) {
    if (st->done)
      return;
    auto& entry = st->node.get()->entry;
    if (msg.source != entry.address() &&
        (!st->host || msg.source != st->host.address()))
      return;
    if (msg.reason == caf::exit_reason::remote_link_unreachable)
      lose_node(self, st, req,
                lost(self, *req, *st,
                     "was lost (its connection closed or went silent past "
                     "the connection timeout)"));
    else if (msg.source == entry.address())
      lose_node(self, st, req, lost(self, *req, *st, "stopped serving"));
    else
      lose_node(self, st, req,
                lost(self, *req, *st, "ended the child without a report"));
  });
  self->on_cancel([self, st](const caf::error& why) {
    // The child ends on its node; its done comes back here.
    // Cleaned: a cause of a type the node does not know would be dropped.
    if (st->host)
      self->send(st->host, rp::cancel_atom::value, rp::sanitize(why));
    else
      st->pending_cancel = rp::sanitize(why);
  });
  // Forced (an abort, or its grace period over here): the child is forced on
  // its node, and its end comes back here as any other.
  self->on_force([self, st](const caf::error&) {
    st->forced = true;
    if (st->host)
      self->send(st->host, rp::force_atom::value);
    else
      st->pending_force = true;
  });
  request_spawn(self, st, req);
  return {
    [self, st, req](rp::child_atom, caf::actor& host) {
      if (st->host || !from_node(self, *st))
        return;
      st->host = std::move(host);
      self->monitor(st->host);
      if (st->pending_cancel)
        self->send(st->host, rp::cancel_atom::value, st->pending_cancel);
      if (st->pending_force)
        self->send(st->host, rp::force_atom::value);
      for (auto& promise : std::exchange(st->tree_waiters, {}))
        ask_tree(self, *st, *req, promise);
    },
    [self, st, req](tree_atom) -> caf::result<tree_node> {
      auto promise = self->make_response_promise<tree_node>();
      if (st->host)
        ask_tree(self, *st, *req, promise);
      else
        // Its node runs it, but has not said where yet.
        st->tree_waiters.push_back(promise);
      return promise;
    },
    [self, st, req](rp::stopped_atom) {
      // Its node stopped while it ran, or refused it while stopping.
      if (st->done ||
          !(sent_by(self, st->host) || sent_by(self, st->node.get()->entry)))
        return;
      if (st->host)
        self->send(st->host, rp::done_atom::value);
      lose_node(self, st, req,
                lost(self, *req, *st, "stopped, cancelling its children,"));
    },
    [self, st, req, deliver](rp::done_atom, caf::error& wire_err,
                             caf::message& value) {
      if (st->done || !sent_by(self, st->host))
        return;
      if (st->host)
        self->send(st->host, rp::done_atom::value);
      if (auto err = rp::sanitize(wire_err)) {
        finish(self, *st, *req, rp::on_node(std::move(err), st->node.name()));
        return;
      }
      if (deliver(value))
        finish(self, *st, *req,
               make_error(errc::type_mismatch, self->path(),
                          "the value that came back from node " +
                            st->node.name() + " is not of " +
                            req->signature.name + "'s result type"));
      else
        finish(self, *st, *req, caf::error{});
    },
  };
}

} // namespace scaf
