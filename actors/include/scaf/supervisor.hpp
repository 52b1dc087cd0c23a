#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/timespan.hpp>

#include "scaf/child_factory.hpp"

namespace scaf {

/// Which children a supervisor restarts when one of them ends and must be
/// restarted (Erlang/OTP).
enum class restart_strategy {
  /// Only that child.
  one_for_one,
  /// All children: the others are stopped (in reverse start order), then all
  /// are started again in start order.
  one_for_all,
  /// That child and the ones started after it: those are stopped (in reverse
  /// start order), then all of them are started again in start order.
  rest_for_one,
};

/// When a child that ended is restarted (Erlang/OTP).
enum class restart_type {
  /// Always.
  permanent,
  /// Only if it failed: ended with an error other than `errc::cancelled`.
  transient,
  /// Never; once it ends it is gone from the supervisor.
  temporary,
};

/// How a supervisor treats one child.
struct child_options {
  /// The child's name: unique within its supervisor, the child's path element.
  std::string name;
  /// When the child is restarted (OTP's default: always).
  restart_type restart = restart_type::permanent;
  /// When the supervisor stops the child: how long the child may take after
  /// its cancel before it is killed (its `spawn_options::grace`). Zero kills
  /// it at once without a cancel (OTP's `brutal_kill`).
  caf::timespan shutdown = std::chrono::seconds{5};
};

/// What a supervisor starts: a child and how to treat it. Make one with
/// `scaf::child`.
struct child_spec {
  /// How to treat the child.
  child_options options;
  /// How to start it, again at every restart.
  child_factory start;
};

/// Makes the spec of a child that runs the task `fun(self, xs...)`, a task
/// function as for `scope::spawn`. The arguments are copied: every restart
/// starts from them.
template <class F, class... Ts>
requires(!std::is_same_v<std::decay_t<F>, child_factory>) child_spec
  child(child_options opts, F fun, Ts&&... xs) {
  return {std::move(opts),
          task_factory(std::move(fun), std::forward<Ts>(xs)...)};
}

/// Makes the spec of a child spawned from `factory`, e.g. another
/// `scaf::supervisor`.
inline child_spec child(child_options opts, child_factory factory) {
  return {std::move(opts), std::move(factory)};
}

/// How a supervisor restarts.
struct supervisor_options {
  /// Which children a child's end restarts.
  restart_strategy strategy = restart_strategy::one_for_one;
  /// Restart intensity: more than `intensity` restarts within `period` and
  /// the supervisor gives up: it stops every child (in reverse start order)
  /// and fails with `errc::restart_limit` (OTP's defaults: 1 in 5 s).
  size_t intensity = 1;
  /// The window in which `intensity` restarts are allowed.
  caf::timespan period = std::chrono::seconds{5};
  /// Delay before a restart: `backoff` for the first restart within the
  /// period, doubled for each further one, at most `max_backoff`. Zero
  /// restarts at once.
  caf::timespan backoff{0};
  /// The longest delay `backoff` doubles up to.
  caf::timespan max_backoff = std::chrono::seconds{1};
};

/// A supervisor (Erlang/OTP): a scope whose failure policy is a restart
/// strategy. It starts `children` one after another in order (each once the
/// one before is up: its behavior function returned, or it called
/// `signal_started` after `defer_started`), as its own children, and
/// restarts them by `opts` when they end. It is up once all its children
/// are. Spawn it into a scope from the factory this returns:
///
///     s.spawn({.name = "db"}, scaf::supervisor(
///       {.strategy = scaf::restart_strategy::one_for_all},
///       {scaf::child({.name = "pool"}, pool, 8),
///        scaf::child({.name = "cache", .shutdown = 0s}, cache)}));
///
/// A child's path is the supervisor's path and its name: `root/db/pool`,
/// for every start of it.
///
/// - Cancelling the supervisor (by its scope, or with one message from
///   anywhere: `(cancel_atom, std::string)`, `(cancel_atom, caf::error)` or
///   a `caf::exit_msg`) stops its children one at a time in reverse start
///   order, each with its own `shutdown` time, and then ends it, cancelled.
///   Its own grace period is the sum of those times: whatever is left then is
///   killed. Its parent's grace period should cover the sum as well (past
///   it, the parent aborts the supervisor, which kills all at once).
/// - More restarts than the intensity allows within the period: the
///   supervisor stops its children the same way and fails with
///   `errc::restart_limit`, naming the child and its last error, so its own
///   scope (or supervisor) decides what happens next.
/// - Children that end while the supervisor restarts others are handled, in
///   order, once that restart is done. A child that ends before it is up
///   holds back the children after it under `rest_for_one` and `one_for_all`
///   (restarting it restarts them).
/// - With no restart due, the supervisor keeps running (with fewer children)
///   until it is cancelled, as OTP's does.
/// - Invalid specs (no or duplicate names, no task, a negative time) fail the
///   supervisor with `errc::invalid_argument` before anything starts.
child_factory supervisor(supervisor_options opts,
                         std::vector<child_spec> children);

} // namespace scaf
