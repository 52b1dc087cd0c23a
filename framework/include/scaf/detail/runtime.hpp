#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include <caf/fwd.hpp>
#include <caf/resumable.hpp>
#include <caf/timespan.hpp>

namespace scaf::detail {

/// The threads that run scaf's function tasks, off CAF's scheduler: a
/// function that polls its stop token or waits never holds a thread that
/// the actors' own messages (a cancel, a deadline, a heartbeat) need.
/// `scaf.function-threads` run at once; more functions wait in FIFO order.
/// A thread of the pool that blocks in one of scaf's waits (joining a child
/// scope, `handle::wait`) lets the pool start another meanwhile, so tasks
/// that wait for tasks cannot deadlock the pool; and while every thread is
/// busy for long (functions that poll their token until cancelled), the
/// pool adds threads, up to a hard limit, so that no function waits forever
/// behind others. Threads beyond `scaf.function-threads` end once idle.
class function_pool {
public:
  function_pool();

  function_pool(const function_pool&) = delete;
  function_pool& operator=(const function_pool&) = delete;

  ~function_pool();

  /// Accepts jobs from now on; at most `max_threads` run at once. Its
  /// threads call the thread hooks of `sys` when they start and end.
  void start(caf::actor_system& sys, size_t max_threads);

  /// Runs `job` on a thread of the pool, taking over one reference to it.
  void submit(caf::resumable* job);

  /// Waits until every thread has run the queue empty and ended.
  void stop();

  /// Returns whether the calling thread is one of a pool's.
  static bool on_pool_thread() noexcept;

  /// The calling thread (a pool's) is about to block, or is done blocking.
  static void enter_blocking() noexcept;
  static void leave_blocking() noexcept;

private:
  struct impl;

  /// The pool whose thread this is; null elsewhere.
  static thread_local impl* current_;

  std::unique_ptr<impl> impl_;
};

/// One scheduler worker's current run, as the busy watch sees it. The worker
/// calls `begin` and `end` around every job it runs; the watch reads the job
/// only while `inspect` holds it, and `end` waits for that to finish, so
/// the job is alive while the watch looks at it.
class busy_slot {
public:
  busy_slot() = default;

  /// A fresh slot (CAF copies a prototype into each worker).
  busy_slot(const busy_slot&) noexcept {
    // nop
  }

  busy_slot& operator=(const busy_slot&) = delete;

  void begin(caf::resumable* job) noexcept {
    seq_.store(seq_.load(std::memory_order_relaxed) + 1,
               std::memory_order_relaxed);
    job_.store(job, std::memory_order_seq_cst);
  }

  void end() noexcept {
    job_.exchange(nullptr, std::memory_order_seq_cst);
    while (inspecting_.load(std::memory_order_seq_cst))
      ; // the watch is naming the job that just ended: a few microseconds
  }

  /// The number of the run in progress (or the last one).
  uint64_t seq() const noexcept {
    return seq_.load(std::memory_order_acquire);
  }

  /// The job in progress, for comparing only (never dereferenced).
  const caf::resumable* peek() const noexcept {
    return job_.load(std::memory_order_acquire);
  }

  /// Calls `f(job)` if run `seq` is still in progress; the job stays alive
  /// until `f` returns.
  template <class F>
  void inspect(uint64_t seq, F&& f) {
    inspecting_.store(true, std::memory_order_seq_cst);
    auto job = job_.load(std::memory_order_seq_cst);
    if (job != nullptr && seq_.load(std::memory_order_seq_cst) == seq)
      f(job);
    inspecting_.store(false, std::memory_order_seq_cst);
  }

private:
  std::atomic<caf::resumable*> job_{nullptr};
  std::atomic<uint64_t> seq_{0};
  std::atomic<bool> inspecting_{false};
};

/// Names (once, at `warn`) a job that has held a scheduler thread longer
/// than `scaf.busy-warning`, and tells the live tree for how long.
class busy_watch {
public:
  busy_watch();

  busy_watch(const busy_watch&) = delete;
  busy_watch& operator=(const busy_watch&) = delete;

  ~busy_watch();

  /// Watches `count` slots, `slot(i)` each, every quarter of `threshold`.
  void start(caf::timespan threshold, size_t count,
             std::function<busy_slot&(size_t)> slot);

  void stop();

  /// Whether some job held its scheduler thread past the threshold when the
  /// watch last looked: when not, `busy_for` has nothing to find.
  bool any_busy() const noexcept;

  /// How long `job` has been running on a scheduler thread in one go, if
  /// longer than the threshold.
  std::optional<caf::timespan> busy_for(const caf::resumable* job) const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The default of `scaf.function-threads`: as many as CAF's scheduler has
/// workers by default, the number of cores but at least 4.
size_t default_function_threads() noexcept;

/// What scaf adds to the scheduler of an actor system configured with
/// `scaf::init`: the function pool and the busy watch. Absent under CAF's
/// test coordinator, where function tasks run as plain jobs of the
/// deterministic scheduler.
class runtime {
public:
  /// The runtime of `sys`, or null.
  static runtime* of(caf::actor_system& sys) noexcept;

  function_pool& functions() noexcept {
    return functions_;
  }

  const busy_watch& watch() const noexcept {
    return watch_;
  }

protected:
  virtual ~runtime() = default;

  /// Starts the pool and, if `slot` is set, the busy watch over `count`
  /// scheduler workers, with the settings of `sys`.
  void start_runtime(caf::actor_system& sys, size_t count,
                     std::function<busy_slot&(size_t)> slot);

  void stop_runtime();

private:
  function_pool functions_;
  busy_watch watch_;
};

} // namespace scaf::detail
