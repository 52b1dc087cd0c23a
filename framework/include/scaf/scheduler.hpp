#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>

#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/coordinator.hpp>

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
/// It relies on how CAF 0.17's scheduler templates reach a worker's queue
/// (through `worker_data::queue`), which is not a public API of CAF: scaf pins
/// CAF 0.17 and its tests cover it.
class stealing_policy : public caf::policy::work_stealing {
public:
  /// A worker's job queue.
  class queue_type {
  public:
    void append(caf::resumable* job);
    void prepend(caf::resumable* job);
    caf::resumable* take_head();
    caf::resumable* take_tail();
    bool empty() const;

  private:
    mutable std::mutex mtx_;
    std::deque<caf::resumable*> jobs_;
  };

  /// Per-worker data, as `caf::policy::work_stealing::worker_data` but with
  /// `queue_type`.
  struct worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator* p);
    worker_data(const worker_data& other);

    queue_type queue;
    std::default_random_engine rengine;
    std::uniform_int_distribution<size_t> uniform;
    std::array<poll_strategy, 3> strategies;
    wait_strategy waitdata;
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
  using super = caf::detail::thread_safe_actor_clock;

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                            caf::atom_value type, uint64_t id) override;

  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override;

  void set_multi_timeout(time_point t, caf::abstract_actor* self,
                         caf::atom_value type, uint64_t id) override;

  void cancel_timeouts(caf::abstract_actor* self) override;

private:
  void remember(const caf::abstract_actor* self);

  std::mutex mtx_;
  /// Actors that set a timeout since their last `cancel_timeouts`.
  std::unordered_set<const caf::abstract_actor*> timed_;
};

/// CAF's coordinator for `Policy`, with `sparse_cancel_clock` as the
/// system's clock (dispatched by a thread of its own; CAF's own clock thread
/// stays idle).
template <class Policy>
class coordinator : public caf::scheduler::coordinator<Policy> {
public:
  using super = caf::scheduler::coordinator<Policy>;

  using super::super;

  sparse_cancel_clock& clock() noexcept override {
    return clock_;
  }

protected:
  void start() override {
    timer_ = std::thread{[this] {
      this->system().thread_started();
      clock_.run_dispatch_loop();
      this->system().thread_terminates();
    }};
    super::start();
  }

  void stop() override {
    super::stop();
    clock_.cancel_dispatch_loop();
    timer_.join();
  }

private:
  sparse_cancel_clock clock_;
  std::thread timer_;
};

} // namespace scaf
