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

caf::expected<size_t> remote_node::hosted() const {
  if (auto err = check_may_block("scaf::remote_node::hosted"))
    return err;
  if (!state_)
    return make_error(errc::invalid_argument, "",
                      "hosted() needs a connected remote_node");
  caf::scoped_actor self{*state_->sys};
  caf::expected<size_t> result{size_t{0}};
  self->request(state_->entry, state_->timeout, rp::hosted_atom::value)
    .receive([&](uint64_t n) { result = static_cast<size_t>(n); },
             [&](caf::error& err) {
               result = request_failed(state_->name, state_->timeout, err, "");
             });
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
  st->timeout = opts.timeout;
  self
    ->request(entry, opts.timeout, rp::hello_atom::value, rp::version,
              ours.heartbeat, ours.timeout)
    .receive(
      [&](uint32_t version, caf::timespan heartbeat, caf::timespan timeout,
          std::vector<std::string>& offers) {
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
        st->offers = std::move(offers);
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
  caf::actor host;
  /// The cancel that came before the host was known.
  caf::error pending_cancel;
  bool done = false;
};

caf::error lost(task_actor* self, const remote_request& req,
                const std::string& how) {
  return make_error(errc::node_down, self->path(),
                    "node " + req.node.name() + " " + how + " while it ran " +
                      req.signature.name);
}

/// Ends the proxy with `err`, which its handle gets too.
void end_with(task_actor* self, const remote_request& req, caf::error err) {
  req.deliver(err);
  self->quit(std::move(err));
}

/// Whether the current message came from the child's node (its host, or
/// its entry actor): the proxy takes a child's end from nowhere else.
bool from_node(task_actor* self, const remote_request& req) {
  auto& sender = self->current_sender();
  return sender && sender->node() == req.node.get()->entry.node();
}

} // namespace

caf::behavior remote_child(task_actor* self,
                           std::shared_ptr<const remote_request> req) {
  auto st = std::make_shared<proxy_state>();
  auto& node = *req->node.get();
  self->monitor(node.entry);
  self->on_down([self, st, req](caf::down_msg& msg) {
    if (st->done)
      return;
    auto& entry = req->node.get()->entry;
    if (msg.source != entry.address() &&
        (!st->host || msg.source != st->host.address()))
      return;
    st->done = true;
    if (msg.reason == caf::exit_reason::remote_link_unreachable)
      end_with(self, *req,
               lost(self, *req,
                    "was lost (its connection closed or went silent past "
                    "the connection timeout)"));
    else if (msg.source == entry.address())
      end_with(self, *req, lost(self, *req, "stopped serving"));
    else
      end_with(self, *req,
               lost(self, *req, "ended the child without a report"));
  });
  self->on_cancel([self, st](const caf::error& why) {
    // The child ends on its node; its done comes back here.
    // Cleaned: a cause of a type the node does not know would be dropped.
    if (st->host)
      self->send(st->host, rp::cancel_atom::value, rp::sanitize(why));
    else
      st->pending_cancel = rp::sanitize(why);
  });
  auto types = rp::type_names(self->system(), req->signature);
  self
    ->request(node.entry, node.timeout, rp::spawn_atom::value, rp::version,
              req->signature.name, std::move(types), self->path(), req->grace,
              req->args)
    .then([] {},
          [self, st, req](caf::error& err) {
            if (st->done)
              return;
            st->done = true;
            auto& n = *req->node.get();
            end_with(self, *req,
                     request_failed(n.name, n.timeout, err, self->path()));
          });
  return {
    [self, st, req](rp::child_atom, caf::actor& host) {
      if (st->host || !from_node(self, *req))
        return;
      st->host = std::move(host);
      self->monitor(st->host);
      if (st->pending_cancel)
        self->send(st->host, rp::cancel_atom::value,
                   std::exchange(st->pending_cancel, caf::error{}));
    },
    [self, st, req](rp::done_atom, caf::error& wire_err, caf::message& value) {
      if (st->done || !from_node(self, *req))
        return;
      st->done = true;
      if (st->host)
        self->send(st->host, rp::done_atom::value);
      if (auto err = rp::sanitize(wire_err)) {
        if ((is(err, errc::cancelled) && !self->is_cancelled()) ||
            is(err, errc::scope_closed))
          // Its node cancelled it or refused it (the node stopped), not its
          // scope.
          err = lost(self, *req, "stopped, cancelling its children,");
        end_with(self, *req, std::move(err));
        return;
      }
      if (req->deliver(std::move(value)))
        self->quit(make_error(errc::type_mismatch, self->path(),
                              "the value that came back from node " +
                                req->node.name() + " is not of " +
                                req->signature.name + "'s result type"));
      else
        self->quit();
    },
  };
}

} // namespace scaf
