// Scopes' children on other nodes (scaf/remote.hpp): connecting to a node,
// and the local stand-in (the proxy) of each remote child.
#include "scaf/remote.hpp"

#include <atomic>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/exit_reason.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include "scaf/atoms.hpp"
#include "scaf/blocking.hpp"
#include "scaf/cluster.hpp"
#include "scaf/logger.hpp"
#include "scaf/names.hpp"
#include "scaf/tree.hpp"

#include "remote_protocol.hpp"

namespace scaf {

namespace rp = remote_protocol;

namespace {

std::string render_ms(caf::timespan x) {
  return std::to_string(x.count() / 1000000) + " ms";
}

/// What a failed request to a node means for its caller.
caf::error request_failed(const std::string& node, caf::timespan timeout,
                          const caf::error& err, const std::string& path) {
  if (err == caf::sec::request_timeout)
    return make_error(errc::node_down, path,
                      "node " + node + " did not answer within " +
                        render_ms(timeout));
  if (err == caf::sec::request_receiver_down)
    return make_error(errc::node_down, path, "node " + node + " is gone");
  return rp::sanitize(err);
}

} // namespace

// -- remote_node --------------------------------------------------------------

const std::string& remote_node::name() const noexcept {
  static const std::string none;
  return state_ ? state_->name : none;
}

const std::vector<std::string>& remote_node::offers() const noexcept {
  static const std::vector<std::string> none;
  return state_ ? state_->offers : none;
}

const std::string& remote_node::address() const noexcept {
  static const std::string none;
  return state_ ? state_->address : none;
}

caf::expected<size_t> remote_node::hosted() const {
  if (auto err = check_may_block("scaf::remote_node::hosted"))
    return err;
  if (!state_)
    return make_error(errc::invalid_argument, "",
                      "hosted() needs a connected remote_node");
  caf::scoped_actor self{*state_->sys};
  // A node already known lost answers at once: CAF tells a monitor of a
  // gone actor so right away, while a request to it would wait for nothing.
  self->monitor(state_->entry);
  bool gone = false;
  self->receive([&](const caf::down_msg&) { gone = true; },
                caf::after(std::chrono::seconds{0}) >> [] {});
  if (gone)
    return make_error(errc::node_down, "", "node " + state_->name + " is gone");
  caf::expected<size_t> result{size_t{0}};
  self->request(state_->entry, state_->timeout, rp::hosted_atom::value)
    .receive([&](uint64_t n) { result = static_cast<size_t>(n); },
             [&](caf::error& err) {
               result = request_failed(state_->name, state_->timeout, err, "");
             });
  self->demonitor(state_->entry);
  return result;
}

caf::expected<remote_node> connect(caf::actor_system& sys,
                                   const std::string& host, uint16_t port,
                                   connect_options opts) {
  if (auto err = check_may_block("scaf::connect"))
    return err;
  auto name = host + ":" + std::to_string(port);
  caf::scoped_actor self{sys};
  caf::actor entry;
  caf::error failure;
  // A handshake that timed out (a peer busy starting) is tried again while
  // the timeout lasts; a refused connection is not.
  auto deadline = std::chrono::steady_clock::now() + opts.timeout;
  do {
    failure = caf::error{};
    self
      ->request(rp::network_actor(sys), opts.timeout, caf::connect_atom::value,
                host, port)
      .receive(
        [&](const caf::node_id&, caf::strong_actor_ptr& ptr,
            const std::set<std::string>&) {
          entry = caf::actor_cast<caf::actor>(std::move(ptr));
        },
        [&](caf::error& err) { failure = std::move(err); });
  } while (failure == caf::sec::connection_timeout &&
           std::chrono::steady_clock::now() < deadline);
  if (failure == caf::sec::disconnect_during_handshake ||
      (failure == caf::sec::cannot_connect_to_node &&
       sys.has_openssl_manager()))
    return make_error(errc::node_down, "",
                      "cannot reach node " + name + ": " + sys.render(failure) +
                        " (is TLS on at one node only, or are the "
                        "certificates not signed by a CA both trust?)");
  if (failure)
    return make_error(errc::node_down, "",
                      "cannot reach node " + name + ": " + sys.render(failure));
  if (!entry)
    return make_error(errc::node_down, "",
                      "node " + name + " publishes no actor");
  auto ours = rp::settings_of(sys);
  auto st = std::make_shared<remote_node::state>();
  st->sys = &sys;
  st->entry = entry;
  st->name = name;
  st->address = name;
  st->timeout = opts.timeout;
  self
    ->request(entry, opts.timeout, rp::hello_atom::value, rp::version,
              ours.heartbeat, ours.timeout)
    .receive(
      [&](uint32_t version, caf::timespan heartbeat, caf::timespan timeout,
          std::vector<std::string>& offers, std::string& node_name) {
        if (version != rp::version)
          failure = make_error(errc::protocol_mismatch, "",
                               "node " + name + " speaks scaf node protocol " +
                                 std::to_string(version) + ", this one " +
                                 std::to_string(rp::version));
        else if (heartbeat != ours.heartbeat || timeout != ours.timeout)
          failure = make_error(errc::protocol_mismatch, "",
                               "node " + name + " has " +
                                 rp::render({heartbeat, timeout}) +
                                 ", this one " + rp::render(ours));
        else if (auto err = check_name(node_name, name); err)
          failure = make_error(errc::protocol_mismatch, "",
                               "node " + name +
                                 " calls itself by a name "
                                 "that is not a child name");
        st->offers = std::move(offers);
        st->name = std::move(node_name);
      },
      [&](caf::error& err) {
        failure = request_failed(name, opts.timeout, err, "");
      });
  if (failure)
    return failure;
  return remote_node{std::move(st)};
}

// -- spawning -----------------------------------------------------------------

caf::error check_remote_spawn(caf::actor_system& sys, const remote_node& node,
                              const remote_signature& sig) {
  if (!node)
    return make_error(errc::invalid_argument, "",
                      "spawn_remote needs a connected remote_node");
  auto types = rp::type_names(sys, sig);
  auto wanted = rp::render_signature(sig.name, types);
  auto& offers = node.offers();
  std::string listed;
  const std::string* same_name = nullptr;
  for (auto& x : offers) {
    if (x == wanted)
      return {};
    if (!listed.empty())
      listed += ", ";
    listed += x;
    if (x.rfind(sig.name + "(", 0) == 0)
      same_name = &x;
  }
  if (same_name != nullptr)
    return make_error(errc::type_mismatch, "",
                      "node " + node.name() + " offers " + *same_name +
                        ", not " + wanted);
  return make_error(errc::unknown_task, "",
                    "node " + node.name() + " offers no task '" + sig.name +
                      "' (it offers: " + (listed.empty() ? "none" : listed) +
                      ")");
}

std::string remote_child_name(const std::string& task,
                              const remote_node& node) {
  static std::atomic<uint64_t> count{0};
  auto result = task;
  result += '@';
  result += node.name();
  result += '#';
  result += std::to_string(++count);
  return result;
}

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
              request_failed(n.name, n.timeout, err, self->path()), n.name);
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
