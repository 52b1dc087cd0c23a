// Scopes' children on other nodes (scaf/remote.hpp): connecting to a node,
// and checking a spawn against what it offers. The stand-in of each remote
// child is in remote_child.cpp.
#include "scaf/remote.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include "scaf/blocking.hpp"
#include "scaf/names.hpp"
#include "scaf/promise.hpp"

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

handle<void> remote_node::when_down() const {
  promise<void> down;
  if (!state_) {
    down.resolve(make_error(errc::invalid_argument, "",
                            "when_down() needs a connected remote_node"));
    return down.get_handle();
  }
  // CAF runs an actor's attached functors when it terminates; a proxy
  // terminates when its connection is lost (at once if it is gone already).
  auto name = state_->name;
  state_->entry->attach_functor([down, name](const caf::error& reason) {
    down.resolve(make_error(errc::node_down, "",
                            "node " + name + " is gone" +
                              (reason ? ": " + render(reason) : "")));
  });
  return down.get_handle();
}

namespace {

/// One `connect_async`: what it tries, until when, and whom it tells.
struct connect_job {
  caf::actor_system* sys;
  std::string host;
  uint16_t port;
  std::string name;
  caf::timespan timeout;
  std::chrono::steady_clock::time_point deadline;
  promise<remote_node> done;
};

/// Why a connection to the node failed, in words that say what to check.
caf::error cannot_reach(const connect_job& job, const caf::error& failure) {
  if (failure == caf::sec::disconnect_during_handshake ||
      (failure == caf::sec::cannot_connect_to_node &&
       job.sys->has_openssl_manager()))
    return make_error(errc::node_down, "",
                      "cannot reach node " + job.name + ": " +
                        job.sys->render(failure) +
                        " (is TLS on at one node only, or are the "
                        "certificates not signed by a CA both trust?)");
  return make_error(errc::node_down, "",
                    "cannot reach node " + job.name + ": " +
                      job.sys->render(failure));
}

/// Checks the node's answer to hello against this process's protocol.
caf::error check_hello(const connect_job& job, uint32_t version,
                       caf::timespan heartbeat, caf::timespan timeout,
                       const std::string& node_name) {
  auto ours = rp::settings_of(*job.sys);
  if (version != rp::version)
    return make_error(errc::protocol_mismatch, "",
                      "node " + job.name + " speaks scaf node protocol " +
                        std::to_string(version) + ", this one " +
                        std::to_string(rp::version));
  if (heartbeat != ours.heartbeat || timeout != ours.timeout)
    return make_error(errc::protocol_mismatch, "",
                      "node " + job.name + " has " +
                        rp::render({heartbeat, timeout}) + ", this one " +
                        rp::render(ours));
  if (auto err = check_name(node_name, job.name); err)
    return make_error(errc::protocol_mismatch, "",
                      "node " + job.name +
                        " calls itself by a name that is not a child name");
  return {};
}

/// Says hello to the node's entry actor; resolves the job and quits.
void say_hello(caf::event_based_actor* self, std::shared_ptr<connect_job> job,
               caf::actor entry) {
  auto ours = rp::settings_of(*job->sys);
  self
    ->request(entry, job->timeout, rp::hello_atom::value, rp::version,
              ours.heartbeat, ours.timeout)
    .then(
      [self, job,
       entry](uint32_t version, caf::timespan heartbeat, caf::timespan timeout,
              std::vector<std::string>& offers, std::string& node_name) {
        if (auto err =
              check_hello(*job, version, heartbeat, timeout, node_name)) {
          job->done.resolve(std::move(err));
        } else {
          auto st = std::make_shared<remote_node::state>();
          st->sys = job->sys;
          st->entry = entry;
          st->name = std::move(node_name);
          st->address = job->name;
          st->offers = std::move(offers);
          st->timeout = job->timeout;
          job->done.resolve(remote_node{std::move(st)});
        }
        self->quit();
      },
      [self, job](caf::error& err) {
        job->done.resolve(rp::request_failed(job->name, job->timeout, err, ""));
        self->quit();
      });
}

/// Asks CAF's network layer for the node's entry actor: a handshake that
/// timed out (a peer busy starting) is tried again while the timeout lasts;
/// a refused connection is not.
void reach(caf::event_based_actor* self, std::shared_ptr<connect_job> job) {
  self
    ->request(rp::network_actor(*job->sys), job->timeout,
              caf::connect_atom::value, job->host, job->port)
    .then(
      [self, job](const caf::node_id&, caf::strong_actor_ptr& ptr,
                  const std::set<std::string>&) {
        auto entry = caf::actor_cast<caf::actor>(std::move(ptr));
        if (!entry) {
          job->done.resolve(make_error(
            errc::node_down, "", "node " + job->name + " publishes no actor"));
          self->quit();
          return;
        }
        say_hello(self, job, std::move(entry));
      },
      [self, job](caf::error& err) {
        if (err == caf::sec::connection_timeout &&
            std::chrono::steady_clock::now() < job->deadline) {
          reach(self, job);
          return;
        }
        job->done.resolve(cannot_reach(*job, err));
        self->quit();
      });
}

} // namespace

handle<remote_node> connect_async(caf::actor_system& sys,
                                  const std::string& host, uint16_t port,
                                  connect_options opts) {
  auto job = std::make_shared<connect_job>();
  job->sys = &sys;
  job->host = host;
  job->port = port;
  job->name = host + ":" + std::to_string(port);
  job->timeout = opts.timeout;
  job->deadline = std::chrono::steady_clock::now() + opts.timeout;
  auto result = job->done.get_handle();
  sys.spawn([job](caf::event_based_actor* self) { reach(self, job); });
  return result;
}

caf::expected<remote_node> connect(caf::actor_system& sys,
                                   const std::string& host, uint16_t port,
                                   connect_options opts) {
  if (auto err = check_may_block("scaf::connect"))
    return err;
  return connect_async(sys, host, port, opts).wait();
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
