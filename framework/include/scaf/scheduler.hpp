#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <random>

#include <caf/policy/work_stealing.hpp>
#include <caf/resumable.hpp>

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

} // namespace scaf
