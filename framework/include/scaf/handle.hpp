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

#include "scaf/detail/continuation.hpp"
#include "scaf/errc.hpp"

namespace scaf {

class task_base;

namespace detail {

/// Returns the next number of a process-wide sequence, starting at 1.
uint64_t next_resolution();

/// The shared result of a function or blocking task. Resolved exactly once;
/// safe to use from any thread.
template <class T>
class handle_state {
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
      order_ = next_resolution();
      targets.swap(targets_);
    }
    cv_.notify_all();
    for (auto& t : targets)
      t.post_or_run(here);
    return true;
  }

  bool ready() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return result_.has_value();
  }

  result_type wait() const {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait(guard, [this] { return result_.has_value(); });
    return *result_;
  }

  std::optional<result_type> wait_for(caf::timespan timeout) const {
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
  mutable std::mutex mtx_;
  mutable std::condition_variable cv_;
  std::optional<result_type> result_;
  uint64_t order_ = 0;
  std::vector<continuation_target> targets_;
};

} // namespace detail

/// The result of a task. It resolves exactly once.
///
/// - A function or blocking task (`scope::spawn_fn`, `spawn_cancellable`,
///   `spawn_blocking`) resolves it with its value; with `errc::cancelled` if
///   it was cancelled, killed, or failed (its error goes to the scope, which
///   reports it once, as zksync's scopes do); with its fallback
///   (`spawn_cancellable`) if it was cancelled; with `errc::scope_closed` if
///   the scope refused it.
/// - A task started with `scope::start` resolves it once it is ready or up;
///   if it ends first, with its own exit reason (its error, which the scope
///   reports too), or with `errc::cancelled` if it ended without one.
///
/// A handle is a cheap shared reference, safe to copy and to use from any
/// thread. `wait` blocks: call it from plain threads only, never from an
/// actor. Inside a scaf task, use `then`.
template <class T>
class handle {
public:
  using value_type = T;

  handle() = default;

  handle(std::shared_ptr<detail::handle_state<T>> state, caf::actor task)
    : state_(std::move(state)), task_(std::move(task)) {
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

  /// Runs `f(caf::expected<T>)` in the context of `self`, a scaf task or
  /// scope actor (`scope::self()`), once the result is there, without
  /// blocking (a continuation). `f` runs at most once; not at all if `self`
  /// is gone by then.
  template <class F>
  void then(caf::local_actor* self, F f) const {
    auto state = state_;
    state_->on_resolved(detail::continuation_target::make(
      self->address(),
      [state, f = std::move(f)]() mutable { f(state->get()); }));
  }

  /// Returns when the handle resolved relative to other handles (larger is
  /// later); 0 while unresolved.
  uint64_t resolution_order() const {
    return state_->order();
  }

  /// Returns the task's actor; empty if the task has not started.
  const caf::actor& task() const noexcept {
    return task_;
  }

private:
  std::shared_ptr<detail::handle_state<T>> state_;
  caf::actor task_;
};

/// What a task started with `scope::start` calls once it is ready; resolves
/// the spawner's handle with `value`. Calls after the first are ignored.
template <class V>
class ready_signal {
public:
  explicit ready_signal(std::shared_ptr<detail::handle_state<V>> state)
    : state_(std::move(state)) {
    // nop
  }

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
