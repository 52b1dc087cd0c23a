#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/local_actor.hpp>
#include <caf/timespan.hpp>

#include "scaf/detail/blocking.hpp"
#include "scaf/detail/continuation.hpp"
#include "scaf/errc.hpp"

namespace scaf {

class task_base;

namespace detail {

/// Returns the next number of a process-wide sequence, starting at 1.
uint64_t next_resolution();

/// A cancel or abort asked for through a handle.
struct cancel_request {
  /// Empty for a cancel without a reason of its own.
  caf::error reason;
  bool abort = false;
};

/// The part of a handle's state that its scope knows without knowing `T`:
/// which child it belongs to (so that `handle::cancel` can reach it), and
/// the end of that child (the scope publishes the result once it has
/// stopped counting the child).
class handle_control {
public:
  virtual ~handle_control() = default;

  /// Called by the scope when it admits the child `key` (`task` is empty
  /// for a job). Returns a cancel that was asked for before, if any: the
  /// scope applies it at once.
  std::optional<cancel_request> bind(caf::actor_addr scope, caf::actor_id key,
                                     caf::actor task);

  /// Asks the child's scope to cancel (or abort) the child, and remembers it
  /// for the next `bind` (a task still on its way, or leaving the queue).
  /// Any thread.
  void request_cancel(cancel_request x);

  /// Called by the scope once the child is done and no longer counted:
  /// makes the result the task staged visible, or, if it staged none,
  /// resolves with `ended` (how the child ended; success for an empty one).
  virtual void publish(const caf::error& ended,
                       const caf::actor_addr& here) = 0;

  /// Called when the scope died: results staged from now on are published at
  /// once. Any thread.
  virtual void abandon() = 0;

  /// Returns the child's actor while it exists; empty for a job, a task not
  /// yet started, or one that is gone.
  caf::actor task() const;

protected:
  mutable std::mutex mtx_;

private:
  caf::actor_addr scope_;
  caf::actor_id key_ = 0;
  /// Weak: a handle kept after its task ended must not keep the actor (and,
  /// for a blocking task, its thread) alive.
  caf::actor_addr task_;
  std::optional<cancel_request> early_;
};

/// The shared result of a task. Resolved exactly once; safe to use from any
/// thread.
template <class T>
class handle_state final : public handle_control {
public:
  using result_type = caf::expected<T>;

  /// Stores `x` unless a result is already there; returns whether it did.
  /// Wakes blocked waiters and posts registered continuations; those of the
  /// actor `here` (the caller, resolving in its own context) run at once.
  bool resolve(result_type x, const caf::actor_addr& here = {}) {
    std::vector<continuation_target> targets;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (result_)
        return false;
      result_ = std::move(x);
      staged_.reset();
      order_ = next_resolution();
      targets.swap(targets_);
    }
    cv_.notify_all();
    for (auto& t : targets)
      t.post_or_run(here);
    return true;
  }

  /// Stores what the task produced, to be published by its scope once the
  /// scope no longer counts the task (`publish`); at once if the scope is
  /// gone. The first staged result wins.
  void stage(result_type x) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (result_ || staged_)
        return;
      if (!publish_now_) {
        staged_ = std::move(x);
        return;
      }
    }
    resolve(std::move(x));
  }

  void publish(const caf::error& ended, const caf::actor_addr& here) override {
    std::optional<result_type> x;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      publish_now_ = true;
      x.swap(staged_);
    }
    if (x)
      resolve(std::move(*x), here);
    else if (ended)
      resolve(ended, here);
    else if constexpr (std::is_void_v<T>)
      resolve(caf::unit, here);
    else
      resolve(
        make_error(errc::cancelled, "", "the task ended without a result"),
        here);
  }

  void abandon() override {
    std::optional<result_type> x;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      publish_now_ = true;
      x.swap(staged_);
    }
    if (x)
      resolve(std::move(*x));
  }

  bool ready() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return result_.has_value();
  }

  result_type wait() const {
    if (auto err = refuse_blocking("handle::wait"))
      return err;
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait(guard, [this] { return result_.has_value(); });
    return *result_;
  }

  std::optional<result_type> wait_for(caf::timespan timeout) const {
    if (auto err = refuse_blocking("handle::wait_for"))
      return result_type{std::move(err)};
    std::unique_lock<std::mutex> guard{mtx_};
    if (!cv_.wait_for(guard, timeout, [this] { return result_.has_value(); }))
      return std::nullopt;
    return *result_;
  }

  /// Returns a process-wide sequence number of the resolution (for "which
  /// finished first"); 0 while unresolved.
  uint64_t order() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return order_;
  }

  /// Returns the result; only valid once resolved.
  result_type get() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return *result_;
  }

  /// Posts `target` when resolved (at once if already resolved).
  void on_resolved(continuation_target target) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (!result_) {
        targets_.push_back(std::move(target));
        return;
      }
    }
    target.post();
  }

private:
  mutable std::condition_variable cv_;
  std::optional<result_type> result_;
  /// What the task produced, until its scope publishes it.
  std::optional<result_type> staged_;
  bool publish_now_ = false;
  uint64_t order_ = 0;
  std::vector<continuation_target> targets_;
};

} // namespace detail

/// The result of a task. It resolves exactly once.
///
/// - A function or blocking task (`scope::spawn_fn`, `spawn_cancellable`,
///   `spawn_blocking`) resolves it with its value; with `errc::cancelled` if
///   it was cancelled before it produced one, killed, or failed (its error
///   goes to the scope, which reports it once, as zksync's scopes do); with
///   its fallback (`spawn_cancellable`) as soon as it is cancelled; with
///   `errc::scope_closed` if the scope refused it.
/// - A behavior task (`scope::handle_of`, `scope_ref::spawn`) resolves it
///   when it ends: with success, its failure, or its cancel reason (an
///   `errc::cancelled` error, also when its scope killed it).
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

  /// @private
  explicit handle(std::shared_ptr<detail::handle_state<T>> state)
    : state_(std::move(state)) {
    // nop
  }

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
  /// includes `scaf::continuation_handler()`. `f` runs at most once; not at
  /// all if `self` is gone by then.
  template <class F>
  void then(caf::local_actor* self, F f) const {
    auto state = state_;
    state_->on_resolved(detail::continuation_target::make(
      self->address(),
      [state, f = std::move(f)]() mutable { f(state->get()); }));
  }

  /// @private Resolves `to` with this handle's result once there, on the
  /// thread that resolves this one (at once if it is resolved).
  void forward_to(std::shared_ptr<detail::handle_state<T>> to) const {
    auto from = state_;
    from->on_resolved(detail::continuation_target::make(
      {}, [from, to = std::move(to)] { to->resolve(from->get()); }));
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
  /// Not a failure of its scope. The handle resolves with `errc::cancelled`,
  /// with the task's value if it produced one first, or with the fallback of
  /// a cancellable task. An empty `reason` means "cancelled through its
  /// handle"; one that is not an `errc::cancelled` error becomes the cause
  /// of one (see `cancel_cause`). Nothing happens once the task is done.
  void cancel(caf::error reason = {}) const {
    state_->request_cancel({std::move(reason), false});
  }

  /// Aborts this one task at once, from any thread: an actor task is killed
  /// without running its cancel handler, a blocking task asked to stop and
  /// waited for, a job that has not started never runs. Not a failure of
  /// its scope; the handle resolves as for `cancel`.
  void abort() const {
    state_->request_cancel({{}, true});
  }

private:
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
  /// @private
  explicit ready_signal(std::shared_ptr<detail::handle_state<V>> state)
    : state_(std::move(state)) {
    // nop
  }

  /// Resolves the spawner's handle with `V(value...)` (nothing for `void`).
  template <class... Us>
  void operator()(Us&&... value) const {
    if constexpr (std::is_void_v<V>)
      state_->resolve(caf::unit);
    else
      state_->resolve(V(std::forward<Us>(value)...));
  }

private:
  std::shared_ptr<detail::handle_state<V>> state_;
};

} // namespace scaf
