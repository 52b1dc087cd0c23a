#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include "scaf/child_factory.hpp"
#include "scaf/fwd.hpp"

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

/// When a supervisor ends itself because its significant children are done
/// (OTP 24's `auto_shutdown`).
enum class auto_shutdown {
  /// Never: it runs until it is cancelled (OTP's default).
  never,
  /// When any significant child has ended by itself and is not restarted.
  any_significant,
  /// When every significant child has ended and is not restarted.
  all_significant,
};

/// How a supervisor treats one child.
struct child_options {
  /// The child's name: unique within its supervisor, the child's path element.
  std::string name;
  /// When the child is restarted (OTP's default: always).
  restart_type restart = restart_type::permanent;
  /// When the supervisor stops the child: how long the child may take after
  /// its cancel before it is killed (its `spawn_options::grace`). Zero kills
  /// it at once without a cancel (OTP's `brutal_kill`);
  /// `caf::timespan::max()` waits as long as it takes (OTP's `infinity`).
  /// Unset: as OTP's defaults, `infinity` for a child that is a scope (a
  /// supervisor, say), 5 s for a task (and for a pool's workers).
  std::optional<caf::timespan> shutdown = std::nullopt;
  /// Whether the child's end can end the supervisor (`auto_shutdown`): only
  /// for a transient or temporary child of a supervisor whose
  /// `auto_shutdown` is not `never`.
  bool significant = false;
};

/// What a supervisor starts: a child and how to treat it. Make one with
/// `scaf::child`.
struct child_spec {
  /// How to treat the child.
  child_options options;
  /// How to start it, again at every restart.
  child_factory start;

  /// The child's shutdown time: `options.shutdown`, or its default for the
  /// kind of child `start` makes.
  caf::timespan shutdown() const noexcept {
    if (options.shutdown)
      return *options.shutdown;
    return start.spawns_scope() ? caf::timespan::max()
                                : caf::timespan{std::chrono::seconds{5}};
  }
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
  /// Delay before restarting a child (Akka's backoff): `backoff` the first
  /// time, doubled at each further restart of that child, at most
  /// `max_backoff`; back to `backoff` once the child has run for
  /// `backoff_reset`. Zero restarts at once. The intensity still counts
  /// every restart within the period. Under `one_for_one` (and in a pool)
  /// each child waits for its own delay while the supervisor goes on with
  /// the others; a group restart waits as a whole.
  caf::timespan backoff{0};
  /// The longest delay `backoff` doubles up to.
  caf::timespan max_backoff = std::chrono::seconds{1};
  /// Adds up to this fraction of the delay, at random (0 to 1), so that
  /// children failing together do not restart together.
  double backoff_jitter = 0.0;
  /// How long a child must run for its next restart to start from
  /// `backoff` again; unset: the restart `period`.
  std::optional<caf::timespan> backoff_reset = std::nullopt;
  /// When the supervisor ends itself; see `child_options::significant`.
  auto_shutdown shutdown_when = auto_shutdown::never;
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
/// - Starting: a child that fails before it is up (ends with an error) fails
///   the supervisor's start at once with `errc::start_failed`, which names
///   the child and carries its error (`cause_of`), after the children
///   already started are stopped in reverse order. A child that calls
///   `decline_start()`, or ends without an error before it is up, declines
///   to start (OTP's `ignore`): it is recorded as stopped (a temporary one
///   is forgotten) and not restarted.
/// - More restarts than the intensity allows within the period: the
///   supervisor stops its children the same way and fails with
///   `errc::restart_limit`, naming the child and its last error. For a
///   parent supervisor that is a normal end, as OTP's `shutdown` exit: it
///   restarts a permanent supervisor child, not a transient one (whose
///   give-up then counts as its end for `auto_shutdown`).
/// - With `shutdown_when` set, a significant child that ends by itself and
///   is not restarted can end the supervisor: its other children are
///   stopped in reverse order and it succeeds. Stopping a child through the
///   supervisor (`terminate_child`, a sibling's restart) never does.
/// - Children that end while the supervisor restarts others are handled, in
///   order, once that restart is done. A child that fails before it is up
///   holds back the children after it under `rest_for_one` and `one_for_all`
///   (restarting it restarts them); each attempt counts toward the intensity,
///   and the next attempt comes after the calls that arrived meanwhile (OTP's
///   `try_again_restart`), so a restart loop never starves them.
/// - With no restart due, the supervisor keeps running (with fewer children)
///   until it is cancelled, as OTP's does.
/// - Children can be started, stopped, restarted, deleted and listed while
///   it runs, through a `supervisor_ref` or by message
///   (`scaf/supervisor_ref.hpp`); a child added at run time is last in the
///   start order.
/// - Invalid specs (no or duplicate names, no task, a negative time, a
///   significant child that is permanent or whose supervisor never shuts
///   down) fail the supervisor with `errc::invalid_argument` before anything
///   starts.
child_factory supervisor(supervisor_options opts,
                         std::vector<child_spec> children);

/// Checks `children` as `supervisor` would before it starts anything, for a
/// supervisor whose `shutdown_when` is `when`: names present and unique,
/// times not negative, a task in each, significant children allowed
/// (OTP's `check_childspecs/2`). `errc::invalid_argument` naming the
/// first problem; nothing runs.
caf::error check_childspecs(const std::vector<child_spec>& children,
                            auto_shutdown when = auto_shutdown::never);

/// What a supervisor's own initialisation decides: its options and its
/// children (OTP's `init/1` result).
struct supervisor_spec {
  /// How it restarts.
  supervisor_options options;
  /// What it starts, in order.
  std::vector<child_spec> children;
};

/// What computes a supervisor's spec when it starts: the spec; an error,
/// which fails the supervisor's start with it; or `std::nullopt`, which
/// declines (OTP's `ignore`).
using supervisor_init =
  std::function<caf::expected<std::optional<supervisor_spec>>(scope&)>;

/// A supervisor whose spec `init` computes in its context each time it
/// starts (a supervisor restarted by its parent may read fresh
/// configuration). An error from `init` (or an exception) fails its start;
/// `std::nullopt` makes it end at once, without an error and before it is
/// up, so a parent supervisor records it as declined (stopped, not
/// restarted). Otherwise it is `supervisor(spec.options, spec.children)`.
child_factory supervisor(supervisor_init init);

} // namespace scaf
