#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include "scaf/detail/blocking.hpp"
#include "scaf/detail/continuation.hpp"
#include "scaf/errc.hpp"

namespace scaf::detail {

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
  /// resolves with the value the task staged; else with `ended` (how the
  /// child ended: its failure, `errc::cancelled` or `errc::killed`); else
  /// with what the task staged for want of a value; else with success (a
  /// `handle<void>`) or `errc::cancelled` ("ended without a result").
  virtual void publish(const caf::error& ended,
                       const caf::actor_addr& here) = 0;

  /// Called when the scope died: results staged from now on are published at
  /// once. Any thread.
  virtual void abandon() = 0;

  /// Returns the child's actor while it exists; empty for a job, a task not
  /// yet started, or one that is gone.
  caf::actor task() const;

  /// Makes this handle stand for `other`'s child (a handle that
  /// `scope_ref::call` returns for one its function returned): cancels and
  /// aborts asked of it, earlier ones included, go to `other`, and `task()`
  /// is `other`'s.
  void delegate_to(std::shared_ptr<handle_control> other);

protected:
  mutable std::mutex mtx_;

private:
  /// Set by `delegate_to`.
  std::shared_ptr<handle_control> delegate_;
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
      fallback_.reset();
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

  /// Stores the error to resolve with if the task ends without a result and
  /// its scope knows no better (a task actor whose state went without one);
  /// at once if the scope is gone.
  void stage_fallback(caf::error x) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (result_ || staged_ || fallback_)
        return;
      if (!publish_now_) {
        fallback_ = std::move(x);
        return;
      }
    }
    resolve(std::move(x));
  }

  void publish(const caf::error& ended, const caf::actor_addr& here) override {
    std::optional<result_type> x;
    std::optional<caf::error> fallback;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      publish_now_ = true;
      x.swap(staged_);
      fallback.swap(fallback_);
    }
    if (x)
      resolve(std::move(*x), here);
    else if (ended)
      resolve(ended, here);
    else if (fallback)
      resolve(std::move(*fallback), here);
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
      if (!x && fallback_)
        x.emplace(std::move(*fallback_));
      fallback_.reset();
    }
    if (x)
      resolve(std::move(*x));
  }

  bool ready() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return result_.has_value();
  }

  result_type wait() const {
    blocking_section section{"handle::wait"};
    if (section.refused())
      return section.error();
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait(guard, [this] { return result_.has_value(); });
    return *result_;
  }

  std::optional<result_type> wait_for(caf::timespan timeout) const {
    blocking_section section{"handle::wait_for"};
    if (section.refused())
      return result_type{section.error()};
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
  /// What to resolve with if nothing better comes (see `stage_fallback`).
  std::optional<caf::error> fallback_;
  bool publish_now_ = false;
  uint64_t order_ = 0;
  std::vector<continuation_target> targets_;
};

/// Reaches what the public handles keep private: for scaf's own code.
struct handle_access {
  template <class Handle>
  static const auto& state(const Handle& h) noexcept {
    return h.state_;
  }

  template <class Handle, class State>
  static Handle make(std::shared_ptr<State> st) {
    return Handle{std::move(st)};
  }
};

/// Resolves `to` with the result of `from` once there, on the thread that
/// resolves `from` (at once if it is resolved); cancels asked of `to` go to
/// `from`'s child.
template <class T>
void forward(const std::shared_ptr<handle_state<T>>& from,
             std::shared_ptr<handle_state<T>> to) {
  to->delegate_to(from);
  from->on_resolved(continuation_target::make(
    {}, [from, to = std::move(to)] { to->resolve(from->get()); }));
}

} // namespace scaf::detail
