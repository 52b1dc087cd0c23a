// Scopes' children on other nodes (scaf/remote.hpp): connecting to a node,
// and checking a spawn against what it offers. The stand-in of each remote
// child is in remote_child.cpp.
#include "scaf/remote.hpp"

#include <atomic>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include "scaf/blocking.hpp"
#include "scaf/names.hpp"

#include "remote_protocol.hpp"

namespace scaf {

namespace rp = remote_protocol;

namespace {

std::string render_ms(caf::timespan x) {
  return std::to_string(x.count() / 1000000) + " ms";
}

} // namespace

caf::error rp::request_failed(const std::string& node, caf::timespan timeout,
                              const caf::error& err, const std::string& path) {
  if (err == caf::sec::request_timeout)
    return make_error(errc::node_down, path,
                      "node " + node + " did not answer within " +
                        render_ms(timeout));
  if (err == caf::sec::request_receiver_down)
    return make_error(errc::node_down, path, "node " + node + " is gone");
  return rp::sanitize(err);
}

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
               result =
                 rp::request_failed(state_->name, state_->timeout, err, "");
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
        failure = rp::request_failed(name, opts.timeout, err, "");
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

} // namespace scaf
