// Internal: a scope's limit of concurrently running function and blocking
// tasks, and the queue of those waiting for a slot.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <optional>

#include <caf/actor_addr.hpp>
#include <caf/error.hpp>

#include "scaf/scope_options.hpp"

namespace scaf::detail {

/// A limited task waiting for a free slot.
struct queued_task {
  bool background;
  /// Names it while it waits (`handle::cancel` finds it by this key).
  caf::actor_id key;
  /// Spawns the task (through the scope's spawn path).
  std::function<void()> start;
  /// Resolves its handle with why it never runs.
  std::function<void(const caf::error&)> drop;
};

/// Go's `errgroup.SetLimit`: at most `limit` tasks run at once, the others
/// wait in spawn order. A limit of 0 means none.
class limiter {
public:
  void set_limit(size_t n) noexcept {
    limit_ = n;
  }

  /// Whether a task spawned now has to wait.
  bool full() const noexcept {
    return limit_ != 0 && running_ >= limit_;
  }

  void acquire() noexcept {
    ++running_;
  }

  void release() noexcept {
    --running_;
  }

  void count_rejected() noexcept {
    ++rejected_;
  }

  size_t limit() const noexcept {
    return limit_;
  }

  size_t queued() const noexcept {
    return queue_.size();
  }

  void push(queued_task x) {
    queue_.push_back(std::move(x));
  }

  /// Whether a queued task may start now.
  bool ready() const noexcept {
    return !queue_.empty() && !full();
  }

  queued_task pop() {
    auto x = std::move(queue_.front());
    queue_.pop_front();
    return x;
  }

  /// Takes the task `key` out of the queue, if it is there.
  std::optional<queued_task> take(caf::actor_id key) {
    for (auto i = queue_.begin(); i != queue_.end(); ++i)
      if (i->key == key) {
        auto x = std::move(*i);
        queue_.erase(i);
        return x;
      }
    return std::nullopt;
  }

  /// Takes every queued task out of the queue.
  std::list<queued_task> take_all() noexcept {
    return std::move(queue_);
  }

  limit_counts counts() const noexcept {
    return {queue_.size(), running_, rejected_};
  }

private:
  size_t limit_ = 0;
  size_t running_ = 0;
  size_t rejected_ = 0;
  // A list, not a deque: libstdc++'s deque allocates about 600 bytes when
  // default-constructed, and most scopes never queue anything.
  std::list<queued_task> queue_;
};

} // namespace scaf::detail
