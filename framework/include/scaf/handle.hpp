#pragma once

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/local_actor.hpp>
#include <caf/timespan.hpp>

#include "scaf/detail/continuation.hpp"
#include "scaf/detail/handle_state.hpp"
#include "scaf/errc.hpp"

namespace scaf {

/// The result of a task. It resolves exactly once, in one of four ways:
/// with the task's value, with a failure, with `errc::cancelled` (the task
/// stopped on a cancel, or never ran) or with `errc::killed` (its scope
/// forced it: an abort, a grace period overstayed, a cancel with a grace of
/// zero). `scaf::is_stopped` is true for the last two.
///
/// - A function or blocking task (`scope::spawn_fn`, `spawn_cancellable`,
///   `spawn_blocking`) resolves it with its value; with `errc::cancelled` if
///   it was cancelled before it produced one, or failed (its error goes to
///   the scope, which reports it once, as zksync's scopes do); with
///   `errc::killed` if its scope killed it; with its fallback
///   (`spawn_cancellable`) as soon as it is cancelled; with
///   `errc::scope_closed` if the scope refused it.
/// - A behavior task (`scope::handle_of`, `scope_ref::spawn`) resolves it
///   when it ends: with success, its failure, its cancel reason (an
///   `errc::cancelled` error), or `errc::killed` if its scope killed it.
/// - A task started with `scope::start` resolves it once it is ready or up;
///   if it ends first, with its own exit reason (its error, which the scope
///   reports too), or with `errc::cancelled` if it ended without one.
///
/// Counts and handles agree: a task's handle resolves only once its scope no
/// longer counts it (`scope::children`), so whoever saw the handle resolve
/// never sees the task still counted. A cancellable task's fallback is the
/// exception: it resolves the handle when the cancel arrives, while the
/// scope still waits for the function.
///
/// A handle is a cheap shared reference, safe to copy and to use from any
/// thread. `wait` blocks: call it from plain threads (or blocking tasks),
/// never from an actor: on a CAF scheduler thread it fails at once with
/// `errc::would_deadlock`. Inside an actor, use `then`.
template <class T>
class handle {
public:
  /// What the task returns.
  using value_type = T;

  /// A handle of no task: `valid()` is false.
  handle() = default;

  /// Returns whether the handle refers to a task.
  explicit operator bool() const noexcept {
    return state_ != nullptr;
  }

  /// Returns whether the result is there. This and the calls below need a
  /// handle that refers to a task (`operator bool`); a default-constructed
  /// one refers to none.
  bool ready() const {
    return state_->ready();
  }

  /// Blocks until the result is there and returns it.
  caf::expected<T> wait() const {
    return state_->wait();
  }

  /// Blocks at most `timeout`; returns nothing if the result is not there.
  std::optional<caf::expected<T>> wait_for(caf::timespan timeout) const {
    return state_->wait_for(timeout);
  }

  /// Returns the result; the handle must be `ready()`.
  caf::expected<T> get() const {
    return state_->get();
  }

  /// Runs `f(caf::expected<T>)` in the context of `self` once the result is
  /// there, without blocking (a continuation). `self` is a scaf task or
  /// scope actor (`scope::self()`), or a plain CAF actor whose behavior
  /// includes `scaf::continuation_handler()`. The handle keeps `self` alive
  /// until then, as a pending CAF request keeps its sender: an actor that
  /// nobody else holds still runs `f`. `f` runs at most once; not at all if
  /// `self` has terminated by then.
  template <class F>
  void then(caf::local_actor* self, F f) const {
    auto state = state_;
    state_->on_resolved(detail::continuation_target::make(
      caf::actor_cast<caf::strong_actor_ptr>(self),
      [state, f = std::move(f)]() mutable { f(state->get()); }));
  }

  /// Returns when the handle resolved relative to other handles (larger is
  /// later); 0 while unresolved.
  uint64_t resolution_order() const {
    return state_->order();
  }

  /// Returns the task's actor; empty while the task has not started (it is
  /// queued, or was spawned through a `scope_ref` and the scope has not
  /// spawned it yet), for a function task run as a job, and once the actor
  /// is gone: a handle does not keep its task's actor (or a blocking task's
  /// thread) alive.
  caf::actor task() const {
    return state_->task();
  }

  /// Cancels this one task, from any thread: it hears `reason` (its cancel
  /// handler, stop token or `is_cancelled`), gets its grace period, then is
  /// forced; a queued task is cancelled once its turn comes and never runs.
  /// Not a failure of its scope. The handle resolves with `errc::cancelled`
  /// (`errc::killed` if it had to be forced), with the task's value if it
  /// produced one first, or with the fallback of a cancellable task. An empty
  /// `reason` means "cancelled through its handle"; one that is not an
  /// `errc::cancelled` error becomes the cause of one (see `cancel_cause`).
  /// Nothing happens once the task is done.
  void cancel(caf::error reason = {}) const {
    state_->request_cancel({std::move(reason), false});
  }

  /// Aborts this one task at once, from any thread: an actor task is killed
  /// without running its cancel handler, a blocking task asked to stop and
  /// waited for, a job that has not started never runs. Not a failure of
  /// its scope; the handle resolves with `errc::killed` (a task that could
  /// not be stopped: its value or `errc::cancelled`).
  void abort() const {
    state_->request_cancel({{}, true});
  }

private:
  friend struct detail::handle_access;

  explicit handle(std::shared_ptr<detail::handle_state<T>> state)
    : state_(std::move(state)) {
    // nop
  }

  std::shared_ptr<detail::handle_state<T>> state_;
};

/// Returns the message handler that runs the continuations `handle::then`
/// posts to an actor. Add it to the behavior of a plain CAF actor that calls
/// `then`: `return {..., scaf::continuation_handler()};`. scaf tasks and
/// scopes have it already.
inline auto continuation_handler() {
  return [](detail::continuation& k) { k.fn(); };
}

/// What a task started with `scope::start` calls once it is ready; resolves
/// the spawner's handle with `value`. Calls after the first are ignored.
template <class V>
class ready_signal {
public:
  /// Resolves the spawner's handle with `V(value...)` (nothing for `void`).
  template <class... Us>
  void operator()(Us&&... value) const {
    if constexpr (std::is_void_v<V>)
      state_->resolve(caf::unit);
    else
      state_->resolve(V(std::forward<Us>(value)...));
  }

private:
  friend struct detail::handle_access;

  explicit ready_signal(std::shared_ptr<detail::handle_state<V>> state)
    : state_(std::move(state)) {
    // nop
  }

  std::shared_ptr<detail::handle_state<V>> state_;
};

/// What a behavior task spawned with `scope::spawn_with_result<R>` calls with
/// its value: `result(value)` keeps it, and the task's handle resolves with
/// it once the task has ended and its scope no longer counts it, however
/// the task ends (a value produced is never discarded by a cancel). A task
/// that ends without one resolves its handle as it ended: with its failure,
/// its cancel reason, `errc::killed`, or `errc::cancelled` ("ended without a
/// result") when it quit normally. Calls after the first are ignored.
template <class R>
class task_result {
public:
  /// Keeps `R(value...)` as the task's value.
  template <class... Us>
  void operator()(Us&&... value) const {
    state_->stage(R(std::forward<Us>(value)...));
  }

private:
  friend struct detail::handle_access;

  explicit task_result(std::shared_ptr<detail::handle_state<R>> state)
    : state_(std::move(state)) {
    // nop
  }

  std::shared_ptr<detail::handle_state<R>> state_;
};

} // namespace scaf
