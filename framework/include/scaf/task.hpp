#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/message.hpp>
#include <caf/stateful_actor.hpp>

#include "scaf/detail/body.hpp"
#include "scaf/detail/node.hpp"
#include "scaf/detail/task_core.hpp"
#include "scaf/errc.hpp"
#include "scaf/scope_options.hpp"

namespace scaf {

/// The actor class of every scaf task: an event-based actor that knows its
/// scope, hears cancel, and can open scopes of its own.
///
/// A task is written as a function returning `caf::behavior` whose first
/// parameter is `scaf::task_actor*` (or `scaf::stateful_task<State>*` for a
/// task with state of its own) and spawned into a scope with `scope::spawn`.
/// Quitting normally is success, quitting with an error is failure, and an
/// exception escaping a handler fails the task with `errc::task_exception`
/// carrying its `what()`.
///
/// Cancel: a scope cancels a task by sending it a `caf::exit_msg` (at high
/// priority) whose reason is an `errc::cancelled` error. The task then cancels
/// the scopes it opened and runs its cancel handler. A task without a handler
/// quits at once with the cancel reason. A task with one runs on after the
/// handler returned, until it quits (typically `self->quit(reason)`, at once
/// in the handler or once its cleanup is done): past its grace period its
/// scope kills it, and the report names it as killed.
///
/// A task's own exit, down, default and exception handlers (CAF's
/// `set_*_handler`, called on the task) run after scaf's, never instead of
/// them; `on_cancel` and `on_down` are scaf's words for the first two. All
/// member functions must be called from the task's own context.
///
/// A task may also be a class: derive from `task_base` instead of
/// `caf::event_based_actor` and spawn it as `scaf::task_class<Impl>`.
class task_base : public caf::event_based_actor {
public:
  /// CAF's event-based actor, which a task is.
  using super = caf::event_based_actor;

  // -- constructors, destructors, and assignment operators -------------------

  /// Called by CAF's spawn (through `scope::spawn`), never by users.
  explicit task_base(caf::actor_config& cfg);

  ~task_base() override;

  // -- cancellation -----------------------------------------------------------

  /// Installs the handler that runs when the task is cancelled. It receives
  /// the cancel reason (an `errc::cancelled` error naming the origin). The
  /// handler decides when the task ends: it calls `quit(reason)` now, or
  /// once its cleanup is done; a task that has not quit within its grace
  /// period is killed.
  void on_cancel(std::function<void(const caf::error&)> handler);

  /// Installs the handler that runs when the task's scope forces it, for a
  /// task spawned with `spawn_options::stand_in` (others are killed, and
  /// never see it). It receives an `errc::killed` error naming why (an
  /// abort, the grace period over); the task passes the force on to the work
  /// it stands for and quits once that is gone, with the error or with how
  /// the work ended. Its scope waits for it. Runs once; a second force ends
  /// the task with the error.
  void on_force(std::function<void(const caf::error&)> handler);

  /// Returns whether the task has been cancelled. A cheap check for long
  /// computations; inside `f(task_base*)` it turns true while `f` runs.
  bool is_cancelled() const noexcept;

  /// Returns the reason of the cancel, or an empty error.
  const caf::error& cancel_reason() const noexcept;

  /// A cancellation point for long computations (task_scope's `cancelable`,
  /// Kotlin's `yield`): lets the task's mailbox run, so that a pending cancel
  /// (an urgent message) is handled, then runs `next`, unless the task has
  /// been cancelled by then. Split a long loop into steps that each end in
  /// `yield`.
  void yield(std::function<void()> next);

  // -- termination ------------------------------------------------------------

  /// Ends the task with `reason` (empty for success). If scopes the task
  /// opened are still running, they are cancelled first and the task
  /// terminates only after all of them are done, so its done signal always
  /// follows theirs. Shadows `caf::scheduled_actor::quit`, which is not
  /// virtual in CAF 0.17: code that calls CAF's `quit` through a plain
  /// `caf::event_based_actor*` ends the task at once; its open scopes are
  /// then aborted and still waited for by the task's scope, but the task's
  /// done comes before theirs.
  void quit(caf::error reason = caf::error{});

  // -- properties -------------------------------------------------------------

  /// Returns the task's path from the root scope, e.g. `"root/db/3"`.
  std::string path() const;

  /// Returns the scope that spawned this task (empty for a task spawned
  /// outside any scope).
  const caf::actor_addr& parent_scope() const noexcept;

  /// Called from the task's behavior function: the task is not "up" when that
  /// function returns, but when it calls `signal_started()`. A supervisor
  /// that starts this task waits for that before it starts the next child
  /// (a nested `scaf::supervisor` is up once all its children are).
  void defer_started();

  /// Tells whoever started this task that it is up (see `defer_started`),
  /// with `info` for a `scope::start_with_info` (OTP's `{ok, Pid, Info}`);
  /// calls after the first do nothing.
  void signal_started(caf::message info = {});

  /// Ends the task at once, without an error, before it is up: it declines
  /// to start (OTP's `ignore`). A supervisor records the child as stopped
  /// and does not restart it (a pool forgets the worker); a start call
  /// resolves with an empty actor. Once the task is up there is nothing to
  /// decline: it fails with `errc::invalid_argument`.
  void decline_start();

  /// Installs a handler for down messages of actors the task monitors itself
  /// (scaf consumes those of the scopes the task opened).
  void on_down(std::function<void(caf::down_msg&)> handler);

  // -- CAF's handlers ---------------------------------------------------------

  // scaf installs a task's exit, down, default and exception handlers. These
  // shadow CAF's setters (which are not virtual in CAF 0.17, like `quit`):
  // a handler installed on a task runs after scaf's, never instead of it.
  // Through a plain `caf::scheduled_actor*`, CAF's setter would replace
  // scaf's handler: a task's cancel, continuations or nested scopes would
  // then go unheard.

  /// Installs a handler for messages that no behavior matches, in any form
  /// CAF's `set_default_handler` takes. scaf's own messages (continuations
  /// of `handle::then`, `yield` steps) never reach it.
  template <class... Ts>
  void set_default_handler(Ts&&... xs) {
    super::set_default_handler(std::forward<Ts>(xs)...);
    adopt_handler(handler_slot::fallback);
  }

  /// Installs a handler for down messages of actors the task monitors
  /// itself, in any form CAF's `set_down_handler` takes: `on_down` by
  /// another name (if both are installed, `on_down` runs).
  template <class... Ts>
  void set_down_handler(Ts&&... xs) {
    super::set_down_handler(std::forward<Ts>(xs)...);
    adopt_handler(handler_slot::down);
  }

  /// Installs a handler for exit messages that are not scaf's (from actors
  /// the task linked to itself), in any form CAF's `set_exit_handler`
  /// takes. A cancel or force from the task's scope (an exit from it, or
  /// one whose reason is `errc::cancelled` or `errc::killed`) still goes to
  /// `on_cancel` and `on_force`. Without this handler, a link's exit with a
  /// reason cancels the task with that reason.
  template <class... Ts>
  void set_exit_handler(Ts&&... xs) {
    super::set_exit_handler(std::forward<Ts>(xs)...);
    adopt_handler(handler_slot::exit);
  }

  /// Installs a handler that turns an exception escaping the task's code
  /// into the error the task ends with, in any form CAF's
  /// `set_exception_handler` takes. Without it, the task fails with
  /// `errc::task_exception` carrying the exception's `what()`.
  template <class... Ts>
  void set_exception_handler(Ts&&... xs) {
    super::set_exception_handler(std::forward<Ts>(xs)...);
    adopt_handler(handler_slot::exception);
  }

  // -- nested scopes ----------------------------------------------------------

  /// Opens a scope supervised by this task and runs `body(scope&)` inside it.
  /// When the scope is done, `on_done` receives its result as
  /// `caf::expected<T>`: the body's value or the first error. The task does
  /// not report done before the scope does. If the task is already cancelled,
  /// the scope starts cancelled. Returns the scope's handle.
  template <class F, class OnDone>
  caf::actor open_scope(scope_options opts, F body, OnDone on_done) {
    using raw_type = detail::body_raw_t<F>;
    auto slot = std::make_shared<detail::value_slot<raw_type>>();
    auto report = std::make_shared<scope_report>();
    auto body_fn = detail::make_body(std::move(body), slot);
    auto notify = [slot, report, f = std::move(on_done)](const caf::error&) {
      f(detail::make_result(*report, *slot));
    };
    return open_scope_impl(std::move(opts), std::move(body_fn),
                           std::move(report), std::move(notify));
  }

  /// Opens a scope like the overload above; if the scope fails (an error
  /// that is not a stop, see `is_stopped`), the task quits with that error.
  template <class F>
  caf::actor open_scope(scope_options opts, F body) {
    return open_scope(std::move(opts), std::move(body),
                      [this](const auto& result) {
                        if (!result && !is_stopped(result.error()))
                          quit(result.error());
                      });
  }

  /// Detaches `nested`, a scope this task opened: the task may quit without
  /// cancelling it, and the scope that supervises this task supervises it
  /// from now on (waits for it, cancels it when cancelled). Fails with
  /// `errc::invalid_argument` if `nested` is not a scope this task opened or
  /// the task has no scope to hand it to.
  caf::error detach(const caf::actor& nested);

private:
  friend struct detail::task_access;

  void join_scope(detail::node_context&& ctx);

  /// The handlers of CAF's that scaf installs on a task.
  enum class handler_slot { exit, down, fallback, exception };

  /// Moves the handler that a `set_*_handler` call just installed in `slot`
  /// into the task's bookkeeping, and puts scaf's back.
  void adopt_handler(handler_slot slot);

  /// Installs scaf's handler in `slot`.
  void install_handler(handler_slot slot);

  /// Called once the behavior function returned.
  void behavior_ready();

  void fail_with_exception(std::exception_ptr eptr);

  /// Makes `is_cancelled` and `cancel_reason` also read `stop`, which must
  /// outlive the task.
  void watch_stop(const detail::stop_signal* stop) noexcept;

  caf::actor open_scope_impl(scope_options opts,
                             std::function<void(scope&)> body,
                             std::shared_ptr<scope_report> report,
                             std::function<void(const caf::error&)> on_done);

  void cancel(caf::error reason);

  /// Runs the force handler of a stand-in, or quits with `reason`.
  void force(caf::error reason);

  void handle_down(caf::down_msg& msg);

  /// Hands `failure` to the task's scope as a suppressed error.
  void suppress(caf::error failure);

  /// Whether `quit` (CAF's or ours) has been called.
  bool has_quit() const noexcept;

  detail::task_core* core_ = nullptr;
  /// The task's own CAF handlers, if it installed any.
  std::unique_ptr<detail::own_handlers> own_;
  /// Its path; in the actor rather than its state, so that the busy watch
  /// can name a task whose state is going (`watched_path`).
  detail::node_path path_;
  /// Set once `path_` is written; the busy watch reads it from its thread.
  std::atomic<bool> has_path_{false};
};

namespace detail {

/// Reaches what `task_base` keeps private: for scaf's own code.
struct task_access {
  static void join_scope(task_base& t, node_context&& ctx) {
    t.join_scope(std::move(ctx));
  }

  static void behavior_ready(task_base& t) {
    t.behavior_ready();
  }

  static void fail_with_exception(task_base& t, std::exception_ptr eptr) {
    t.fail_with_exception(std::move(eptr));
  }

  static void watch_stop(task_base& t, const stop_signal* stop) noexcept {
    t.watch_stop(stop);
  }

  static void bind(task_base& t, task_core* core) noexcept {
    t.core_ = core;
  }

  static const node_path& path(const task_base& t) noexcept {
    return t.path_;
  }

  /// The task's path, read from another thread while the task runs (the
  /// busy watch); empty before the task has started.
  static std::string watched_path(const task_base& t) {
    return t.has_path_.load(std::memory_order_acquire) ? t.path_.str()
                                                       : std::string{};
  }
};

} // namespace detail

/// A task with state of its own: `self->state` is a `State` (with scaf's
/// bookkeeping in a private base). `State` is constructed from the actor
/// pointer if it has such a constructor. It is destroyed before the task's
/// done signal, so resources belong there.
template <class State>
using stateful_task = caf::stateful_actor<detail::task_state<State>, task_base>;

/// A task without state of its own.
using task_actor = stateful_task<detail::no_state>;

/// Names a class-based task where a task function goes (`scope::spawn`,
/// `task_factory`, a supervisor's child spec): `Impl` derives from
/// `scaf::task_base` instead of `caf::event_based_actor`, takes
/// `caf::actor_config&` first in its constructor (the spawn's arguments
/// follow) and overrides `make_behavior()`. It is a task like any other;
/// `spawn<Impl>(xs...)` is the short form.
template <class Impl>
struct task_class_t {};

/// The value of `task_class_t<Impl>`.
template <class Impl>
inline constexpr task_class_t<Impl> task_class{};

/// @cond internal
template <class State>
template <class Self>
void detail::task_state<State>::bind(Self* ptr) {
  detail::task_access::bind(*ptr, this);
}
/// @endcond

} // namespace scaf
