#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/intrusive_ptr.hpp>
#include <caf/resumable.hpp>
#include <caf/spawn_options.hpp>

#include "scaf/detail/body.hpp"
#include "scaf/detail/function_task.hpp"
#include "scaf/errc.hpp"
#include "scaf/handle.hpp"

namespace scaf::detail {

/// What a scope's jobs may read from any thread: whether the scope has been
/// cancelled, and why. `reason` is written once, before `cancelled` is set.
struct job_cancel_state {
  std::atomic<bool> cancelled{false};
  caf::error reason;
};

/// A function task run as a plain job on CAF's scheduler: no actor, no
/// mailbox, no monitor. It runs once: unless its scope was cancelled before it
/// started, it calls its function, destroys it and resolves its handle; then
/// it tells its scope (`job_done_event`) with its result (an empty
/// error on success). A job cannot be stopped while it runs.
///
/// The members under "scope side" belong to the scope that owns the job and
/// are only touched in that scope actor's context.
class job : public caf::resumable {
public:
  job(caf::actor scope, std::shared_ptr<const job_cancel_state> cancel,
      std::string path);

  job(const job&) = delete;
  job& operator=(const job&) = delete;

  ~job() override;

  /// Full path of the task, e.g. "root/3".
  const std::string& path() const noexcept {
    return path_;
  }

  /// Whether the job has begun calling its function.
  bool started() const noexcept {
    return started_.load(std::memory_order_relaxed);
  }

  /// The job's result; valid once its scope received its done message.
  const caf::error& result() const noexcept {
    return result_;
  }

  // -- caf::resumable ---------------------------------------------------------

  subtype_t subtype() const override;

  resume_result resume(caf::execution_unit* ctx, size_t) override;

  void intrusive_ptr_add_ref_impl() override;

  void intrusive_ptr_release_impl() override;

  friend void intrusive_ptr_add_ref(const job* ptr) noexcept {
    ptr->rc_.fetch_add(1, std::memory_order_relaxed);
  }

  friend void intrusive_ptr_release(const job* ptr) noexcept {
    if (ptr->rc_.fetch_sub(1, std::memory_order_acq_rel) == 1)
      delete ptr;
  }

  // -- scope side -------------------------------------------------------------

  /// Neighbours in the scope's list of live jobs (spawn order).
  job* prev = nullptr;
  job* next = nullptr;
  /// The grace generation in which the job was cancelled (0: never).
  uint64_t cancelled_in = 0;
  /// When the job overstayed its grace period.
  caf::actor_clock::time_point forced_at;
  bool background = false;
  /// Counts against the scope's limit (all jobs do, see `scope::set_limit`).
  bool limited = false;
  /// Overstayed its grace period (or the scope was aborted) while running.
  bool forced = false;

protected:
  /// Runs the task's function, or, if `cancelled` is not null, resolves the
  /// handle as cancelled without running it. Returns the error for the scope.
  virtual caf::error run(const caf::error* cancelled) = 0;

  void mark_started() noexcept {
    started_.store(true, std::memory_order_relaxed);
  }

private:
  mutable std::atomic<size_t> rc_{1};
  caf::actor scope_;
  std::shared_ptr<const job_cancel_state> cancel_;
  std::string path_;
  caf::error result_;
  std::atomic<bool> started_{false};
};

using job_ptr = caf::intrusive_ptr<job>;

/// A job running `F()` and resolving a `handle<T>`.
template <class F, class T>
class fn_job final : public job {
public:
  fn_job(caf::actor scope, std::shared_ptr<const job_cancel_state> cancel,
         std::string path, F f, std::shared_ptr<handle_state<T>> handle,
         fallback_t<T> fallback)
    : job(std::move(scope), std::move(cancel), std::move(path)),
      f_(std::move(f)),
      handle_(std::move(handle)),
      fallback_(std::move(fallback)) {
    // nop
  }

protected:
  caf::error run(const caf::error* cancelled) override {
    if (cancelled != nullptr) {
      f_.reset();
      if (!fallback_)
        handle_->resolve(*cancelled);
      else if constexpr (std::is_void_v<T>)
        handle_->resolve(caf::unit);
      else
        handle_->resolve(std::move(*fallback_));
      return *cancelled;
    }
    mark_started();
    using result = fn_result_t<F>;
    std::optional<caf::expected<T>> value;
    caf::error failure;
    std::string why;
    try {
      if constexpr (std::is_void_v<result>) {
        (*f_)();
        value.emplace(caf::unit);
      } else if constexpr (unwrap_expected<result>::is_expected) {
        auto r = (*f_)();
        if (r)
          value.emplace(std::move(r));
        else
          failure = std::move(r.error());
      } else {
        value.emplace((*f_)());
      }
    } catch (const std::exception& e) {
      failure = make_error(errc::task_exception, path(), e.what());
      why = "the task threw an exception";
    } catch (...) {
      failure = make_error(errc::task_exception, path(), "unknown exception");
      why = "the task threw an exception";
    }
    // The function (and what it captured) is gone before anyone can see the
    // task as done.
    f_.reset();
    if (value) {
      handle_->resolve(std::move(*value));
      return {};
    }
    if (why.empty())
      why = "the task failed: " + render(failure);
    handle_->resolve(make_error(errc::cancelled, path(), std::move(why)));
    return failure;
  }

private:
  std::optional<F> f_;
  std::shared_ptr<handle_state<T>> handle_;
  fallback_t<T> fallback_;
};

/// Whether a function task `F` spawned with CAF options `Os` runs as a job:
/// it takes no arguments (a task that wants `task_base*` for cancellation
/// checks needs an actor) and does not block (blocking tasks get a thread).
template <class F, caf::spawn_options Os>
constexpr bool runs_as_job
  = Os == caf::no_spawn_options && std::is_invocable_v<F&>;

} // namespace scaf::detail
