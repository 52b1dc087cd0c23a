#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/intrusive_ptr.hpp>
#include <caf/resumable.hpp>
#include <caf/spawn_options.hpp>

#include "scaf/detail/function_task.hpp"
#include "scaf/detail/node_path.hpp"
#include "scaf/handle.hpp"

namespace scaf::detail {

/// What a scope's jobs may read from any thread: whether the scope has been
/// cancelled (and why), and whether it died. `reason` is written once, before
/// `cancelled` is set.
struct job_cancel_state {
  std::atomic<bool> cancelled{false};
  /// The scope died abnormally: no job of it runs any more.
  std::atomic<bool> abandoned{false};
  caf::error reason;

  /// Marks the scope cancelled with `why`, unless it is already. Only the
  /// scope actor calls it.
  void cancel(caf::error why) {
    if (cancelled.load(std::memory_order_relaxed))
      return;
    reason = std::move(why);
    cancelled.store(true, std::memory_order_release);
  }
};

/// What a scope gives a job it spawns.
struct job_context {
  caf::actor scope;
  std::shared_ptr<const job_cancel_state> cancel;
  node_path path;
  /// Names the job in its scope's registry.
  caf::actor_id key;
  /// Spawned into an already cancelled scope: cleanup work that still runs.
  bool spawned_cancelled;
};

/// A function task run as a plain job on CAF's scheduler: no actor, no
/// mailbox, no monitor. It runs once, then tells its scope
/// (`job_done_event`) with its result (an empty error on success). A job
/// cannot be stopped while it runs.
///
/// A job that its scope's cancel reaches before it started never runs, its
/// handle resolves with the cancel reason (or its fallback). A job spawned
/// into an already cancelled scope is cleanup work: it runs.
class job : public caf::resumable {
public:
  explicit job(job_context ctx);

  job(const job&) = delete;
  job& operator=(const job&) = delete;

  ~job() override;

  const node_path& path() const noexcept {
    return path_;
  }

  caf::actor_id key() const noexcept {
    return key_;
  }

  /// Whether the job has begun calling its function.
  bool started() const noexcept {
    return started_.load(std::memory_order_relaxed);
  }

  /// Cancels this job alone (through its handle): if it has not started, it
  /// never runs. Only its scope calls it.
  void cancel(caf::error why) {
    if (cancelled_.load(std::memory_order_relaxed))
      return;
    reason_ = std::move(why);
    cancelled_.store(true, std::memory_order_release);
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

protected:
  /// Runs the task's function, or, if `skipped` is not null, resolves the
  /// handle with it (or the fallback) without running. Returns the error for
  /// the scope.
  virtual caf::error run(const caf::error* skipped) = 0;

  void mark_started() noexcept {
    started_.store(true, std::memory_order_relaxed);
  }

private:
  mutable std::atomic<size_t> rc_{1};
  caf::actor scope_;
  std::shared_ptr<const job_cancel_state> cancel_;
  node_path path_;
  caf::actor_id key_;
  caf::error result_;
  bool spawned_cancelled_;
  std::atomic<bool> started_{false};
  /// Set by `cancel`; `reason_` is written before.
  std::atomic<bool> cancelled_{false};
  caf::error reason_;
};

using job_ptr = caf::intrusive_ptr<job>;

/// A job running `F()` and resolving a `handle<T>`.
template <class F, class T>
class fn_job final : public job {
public:
  fn_job(job_context ctx, F f, std::shared_ptr<handle_state<T>> handle)
    : job(std::move(ctx)), f_(std::move(f)), handle_(std::move(handle)) {
    // nop
  }

protected:
  caf::error run(const caf::error* skipped) override {
    if (skipped != nullptr) {
      f_.reset();
      handle_->stage(*skipped);
      return *skipped;
    }
    mark_started();
    auto out = call_function<T>(*f_, nullptr, std::stop_token{}, path());
    // The function (and what it captured) is gone before anyone can see the
    // task as done.
    f_.reset();
    return settle_function(*handle_, std::move(out), path());
  }

private:
  std::optional<F> f_;
  std::shared_ptr<handle_state<T>> handle_;
};

/// Whether a function task `F` spawned with CAF options `Os` runs as a job:
/// it takes no arguments (a task that wants `task_base*` for cancellation
/// checks needs an actor) and does not block (blocking tasks get a thread).
template <class F, caf::spawn_options Os>
constexpr bool runs_as_job =
  Os == caf::no_spawn_options&& std::is_invocable_v<F&>;

} // namespace scaf::detail
