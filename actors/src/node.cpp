// A scaf node (scaf/node.hpp): the published entry actor that checks
// requests, and the host tasks that run remote children in the node's scope.
#include "scaf/node.hpp"

#include <unistd.h>

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
#include "scaf/logger.hpp"
#include "scaf/names.hpp"
#include "scaf/scope_owner.hpp"

#include "remote_protocol.hpp"

namespace scaf {

namespace rp = remote_protocol;

namespace {

/// What the entry actor and the host tasks share. `name` and `scope` are
/// written before the entry actor hears `init_atom`, and only read after.
struct node_shared {
  remote_tasks tasks;
  std::string name;
  scope_ref scope;
  std::atomic<size_t> hosted{0};
};

using init_atom = caf::atom_constant<caf::atom("scafninit")>;

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
  /// Reads how the child ended (set by the nested scope's body).
  remote_outcome outcome;
  /// The caller cancelled or forced the child (its own scope, or its
  /// handle).
  bool caller_stopped = false;
  /// The node cancelled the child (it stops) before its caller did.
  bool node_stopping = false;
  /// The child's end went to the proxy: the host waits for its receipt
  /// (its own end could overtake that message on the way).
  bool reported = false;
  /// The proxy is gone: nobody waits for the child's end any more.
  bool proxy_gone = false;
};

/// What the child's caller learns of its end: its value; else the nested
/// scope's failure (the child's error, an exception's text); else, if the
/// node stopping ended it, nothing (the caller hears `stopped_atom`: it did
/// not earn the early value of a function that saw its token); else how its
/// handle resolved (its cancel reason, `errc::killed`).
std::optional<std::pair<caf::error, caf::message>>
child_end(task_actor* self, host_state& st, const caf::expected<void>& result) {
  std::optional<caf::expected<caf::message>> out;
  {
    std::lock_guard<std::mutex> guard{st.mtx};
    if (st.outcome)
      out = st.outcome();
  }
  using end = std::pair<caf::error, caf::message>;
  if (!result && !is_stopped(result.error()))
    return end{result.error(), {}};
  if (st.node_stopping)
    return std::nullopt;
  if (!out)
    return end{result ? make_error(errc::cancelled, self->path(),
                                   "the child ended without a result")
                      : result.error(),
               {}};
  if (!*out)
    return end{std::move(out->error()), {}};
  return end{caf::error{}, std::move(**out)};
}

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
      // The caller's scope forced its stand-in (an abort, or the grace
      // period over): the child is forced here.
      caf::anon_send(st->nested, abort_atom::value);
    }
  });
  // The node's own cancel (it stops): the nested scope is cancelled with
  // this task, and its end ends this task.
  self->on_cancel([st](const caf::error&) {
    if (!st->caller_stopped)
      st->node_stopping = true;
  });
  auto opts = scope_options{};
  opts.name = job->task->signature.name;
  opts.grace = job->grace;
  st->nested = self->open_scope(
    std::move(opts),
    [job, st](scope& s) {
      spawn_options child;
      child.name = "task";
      auto outcome = job->task->spawn(s, child, job->args);
      if (!outcome) {
        s.fail(std::move(outcome.error()));
        return;
      }
      std::lock_guard<std::mutex> guard{st->mtx};
      st->outcome = std::move(*outcome);
    },
    [self, st, proxy](const caf::expected<void>& result) {
      if (auto end = child_end(self, *st, result))
        // Cleaned: a context of a type the caller does not know would be
        // dropped on the way, and the proxy would wait for nothing.
        self->send(proxy, rp::done_atom::value, rp::sanitize(end->first),
                   std::move(end->second));
      else
        self->send(proxy, rp::stopped_atom::value);
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
      if (!st->node_stopping)
        st->caller_stopped = true;
      caf::anon_send(st->nested, cancel_atom::value, rp::sanitize(reason));
    },
    [self, st, proxy](rp::force_atom) {
      if (self->current_sender() !=
          caf::actor_cast<caf::strong_actor_ptr>(proxy))
        return;
      if (!st->node_stopping)
        st->caller_stopped = true;
      caf::anon_send(st->nested, abort_atom::value);
    },
    [self, st, proxy](rp::tree_atom) -> caf::result<std::vector<std::string>> {
      if (self->current_sender() !=
          caf::actor_cast<caf::strong_actor_ptr>(proxy))
        return make_error(errc::invalid_argument, self->path(),
                          "only the child's caller asks for its tree");
      auto promise = self->make_response_promise<std::vector<std::string>>();
      // Less than the caller waits, so that a slow subtree still arrives as
      // one that did not answer.
      self->request(st->nested, rp::tree_timeout / 2, tree_atom::value)
        .then([promise](
                tree_node& x) mutable { promise.deliver(rp::encode_tree(x)); },
              [promise](caf::error& err) mutable { promise.deliver(err); });
      return promise;
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
/// hands them to host tasks. It holds every message back until `init_atom`
/// says the node's scope and name are there.
caf::behavior entry(caf::event_based_actor* self,
                    std::shared_ptr<node_shared> shared) {
  caf::behavior serving{
    [self, shared](rp::hello_atom, uint32_t version, caf::timespan heartbeat,
                   caf::timespan timeout)
      -> caf::result<uint32_t, caf::timespan, caf::timespan,
                     std::vector<std::string>, std::string> {
      auto ours = rp::settings_of(self->system());
      if (auto err = rp::check_version(shared->name, version))
        return err;
      if (heartbeat != ours.heartbeat || timeout != ours.timeout)
        return make_error(errc::protocol_mismatch, shared->name,
                          "this node has " + rp::render(ours) + ", the peer " +
                            rp::render({heartbeat, timeout}));
      std::vector<std::string> offers;
      for (auto& [name, e] : shared->tasks.entries())
        offers.push_back(rp::render_signature(
          name, rp::type_names(self->system(), e.signature)));
      return {version, ours.heartbeat, ours.timeout, std::move(offers),
              shared->name};
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
        return make_error(errc::invalid_argument, shared->name,
                          "a spawn request needs a sender to report to");
      auto checked =
        rp::check_spawn_request(self->system(), shared->name, shared->tasks,
                                version, task, types, caller, grace, args);
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
      hosted.then(self, [self, shared, proxy](const caf::expected<void>& x) {
        --shared->hosted;
        // Refused: the node stops.
        if (!x && is(x.error(), errc::scope_closed))
          self->send(proxy, rp::stopped_atom::value);
      });
      return caf::unit;
    },
    continuation_handler(),
  };
  self->set_default_handler(caf::skip);
  return {
    [self, serving](init_atom) {
      self->set_default_handler(caf::drop);
      self->become(serving);
    },
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

const std::string& node::name() const noexcept {
  static const std::string none;
  return state_ ? state_->shared->name : none;
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

namespace {

/// `host:port`, the host being the address the node listens on, or the
/// machine's name if it listens on every address.
std::string default_name(const std::string& bind, uint16_t port) {
  auto host = bind;
  if (host.empty() || host == "0.0.0.0" || host == "::") {
    char buf[256] = {};
    host = gethostname(buf, sizeof(buf) - 1) == 0 ? buf : "localhost";
  }
  return host + ":" + std::to_string(port);
}

} // namespace

caf::expected<node> serve(caf::actor_system& sys, remote_tasks tasks,
                          node_options opts) {
  if (auto err = check_may_block("scaf::serve"))
    return err;
  if (!opts.name.empty())
    if (auto err = check_name(opts.name, "scaf::serve"))
      return err;
  for (auto& [name, e] : tasks.entries()) {
    auto types = rp::type_names(sys, e.signature);
    if (!rp::all_registered(types))
      return make_error(errc::type_mismatch, "scaf::serve",
                        "task " + rp::render_signature(name, types) +
                          " uses a type not registered with this actor "
                          "system (cfg.add_message_type)");
  }
  auto st = std::make_shared<node::state>();
  st->sys = &sys;
  st->shared = std::make_shared<node_shared>();
  st->shared->tasks = std::move(tasks);
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
    return std::move(port.error());
  }
  st->port = *port;
  // Named once the port is known; requests that came meanwhile wait in the
  // entry actor's mailbox.
  auto name = opts.name.empty() ? default_name(opts.bind, st->port) : opts.name;
  scope_options scope_opts;
  scope_opts.name = name;
  // One caller's failing child is no reason to stop another's.
  scope_opts.policy = failure_policy::isolate;
  st->owner = make_scope(sys, std::move(scope_opts));
  st->shared->name = name;
  st->shared->scope = st->owner.ref();
  caf::anon_send(st->entry, init_atom::value);
  logger().info("{}: serving {} task types on {}:{}", name,
                st->shared->tasks.entries().size(), opts.bind, st->port);
  return node{std::move(st)};
}

} // namespace scaf
