#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/behavior.hpp>
#include <caf/error.hpp>
#include <caf/timespan.hpp>

#include "scaf/detail/node.hpp"
#include "scaf/detail/spawn_task.hpp"
#include "scaf/task.hpp"

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
  restart_type restart = restart_type::permanent;
  /// When the supervisor stops the child: how long the child may take after
  /// its cancel before it is killed (the grace period of the scope the child
  /// runs in). Zero kills it at once (OTP's `brutal_kill`).
  caf::timespan shutdown = std::chrono::seconds{5};
};

/// What a supervisor starts: a task and how to treat it. Make one with
/// `scaf::child`.
struct child_spec {
  child_options options;
  detail::child_factory start;
};

/// Makes the spec of a child that runs the task `fun(self, xs...)` (a task
/// function as for `scope::spawn`, e.g. another `scaf::supervisor`). The
/// arguments are copied: every restart starts from them.
template <class F, class... Ts>
child_spec child(child_options opts, F fun, Ts&&... xs) {
  child_spec spec;
  spec.options = std::move(opts);
  spec.start
    = detail::make_task_factory(std::move(fun), std::forward<Ts>(xs)...);
  return spec;
}

/// How a supervisor restarts.
struct supervisor_options {
  restart_strategy strategy = restart_strategy::one_for_one;
  /// Restart intensity: more than `intensity` restarts within `period` and
  /// the supervisor gives up: it stops every child (in reverse start order)
  /// and fails with `errc::restart_limit` (OTP's defaults: 1 in 5 s).
  size_t intensity = 1;
  caf::timespan period = std::chrono::seconds{5};
  /// Delay before a restart: `backoff` for the first restart within the
  /// period, doubled for each further one, at most `max_backoff`. Zero
  /// restarts at once.
  caf::timespan backoff{0};
  caf::timespan max_backoff = std::chrono::seconds{1};
};

namespace detail {

/// `(supervisor_restart)`: a supervisor's backoff delay ended (sent to
/// itself); stale if `generation` is not the current one.
struct supervisor_restart {
  uint64_t generation;
};

/// `(child_started)`: a supervised child is up (its behavior function
/// returned); the supervisor starts the next one.
struct child_started {
  size_t index;
  uint64_t start;
};

/// The state of a supervisor task; see `scaf::supervisor`.
class supervisor_state {
public:
  /// Starts the children and returns the supervisor's behavior.
  caf::behavior start(task_base* self, supervisor_options opts,
                      std::vector<child_spec> children);

private:
  struct child_entry {
    child_spec spec;
    /// The scope the child runs in; empty while the child is not running.
    caf::actor scope;
    /// How often the child was started (its task's path element).
    uint64_t starts = 0;
    /// A temporary child that ended.
    bool gone = false;
  };

  struct exit_record {
    size_t index;
    /// Which start of the child ended.
    uint64_t start;
    caf::error reason;
  };

  void start_child(size_t i);

  void on_child_done(size_t i, uint64_t start, caf::error reason);

  void handle_exit(size_t i, caf::error reason);

  bool restart_allowed();

  caf::timespan next_backoff() const;

  void stop_then(std::vector<size_t> to_stop, std::vector<size_t> to_start);

  void stop_next();

  void start_next();

  void after_sequence();

  void shut_down(caf::error reason);

  bool busy() const noexcept;

  task_base* self_ = nullptr;
  supervisor_options options_;
  std::vector<child_entry> children_;
  /// Restart times within the current period.
  std::deque<caf::actor_clock::time_point> restarts_;
  /// Children being stopped, in order; the first one has been told.
  std::deque<size_t> stopping_;
  /// Children to start, one after another, once `stopping_` is done and the
  /// backoff passed.
  std::deque<size_t> to_start_;
  /// The child started last, until it is up.
  std::optional<size_t> starting_;
  /// Exits of other children while a restart was in progress.
  std::deque<exit_record> pending_;
  uint64_t generation_ = 0;
  bool waiting_backoff_ = false;
  /// Cancelled or given up: no more restarts; quit with `final_reason_`
  /// once every child is stopped.
  bool shutting_down_ = false;
  caf::error final_reason_;
};

} // namespace detail

/// A supervisor (Erlang/OTP): a task that starts `children` one after
/// another in order (each once the one before is up: its behavior function
/// returned, or it called `signal_started` after `defer_started`), each in a
/// scope of its own under the supervisor, and restarts them by `opts` when
/// they end. A supervisor is up once all its children are. Spawn it into a
/// scope like any task:
///
///     s.spawn({.name = "db"}, scaf::supervisor(
///       {.strategy = scaf::restart_strategy::one_for_all},
///       {scaf::child({.name = "pool"}, pool, 8),
///        scaf::child({.name = "cache", .shutdown = 0s}, cache)}));
///
/// A child's path is the supervisor's path, its name and how often it was
/// started: `root/db/pool/0`, then `root/db/pool/1` after a restart.
///
/// - Cancelling the supervisor (by its scope, or with one message from
///   anywhere: `(cancel_atom, std::string)`, `(cancel_atom, caf::error)` or
///   a `caf::exit_msg`) stops its children one at a time in reverse start
///   order, each with its own `shutdown` time, and then ends it with the
///   cancel reason. Its scope's grace period should cover the sum of those
///   times (past it, the scope aborts them all at once).
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
/// - Invalid specs (no or duplicate names, no task) end the supervisor with
///   `errc::invalid_argument` before anything starts.
inline auto supervisor(supervisor_options opts, std::vector<child_spec> children) {
  return [opts = std::move(opts), children = std::move(children)](
           stateful_task<detail::supervisor_state>* self) -> caf::behavior {
    return self->state.start(self, opts, children);
  };
}

} // namespace scaf

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::detail::supervisor_restart)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::detail::child_started)
