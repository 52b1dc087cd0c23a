#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/error.hpp>

#include "scaf/detail/node.hpp"

namespace scaf::detail {

/// What a scope knows about one of its children.
struct scope_child {
  caf::actor handle;
  std::string name;
  /// Spawn order within this scope.
  uint64_t seq = 0;
  /// For a scope opened by a child task: that task. Its cancel and force
  /// reach the scope through the task.
  caf::actor_id owner = caf::invalid_actor_id;
  /// The grace generation in which the child was cancelled (0: never).
  uint64_t cancelled_in = 0;
  bool background = false;
  bool is_scope = false;
  /// Live scopes opened by this child (a task) that this scope adopted.
  uint32_t nested = 0;
  /// Killed (tasks) or aborted (scopes) by this scope.
  bool forced = false;
  /// A forced task waiting for its nested scopes before it is killed.
  bool kill_pending = false;
  /// Counts against the limit of function and blocking tasks.
  bool limited = false;
  /// The stop source of a blocking task (which cannot be killed).
  std::shared_ptr<std::stop_source> stop;
  /// When a blocking task overstayed its grace period.
  caf::actor_clock::time_point forced_at;
  /// A nested scope's children's outcomes (record_outcomes).
  detail::outcomes nested_outcomes;
};

/// A function or blocking task waiting for a free slot.
struct queued_task {
  bool background;
  std::function<void()> start;
  std::function<void(const caf::error&)> drop;
};

} // namespace scaf::detail
