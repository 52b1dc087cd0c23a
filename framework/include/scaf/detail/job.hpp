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
  /// How the scope reaches the function while it runs (a function that takes
  /// a stop token or a `task_context`); null for `f()`.
  std::shared_ptr<const stop_signal> stop;
};

/// A function task run as a plain job, no actor, no mailbox, no monitor:
/// one that takes a stop token or a `task_context` on scaf's function pool,
/// off CAF's scheduler; `f()` on CAF's scheduler. It runs once, then tells
/// its scope (`job_done_event`) with its result (an empty error on
/// success). A job cannot be killed while it runs: its scope requests stop
/// on its token.
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

  /// The stop signal of a function that takes a token or a context.
  const std::shared_ptr<const stop_signal>& stop() const noexcept {
    return stop_;
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

  /// The scope that spawned the job.
  const caf::actor& scope() const noexcept {
    return scope_;
  }

private:
  mutable std::atomic<size_t> rc_{1};
  caf::actor scope_;
  std::shared_ptr<const job_cancel_state> cancel_;
  node_path path_;
  caf::actor_id key_;
  std::shared_ptr<const stop_signal> stop_;
  caf::error result_;
  bool spawned_cancelled_;
  std::atomic<bool> started_{false};
  /// Set by `cancel`; `reason_` is written before.
  std::atomic<bool> cancelled_{false};
  caf::error reason_;
};

using job_ptr = caf::intrusive_ptr<job>;

/// A job running `F()`, `F(std::stop_token)` or `F(task_context&)` and
/// resolving a `handle<T>`.
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
    fn_args args;
    if (stop())
      args.stop = stop()->source.get_token();
    fn_outcome<T> out;
    if constexpr (takes_context<F>) {
      auto ctx = context_access::make(scope()->home_system(), scope(), key(),
                                      path(), *stop());
      args.ctx = &ctx;
      out = call_function<T>(*f_, args, path());
    } else {
      out = call_function<T>(*f_, args, path());
    }
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
/// it does not block (blocking tasks get a thread of their own) and needs
/// no actor (`f(task_base*)` does).
template <class F, caf::spawn_options Os>
constexpr bool runs_as_job = Os == caf::no_spawn_options && !takes_actor<F>;

} // namespace scaf::detail
