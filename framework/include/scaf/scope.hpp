#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>

#include "scaf/detail/body.hpp"
#include "scaf/detail/child_record.hpp"
#include "scaf/detail/function_task.hpp"
#include "scaf/detail/job.hpp"
#include "scaf/detail/node.hpp"
#include "scaf/detail/scope_event.hpp"
#include "scaf/detail/spawn_task.hpp"
#include "scaf/handle.hpp"
#include "scaf/scope_options.hpp"

namespace scaf {

/// A scope: a supervisor actor whose only job is to own its children (tasks
/// and nested scopes) and to finish only after every one of them is done.
/// Tasks come in three kinds: actor behaviors (`spawn`), functions run once
/// (`spawn_fn`, `spawn_cancellable`) and blocking functions on a thread of
/// their own (`spawn_blocking`); the last two return a `handle`.
///
/// `scope` is the state of the scope actor, so all its member functions run
/// in that actor's context: inside the body passed to `scaf::run`,
/// `scaf::spawn_scope`, `task_base::open_scope` or `scope::spawn_scope`. Other
/// actors talk to a scope through its handle with the messages of
/// `scaf/atoms.hpp` (cancel, abort, close, join, spawn) or `caf::exit_msg`.
///
/// Life of a scope: it runs its body, accepts children, and
/// - finishes once it is joined (automatically after the body for `run` and
///   nested scopes) and its main children are done; background children are
///   then cancelled and waited for;
/// - when cancelled (by its owner, by an error under the errgroup policy, or
///   by anyone with its handle) it sends cancel to every child, gives them its
///   grace period, then kills tasks and aborts nested scopes that are left;
///   children spawned while it is cancelled start cancelled;
/// - reports done (terminates, so monitors fire) only after every child has
///   reported done. Its exit reason is its result: empty on success, else the
///   first error or the cancel reason. Later failures are kept as suppressed.
///
/// A scope kills a child only after the grace period or on abort (a blocking
/// task never: it is waited for as a straggler), and never reports done
/// early.
/// Killing a scope actor with `exit_reason::kill` bypasses all of this (its
/// children are then killed after it): use `abort_atom` instead.
class scope {
public:
  using actor_type = caf::stateful_actor<scope>;

  // -- constructors, destructors, and assignment operators -------------------

  explicit scope(actor_type* self);

  scope(const scope&) = delete;
  scope& operator=(const scope&) = delete;

  /// Kills the children still alive: only happens when the scope actor
  /// itself died abnormally (an exception in scaf or a kill).
  ~scope();

  // -- spawning ---------------------------------------------------------------

  /// Spawns the task `fun(self, xs...)` as a main child. Fails with
  /// `errc::scope_closed`, running nothing, if the scope is closed or done.
  template <class F, class... Ts>
    requires(!std::is_same_v<std::decay_t<F>, spawn_options>)
  caf::expected<caf::actor> spawn(F fun, Ts&&... xs) {
    return spawn(spawn_options{}, std::move(fun), std::forward<Ts>(xs)...);
  }

  /// Spawns the task `fun(self, xs...)` with the given name and kind.
  template <class F, class... Ts>
  caf::expected<caf::actor> spawn(const spawn_options& opts, F fun,
                                  Ts&&... xs);

  /// Spawns the task `fun(self, xs...)` as a background child.
  template <class F, class... Ts>
  caf::expected<caf::actor> spawn_bg(F fun, Ts&&... xs);

  /// Spawns a function task: `f()` (or `f(task_base*)`, to check
  /// `is_cancelled()`) runs once on CAF's scheduler and returns `T`,
  /// `caf::expected<T>` or `void`. The handle resolves with the value, or
  /// with `errc::cancelled` if the task failed (its error goes to this
  /// scope), was cancelled before it ran, or was killed. A refused spawn
  /// (closed scope) resolves it with `errc::scope_closed`.
  ///
  /// `f()` runs as a plain job on the scheduler, not as an actor: it cannot
  /// be killed while it runs, so past the grace period it is reported as a
  /// straggler and waited for, and its handle's `task()` is empty.
  /// `f(task_base*)` runs in a task actor of its own.
  template <class F>
  handle<detail::fn_value_t<F>> spawn_fn(const spawn_options& opts, F f);

  template <class F>
  handle<detail::fn_value_t<F>> spawn_fn(F f) {
    return spawn_fn(spawn_options{}, std::move(f));
  }

  /// Spawns a function task that yields `fallback` instead of
  /// `errc::cancelled` if it is cancelled (before it runs, or by returning
  /// after seeing `is_cancelled()`); uncancelled, it yields its own value.
  template <class T, class F>
  handle<detail::fn_value_t<F>> spawn_cancellable(const spawn_options& opts,
                                                  T fallback, F f);

  template <class T, class F>
  handle<detail::fn_value_t<F>> spawn_cancellable(T fallback, F f) {
    return spawn_cancellable(spawn_options{}, std::move(fallback),
                             std::move(f));
  }

  /// Spawns a blocking task: `f(std::stop_token)` runs on a thread of its own
  /// (a detached actor). Cancel requests stop on the token. A blocking task
  /// cannot be killed: past the grace period the scope logs it as a
  /// straggler (`scope_report::stragglers`) and keeps waiting for it.
  template <class F>
  handle<detail::fn_value_t<F>> spawn_blocking(const spawn_options& opts,
                                               F f);

  template <class F>
  handle<detail::fn_value_t<F>> spawn_blocking(F f) {
    return spawn_blocking(spawn_options{}, std::move(f));
  }

  /// Spawns the task `fun(self, ready, xs...)` and returns a handle that
  /// resolves when the task calls `ready(value)` (Trio's `nursery.start`),
  /// e.g. once a server is listening. If the task ends before that, the
  /// handle resolves with its exit reason (its error, which the scope also
  /// sees), or with `errc::cancelled` if it ended without error. Continue
  /// with `handle::then(s.self(), ...)` or, from a plain thread, `wait`.
  template <class V, class F, class... Ts>
  handle<V> start(const spawn_options& opts, F fun, Ts&&... xs);

  /// Opens a nested scope as a child of this one and runs `body(scope&)` in
  /// it. The child scope's result (its first error) counts as the result of
  /// that child; its value, if any, is discarded.
  template <class F>
  caf::expected<caf::actor> spawn_scope(scope_options opts, F body,
                                        bool background = false);

  /// Handles a `spawn_request` from another actor. @private
  caf::expected<caf::actor> spawn_requested(detail::spawn_request& req);

  // -- lifecycle --------------------------------------------------------------

  /// Cancels the scope cooperatively; `why` ends up in the result.
  void cancel(std::string why);

  /// Cancels the scope with `reason` as its result (if it has none yet).
  void cancel(caf::error reason);

  /// Cancels the scope and forces its children at once: tasks are killed
  /// without running their cancel handlers, nested scopes aborted. The scope
  /// accepts no new children.
  void abort();

  /// The scope accepts no new children and finishes when its main children
  /// are done.
  void close();

  /// The scope finishes when its main children are done; until then it still
  /// accepts children.
  void join();

  /// Fails the scope with `reason` as if a child had failed with it.
  void fail(caf::error reason);

  /// Fails the scope with `errc::timeout` (cancelling everything in it) if it
  /// has not finished within `timeout` (Trio's `fail_after`).
  void fail_after(caf::timespan timeout);

  /// Cancels the scope without failing it if it has not finished within
  /// `timeout`: it succeeds with what finished (Trio's `move_on_after`).
  /// Return `collect_settled(...)` to get each task's outcome.
  void move_on_after(caf::timespan timeout);

  /// Lets at most `n` function and blocking tasks of this scope run at once
  /// (Go's `errgroup.SetLimit`); further `spawn_fn`, `spawn_cancellable` and
  /// `spawn_blocking` calls queue their task and return its handle at once
  /// (its `task()` stays empty). Behavior tasks and nested scopes are not
  /// limited. Queued tasks start in spawn order as running ones finish; if the
  /// scope is cancelled first, they never run and their handles resolve with
  /// the cancel reason. Fails with `errc::invalid_argument` for `n == 0`.
  caf::error set_limit(size_t n);

  /// Like `spawn_fn`, but says no instead of queueing when the limit is
  /// reached: fails with `errc::limit_reached` (counted as rejected).
  template <class F>
  caf::expected<handle<detail::fn_value_t<F>>>
  try_spawn_fn(const spawn_options& opts, F f);

  template <class F>
  caf::expected<handle<detail::fn_value_t<F>>> try_spawn_fn(F f) {
    return try_spawn_fn(spawn_options{}, std::move(f));
  }

  /// Returns the counts of limited tasks (see `set_limit`).
  limit_counts counts() const noexcept {
    return {queued_.size(), limited_running_, rejected_};
  }

  /// Runs `f` in the scope's context as soon as the scope has no live
  /// children and no queued tasks (at once if that is already so): fuchsia's
  /// "wait until no tasks". Fires once per call.
  void on_no_tasks(std::function<void()> f);

  /// Sets the grace period for cancels from now on.
  void set_grace(caf::timespan grace);

  // -- properties -------------------------------------------------------------

  /// Returns the path from the root, e.g. `"root/db"`.
  const std::string& path() const noexcept {
    return path_;
  }

  caf::timespan grace() const noexcept;

  /// Returns whether the scope has been cancelled (or aborted).
  bool is_cancelled() const noexcept {
    return cancelled_;
  }

  /// Returns whether the scope refuses new children.
  bool is_closed() const noexcept {
    return closed_;
  }

  /// Returns the number of live children (scopes opened by child tasks and
  /// function tasks running as jobs included).
  size_t running() const noexcept {
    return children_.size() + jobs_live_;
  }

  /// Returns the scope actor.
  actor_type* self() const noexcept {
    return self_;
  }

  /// Starts the scope. @private
  caf::behavior start(detail::scope_config cfg);

private:
  using child = detail::scope_child;

  void record_outcome(std::string path, const caf::error& reason,
                      bool forced, bool unkillable, detail::outcomes nested);

  template <caf::spawn_options Os, class F, class... Ts>
  caf::expected<caf::actor>
  spawn_task_impl(const spawn_options& opts,
                  std::shared_ptr<std::stop_source> stop, F fun, Ts&&... xs);

  template <caf::spawn_options Os, class F, class T = detail::fn_value_t<F>>
  handle<T> spawn_function(const spawn_options& opts, F f,
                           detail::fallback_t<T> fallback,
                           std::shared_ptr<std::stop_source> stop);

  const std::shared_ptr<detail::job_cancel_state>& job_cancel_state();

  void launch(detail::job_ptr j, bool background, bool limited);

  void on_job_done(const detail::job_ptr& j);

  void force_jobs(uint64_t generation, const char* why);

  using queued_task = detail::queued_task;

  void enqueue(bool background, std::function<void()> start,
               std::function<void(const caf::error&)> drop);

  void mark_limited(const caf::actor& hdl);

  void start_queued();

  void drop_queued(const caf::error& why);

  void notify_no_tasks();

  caf::error check_open() const;

  std::string child_name(const spawn_options& opts) const;

  detail::node_context make_context(const std::string& name) const;

  caf::expected<caf::actor>
  add_child(caf::actor hdl, std::string name, bool background, bool is_scope,
            std::shared_ptr<std::stop_source> stop = nullptr);

  caf::expected<caf::actor> spawn_scope_impl(scope_options opts,
                                             std::function<void(scope&)> body,
                                             bool background);

  void adopt(caf::actor nested);

  void on_detach(const caf::actor& nested);

  void on_event(detail::cancel_event& x);
  void on_event(detail::adopt_event& x);
  void on_event(detail::detach_event& x);
  void on_event(detail::report_event& x);
  void on_event(detail::grace_event& x);
  void on_event(detail::deadline_event& x);
  void on_event(detail::job_done_event& x);

  void on_child_down(caf::down_msg& msg);

  void settle(std::string_view name, caf::error reason);

  void log_straggler_done(std::string_view name,
                          caf::actor_clock::time_point forced_at);

  void record_failure(const std::string& origin, caf::error reason);

  void cancel_impl(caf::error reason, bool sets_result);

  void send_cancel(child& c, uint64_t generation);

  void arm_grace_timer();

  caf::actor_clock::time_point force_deadline() const;

  void on_grace_expired(uint64_t generation);

  void on_deadline(bool fail, caf::timespan timeout);

  template <class Predicate>
  void force_children(Predicate pred, const char* why);

  void force(child& c, const char* why);

  void kill(child& c, const char* why);

  template <class F>
  void run_user_code(F& f);

  void check_progress();

  void finish();

  actor_type* self_;
  scope_options options_;
  std::string path_;
  std::shared_ptr<scope_report> report_;
  caf::actor_addr parent_;
  bool report_to_parent_ = false;
  caf::actor keep_alive_;
  std::unordered_map<caf::actor_id, child> children_;
  /// Live function tasks running as jobs, in spawn order; the list holds a
  /// reference to each.
  detail::job* jobs_head_ = nullptr;
  detail::job* jobs_tail_ = nullptr;
  size_t jobs_live_ = 0;
  std::shared_ptr<detail::job_cancel_state> job_cancel_;
  scope_report outcome_;
  caf::error cancel_reason_;
  /// Set when the parent scope cancelled this one: when the parent forces it
  /// at the latest (and with it every child).
  std::optional<caf::actor_clock::time_point> covered_until_;
  uint64_t next_seq_ = 0;
  uint64_t grace_generation_ = 0;
  size_t main_running_ = 0;
  size_t limit_ = 0;
  size_t limited_running_ = 0;
  size_t rejected_ = 0;
  // A list, not a deque: libstdc++'s deque allocates about 600 bytes when
  // default-constructed, and most scopes never queue anything.
  std::list<queued_task> queued_;
  std::vector<std::function<void()>> no_tasks_waiters_;
  bool in_body_ = false;
  bool race_won_ = false;
  bool joined_ = false;
  bool cancelled_ = false;
  bool aborting_ = false;
  bool closed_ = false;
  bool finished_ = false;
};

} // namespace scaf

#include "scaf/detail/scope_impl.hpp"
