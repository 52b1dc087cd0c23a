// A scaf node (scaf/node.hpp): the published entry actor that checks
// requests, and the host tasks that run remote children in the node's scope.
#include "scaf/node.hpp"

#include <atomic>
#include <mutex>
#include <optional>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "scaf/atoms.hpp"
#include "scaf/blocking.hpp"
#include "scaf/child_exit.hpp"
#include "scaf/logger.hpp"
#include "scaf/scope_owner.hpp"

#include "remote_protocol.hpp"

namespace scaf {

namespace rp = remote_protocol;

namespace {

/// What the entry actor and the host tasks share.
struct node_shared {
  remote_tasks tasks;
  std::string name;
  scope_ref scope;
  std::atomic<size_t> hosted{0};
};

/// One remote child to run: what the entry actor checked.
struct host_job {
  const remote_tasks::entry* task = nullptr;
  caf::actor proxy;
  std::string caller;
  caf::message args;
  caf::timespan grace{0};
};

/// What a host task hands between its handlers.
struct host_state {
  caf::actor nested;
  std::mutex mtx;
  /// The child's value (or error), handed over before its task ends.
  caf::expected<caf::message> value{caf::message{}};
  /// How the child ended; its cancel reason, if it was cancelled.
  std::optional<child_exit> exit;
  /// The child's end went to the proxy: the host waits for its receipt
  /// (its own end could overtake that message on the way).
  bool reported = false;
  /// The proxy is gone: nobody waits for the child's end any more.
  bool proxy_gone = false;
};

/// Runs one remote child in a nested scope, reports its end to the proxy,
/// and stops it if the proxy goes away first (its node died, or its scope
/// killed it past the grace period: the kill is carried out here).
caf::behavior host(task_actor* self, std::shared_ptr<const host_job> job) {
  auto st = std::make_shared<host_state>();
  auto proxy = job->proxy;
  self->monitor(proxy);
  self->on_down([self, st, proxy](caf::down_msg& msg) {
    if (msg.source != proxy.address() || !st->nested)
      return;
    if (st->reported) {
      self->quit();
      return;
    }
    st->proxy_gone = true;
    if (msg.reason == caf::exit_reason::remote_link_unreachable) {
      // The caller's node is gone: a cancel, with the grace period.
      logger().warn("{}: its caller's node was lost: cancelling it",
                    self->path());
      caf::anon_send(st->nested, cancel_atom::value,
                     make_error(errc::node_down, self->path(),
                                "the node of the scope that spawned this "
                                "child was lost"));
    } else {
      // The caller's scope killed its stand-in past the grace period.
      caf::anon_send(st->nested, abort_atom::value);
    }
  });
  // The nested scope is cancelled with this task; its end ends this task.
  self->on_cancel([](const caf::error&) {});
  auto opts = scope_options{};
  opts.name = job->task->signature.name;
  opts.grace = job->grace;
  st->nested = self->open_scope(
    std::move(opts),
    [job, st](scope& s) {
      s.on_child_done([st](const child_exit& x) {
        std::lock_guard<std::mutex> guard{st->mtx};
        st->exit = x;
      });
      auto sink = [st](caf::expected<caf::message> x) {
        std::lock_guard<std::mutex> guard{st->mtx};
        st->value = std::move(x);
      };
      spawn_options child;
      child.name = "task";
      if (auto err = job->task->spawn(s, child, job->args, std::move(sink)))
        s.fail(std::move(err));
    },
    [self, st, proxy](const caf::expected<void>& result) {
      caf::error err;
      caf::message value;
      std::lock_guard<std::mutex> guard{st->mtx};
      auto ended = st->exit ? st->exit->status : node_status::done;
      if (!result) {
        err = result.error();
      } else if (ended == node_status::cancelled ||
                 ended == node_status::killed) {
        // As its caller's handle of a local child would say.
        err = st->exit->reason ? st->exit->reason : make_error(errc::cancelled);
      } else {
        if (!st->value)
          err = st->value.error();
        else
          value = *st->value;
      }
      // Cleaned: a context of a type the caller does not know would be
      // dropped on the way, and the proxy would wait for nothing.
      self->send(proxy, rp::done_atom::value, rp::sanitize(err),
                 std::move(value));
      if (st->proxy_gone)
        self->quit();
      else
        st->reported = true;
    });
  self->send(proxy, rp::child_atom::value, caf::actor_cast<caf::actor>(self));
  return {
    [self, st, proxy](rp::cancel_atom, caf::error& reason) {
      if (self->current_sender() !=
          caf::actor_cast<caf::strong_actor_ptr>(proxy))
        return;
      caf::anon_send(st->nested, cancel_atom::value, rp::sanitize(reason));
    },
    [self, proxy](rp::done_atom) {
      // The proxy's receipt of the child's end.
      if (self->current_sender() ==
          caf::actor_cast<caf::strong_actor_ptr>(proxy))
        self->quit();
    },
  };
}

/// The published actor: answers handshakes, checks spawn requests and
/// hands them to host tasks.
caf::behavior entry(caf::event_based_actor* self,
                    std::shared_ptr<node_shared> shared) {
  return {
    [self, shared](rp::hello_atom, uint32_t version, caf::timespan heartbeat,
                   caf::timespan timeout)
      -> caf::result<uint32_t, caf::timespan, caf::timespan,
                     std::vector<std::string>> {
      auto ours = rp::settings_of(self->system());
      if (auto err = rp::check_version(version))
        return err;
      if (heartbeat != ours.heartbeat || timeout != ours.timeout)
        return make_error(errc::protocol_mismatch, "node",
                          "this node has " + rp::render(ours) + ", the peer " +
                            rp::render({heartbeat, timeout}));
      std::vector<std::string> offers;
      for (auto& [name, e] : shared->tasks.entries())
        offers.push_back(rp::render_signature(
          name, rp::type_names(self->system(), e.signature)));
      return {version, ours.heartbeat, ours.timeout, std::move(offers)};
    },
    [shared](rp::hosted_atom) {
      return static_cast<uint64_t>(shared->hosted.load());
    },
    [self, shared](rp::spawn_atom, uint32_t version, std::string& task,
                   std::vector<std::string>& types, std::string& caller,
                   caf::timespan grace,
                   caf::message& args) -> caf::result<void> {
      auto proxy = caf::actor_cast<caf::actor>(self->current_sender());
      if (!proxy)
        return make_error(errc::invalid_argument, "node",
                          "a spawn request needs a sender to report to");
      auto checked =
        rp::check_spawn_request(self->system(), shared->tasks, version, task,
                                types, caller, grace, args);
      if (!checked)
        return std::move(checked.error());
      auto job = std::make_shared<host_job>();
      job->task = *checked;
      job->proxy = proxy;
      job->caller = std::move(caller);
      job->args = std::move(args);
      job->grace = grace;
      logger().info("{}: hosting {} for {}", shared->name, task, job->caller);
      ++shared->hosted;
      // The host outlasts its child's grace period: when the node stops, the
      // child gets all of it before the host is forced.
      spawn_options host_opts;
      host_opts.grace = job->grace >= rp::max_grace
                          ? caf::timespan::max()
                          : job->grace + std::chrono::seconds{1};
      auto hosted = shared->scope.spawn(host_opts, host,
                                        std::shared_ptr<const host_job>{job});
      hosted.then(self, [shared, proxy](const caf::expected<void>& x) {
        --shared->hosted;
        if (!x && is(x.error(), errc::scope_closed))
          caf::anon_send(proxy, rp::done_atom::value, x.error(),
                         caf::message{});
      });
      return caf::unit;
    },
    continuation_handler(),
  };
}

} // namespace

struct node::state {
  caf::actor_system* sys = nullptr;
  std::shared_ptr<node_shared> shared;
  scope_owner owner;
  caf::actor entry;
  uint16_t port = 0;
  std::mutex mtx;
  bool stopped = false;
};

node& node::operator=(node&& other) noexcept {
  if (this != &other) {
    stop();
    state_ = std::move(other.state_);
  }
  return *this;
}

node::~node() {
  stop();
}

uint16_t node::port() const noexcept {
  return state_ ? state_->port : 0;
}

scope_ref node::scope() const {
  return state_ ? state_->owner.ref() : scope_ref{};
}

size_t node::hosted() const noexcept {
  return state_ ? state_->shared->hosted.load() : 0;
}

caf::error node::stop() {
  if (!state_)
    return {};
  if (auto err = check_may_block("scaf::node::stop"))
    return err;
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    if (state_->stopped)
      return {};
    state_->stopped = true;
  }
  caf::anon_send(rp::network_actor(*state_->sys), caf::unpublish_atom::value,
                 state_->entry.address(), state_->port);
  // No new children, then a cancel for the ones there are.
  state_->owner.close();
  state_->owner.cancel("the node stops");
  state_->owner.done().wait();
  caf::anon_send_exit(state_->entry, caf::exit_reason::user_shutdown);
  return {};
}

caf::expected<node> serve(caf::actor_system& sys, remote_tasks tasks,
                          node_options opts) {
  if (auto err = check_may_block("scaf::serve"))
    return err;
  for (auto& [name, e] : tasks.entries()) {
    auto types = rp::type_names(sys, e.signature);
    if (!rp::all_registered(types))
      return make_error(errc::type_mismatch, "node",
                        "task " + rp::render_signature(name, types) +
                          " uses a type not registered with this actor "
                          "system (cfg.add_message_type)");
  }
  auto st = std::make_shared<node::state>();
  st->sys = &sys;
  st->shared = std::make_shared<node_shared>();
  st->shared->tasks = std::move(tasks);
  st->shared->name = opts.name;
  scope_options scope_opts;
  scope_opts.name = opts.name;
  // One caller's failing child is no reason to stop another's.
  scope_opts.policy = failure_policy::isolate;
  st->owner = make_scope(sys, std::move(scope_opts));
  st->shared->scope = st->owner.ref();
  st->entry = sys.spawn(entry, st->shared);
  // Through the OpenSSL module's actor when TLS is on, else the
  // middleman's: one request either way.
  caf::expected<uint16_t> port{uint16_t{0}};
  {
    caf::scoped_actor self{sys};
    self
      ->request(rp::network_actor(sys), caf::infinite, caf::publish_atom::value,
                opts.port, caf::actor_cast<caf::strong_actor_ptr>(st->entry),
                sys.message_types(st->entry), opts.bind, opts.reuse_address)
      .receive([&](uint16_t actual) { port = actual; },
               [&](caf::error& err) { port = std::move(err); });
  }
  if (!port) {
    caf::anon_send_exit(st->entry, caf::exit_reason::user_shutdown);
    st->owner.cancel("the node could not publish");
    st->owner.done().wait();
    return std::move(port.error());
  }
  st->port = *port;
  logger().info("{}: serving {} task types on {}:{}", opts.name,
                st->shared->tasks.entries().size(), opts.bind, st->port);
  return node{std::move(st)};
}

} // namespace scaf
