#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <type_traits>
#include <unordered_set>

#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/coordinator.hpp>

#include "scaf/detail/runtime.hpp"

namespace scaf {

/// CAF's work-stealing scheduling policy with a queue whose steal is O(1).
///
/// CAF 0.17's stock work-stealing queue walks the victim's queue from its head
/// for every stolen job, so when one actor makes many actors runnable at once
/// (spawning or cancelling 100,000 children) scheduling turns quadratic. This
/// policy changes only the per-worker queue: a mutex-protected deque, stolen
/// from the tail in O(1). It keeps work stealing's depth-first execution of
/// recursive trees (the sharing scheduler runs them breadth-first, with a
/// memory blow-up). `scaf::init` installs it.
///
/// It also tells scaf's busy watch which job each worker runs, so that a
/// job holding a scheduler thread past `scaf.busy-warning` is named.
///
/// It relies on how CAF 0.17's scheduler templates reach a worker's queue
/// (through `worker_data::queue`), which is not a public API of CAF: scaf pins
/// CAF 0.17 and its tests cover it.
class stealing_policy : public caf::policy::work_stealing {
public:
  /// Notes that `w` runs `job` from now on (called by CAF's worker loop).
  template <class Worker>
  void before_resume(Worker* w, caf::resumable* job) noexcept {
    w->data().busy.begin(job);
  }

  /// Notes that `w` is done running its job.
  template <class Worker>
  void after_resume(Worker* w, caf::resumable*) noexcept {
    w->data().busy.end();
  }

  /// A worker's job queue.
  class queue_type {
  public:
    /// Adds `job` at the tail (CAF: a job from another thread).
    void append(caf::resumable* job);

    /// Adds `job` at the head (CAF: a job of this worker, run next).
    void prepend(caf::resumable* job);

    /// Takes the next job of this worker, or returns null.
    caf::resumable* take_head();

    /// Takes a job for a thief, in O(1), or returns null.
    caf::resumable* take_tail();

    /// Returns whether the queue has no job.
    bool empty() const;

  private:
    mutable std::mutex mtx_;
    std::deque<caf::resumable*> jobs_;
  };

  /// Per-worker data, as `caf::policy::work_stealing::worker_data` but with
  /// `queue_type`.
  struct worker_data {
    /// Reads the poll strategies from `p`'s configuration, as CAF's does.
    explicit worker_data(caf::scheduler::abstract_coordinator* p);

    /// Copies the settings and starts with an empty queue (CAF copies a
    /// prototype into each worker).
    worker_data(const worker_data& other);

    /// The worker's jobs.
    queue_type queue;

    /// Picks the victims of steals.
    std::default_random_engine rengine;

    /// The victim's index among the other workers.
    std::uniform_int_distribution<size_t> uniform;

    /// How hard to poll before sleeping: aggressive, moderate, relaxed.
    std::array<poll_strategy, 3> strategies;

    /// Where an idle worker sleeps until a job arrives.
    wait_strategy waitdata;

    /// What the worker runs now, for the busy watch.
    detail::busy_slot busy;
  };
};

/// CAF's clock without a cost every terminating actor pays.
///
/// CAF 0.17 cancels an actor's timeouts when it terminates by handing an
/// event to the clock thread (a mutex, a condition-variable broadcast and a
/// wakeup of that thread), whether or not the actor ever set a timeout. In a
/// profile of 100,000 trivial actors, that path and the clock thread it wakes
/// take a third of all samples. This clock remembers which actors set a
/// timeout and forwards only their cancels; everything else is CAF's.
class sparse_cancel_clock : public caf::detail::thread_safe_actor_clock {
public:
  /// CAF's clock, which does the work.
  using super = caf::detail::thread_safe_actor_clock;

  /// Remembers `self`, then sets the timeout as CAF does.
  void set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                            caf::atom_value type, uint64_t id) override;

  /// Remembers `self`, then sets the timeout as CAF does.
  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override;

  /// Remembers `self`, then sets the timeout as CAF does.
  void set_multi_timeout(time_point t, caf::abstract_actor* self,
                         caf::atom_value type, uint64_t id) override;

  /// Forwards the cancel to CAF's clock only if `self` set a timeout.
  void cancel_timeouts(caf::abstract_actor* self) override;

private:
  void remember(const caf::abstract_actor* self);

  std::mutex mtx_;
  /// Actors that set a timeout since their last `cancel_timeouts`.
  std::unordered_set<const caf::abstract_actor*> timed_;
};

/// CAF's coordinator for `Policy`, with `sparse_cancel_clock` as the
/// system's clock (dispatched by a thread of its own; CAF's own clock thread
/// stays idle) and scaf's runtime: the pool that runs function tasks and,
/// with `stealing_policy`, the busy watch.
template <class Policy>
class coordinator : public caf::scheduler::coordinator<Policy>,
                    public detail::runtime {
public:
  /// CAF's coordinator, which does the scheduling.
  using super = caf::scheduler::coordinator<Policy>;

  using super::super;

  /// Returns the system's clock.
  sparse_cancel_clock& clock() noexcept override {
    return clock_;
  }

protected:
  /// Starts the clock's thread, the workers, then scaf's runtime.
  void start() override {
    timer_ = std::thread{[this] {
      this->system().thread_started();
      clock_.run_dispatch_loop();
      this->system().thread_terminates();
    }};
    super::start();
    std::function<detail::busy_slot&(size_t)> slot;
    if constexpr (std::is_same_v<Policy, stealing_policy>)
      slot = [this](size_t i) -> detail::busy_slot& {
        return this->worker_by_id(i)->data().busy;
      };
    start_runtime(this->system(), this->num_workers(), std::move(slot));
  }

  /// Stops the workers, the runtime, then the clock's thread.
  void stop() override {
    super::stop();
    stop_runtime();
    clock_.cancel_dispatch_loop();
    timer_.join();
  }

private:
  sparse_cancel_clock clock_;
  std::thread timer_;
};

} // namespace scaf
