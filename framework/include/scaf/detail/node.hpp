#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "scaf/detail/node_path.hpp"
#include "scaf/scope_options.hpp"

namespace scaf {

class scope;

namespace detail {

class handle_control;
class runtime;
class scope_shared;

/// Which kind of child an actor spawned through a scope's spawn path is
/// (function tasks run as jobs take a path of their own). The scope maps it
/// to the kind's implementation of the child contract (src/kinds/).
enum class actor_kind : uint8_t {
  /// A behavior task (`scope::spawn`, `start`, task factories).
  behavior,
  /// A function task that takes `task_base*`: a task actor on a thread of
  /// its own.
  function,
  /// A blocking task: a task actor on a thread of its own.
  blocking,
  /// A nested or child scope.
  scope,
};

/// What a node learns from the scope that spawns it.
struct node_context {
  /// The spawning scope; weak, the scope holds the child and not vice versa.
  caf::actor_addr parent;
  /// Path of the new node, e.g. "root/db/3".
  node_path path;
  /// The grace period inherited by scopes the node opens.
  std::optional<caf::timespan> grace;
  /// The reason, if the spawning scope is already cancelled: the node starts
  /// cancelled.
  caf::error cancelled;
  /// Whether scopes the node opens record their children's outcomes.
  bool record_outcomes = false;
  /// Whether `sys_runtime` says what the system's runtime is: set by a
  /// spawning scope (and only by one), so that nested scopes need not look
  /// it up.
  bool runtime_known = false;
  /// The system's runtime (`runtime::of`); null under the test coordinator.
  class runtime* sys_runtime = nullptr;
  /// If set, the node calls it once it is up: a task when its behavior
  /// function has returned (or at `signal_started` after `defer_started`),
  /// a scope when its body has returned (likewise), with what it passed to
  /// `signal_started`. What `scope::start` waits for.
  std::function<void(caf::message)> on_started;
};

/// How a scope reaches a function task while it runs: busy in its call, the
/// task reads no message until the function returns, so the scope requests
/// stop on a shared source. Only the scope actor requests; `reason` is
/// written before the request and read after `stop_requested()` returned
/// true (the stop source orders the two).
struct stop_signal {
  std::stop_source source;
  caf::error reason;

  /// Requests stop with `why`, unless stop was requested already.
  void request(const caf::error& why) {
    if (source.stop_requested())
      return;
    reason = why;
    source.request_stop();
  }
};

/// What the spawn path of a scope needs to know about a child beyond its
/// kind and its options.
struct spawn_extras {
  /// The stop signal of a function task.
  std::shared_ptr<stop_signal> stop;
  /// Runs in the scope's context when the child is done, with its exit
  /// reason, its path and the scope's address (`scope::start` resolves its
  /// handle with it if the child ended before it was up).
  std::function<void(const caf::error&, const node_path&,
                     const caf::actor_addr&)>
    on_end;
  /// The child's handle, if it has one: bound to the child when the scope
  /// admits it (so that `handle::cancel` reaches it), published when the
  /// child is done.
  std::shared_ptr<handle_control> result;
  /// Runs in the scope's context when the child is cancelled or forced (a
  /// cancellable task resolves its handle with its fallback).
  std::function<void()> on_cancelled;
  /// Counts against the scope's limit (`scope::set_limit`).
  bool limited = false;
  /// A child scope that stays open until joined (`scope::open_child`): the
  /// join of its parent reaches it.
  bool stays_open = false;
};

/// Everything needed to start a scope actor.
struct scope_config {
  scope_options options;
  node_context context;
  /// Runs inside the scope actor when it starts.
  std::function<void(scope&)> body;
  /// Receives the scope's report just before it terminates; may be null.
  std::shared_ptr<scope_report> report;
  /// The scope that supervises this one (its parent scope, or the scope of
  /// the task that opened it): failures, kills and stragglers of this
  /// scope's subtree go there, just before its down message.
  caf::actor_addr report_to;
  /// Whether the scope finishes on its own once the body has returned and
  /// its main tasks are done (`scaf::run`, nested scopes). A service scope
  /// (`scaf::spawn_scope`) runs until cancelled, failed, joined or closed.
  bool join_after_body = true;
  /// Whether the scope keeps itself alive until it finishes even if nobody
  /// holds its handle (top-level scopes).
  bool keep_alive = false;
  /// What the scope shares with its `scope_owner` and references, if it was
  /// opened with one (`scope::open_child`, `scaf::make_scope`).
  std::shared_ptr<scope_shared> shared;
  /// Whether a `scope_owner` holds the scope: opened into a scope that was
  /// already cancelled, it then stays open for its owner (see
  /// `scope_state`).
  bool owned = false;
};

/// Spawns a scope actor as a monitored child of `parent`.
caf::actor spawn_scope_actor(caf::local_actor* parent, scope_config&& cfg);

/// Spawns a top-level scope actor.
caf::actor spawn_scope_actor(caf::actor_system& sys, scope_config&& cfg);

/// Spawns the nested scope `cfg` as a monitored child of the scope
/// `parent`, with the context that scope made for it: the scope's path,
/// grace period and recording come from `ctx` unless `cfg.options` sets
/// them.
caf::actor spawn_nested_scope(caf::local_actor* parent, node_context&& ctx,
                              scope_config&& cfg);

/// Fails the scope `s` with `reason` as if a child had failed with it.
void fail_scope(scope& s, caf::error reason);

/// Returns `errc::invalid_argument` for the node at `path`, saying that
/// `what` cannot be negative, if `x` is negative; else an empty error.
caf::error refuse_negative(caf::timespan x, std::string path, const char* what);

} // namespace detail
} // namespace scaf
