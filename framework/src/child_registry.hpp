// Internal: the children of a scope, by id and in spawn order.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/timespan.hpp>

#include "scaf/detail/job.hpp"
#include "scaf/detail/node.hpp"
#include "scaf/detail/scope_event.hpp"

namespace scaf::detail {

/// A failure of a scope opened by a task, which the task may not live to
/// handle.
struct unhandled_failure {
  caf::actor_id scope;
  std::string origin;
  caf::error failure;
};

/// What few children need: kept out of line so that a record stays small.
struct child_extra {
  /// Runs when the child is done (`scope::start`).
  std::function<void(const caf::error&, const node_path&,
                     const caf::actor_addr&)>
    on_end;
  /// Runs when the child is cancelled or forced (see spawn_extras).
  std::function<void()> on_cancelled;
  /// What the child's subtree reported: a nested scope's report, or, for a
  /// task, the outcomes of the scopes it opened.
  std::shared_ptr<nested_report> report;
  /// For a task: the live scopes it opened (adopted by this scope).
  std::vector<caf::actor_id> owned;
  /// For a task: failures of scopes it opened that ended while it lives. It
  /// handles them, unless it dies first (`task_died_event`): then they are
  /// this scope's.
  std::vector<unhandled_failure> unhandled;
};

/// What a scope knows about one of its children. Only the scope actor
/// touches it.
struct child_record {
  child_kind kind;
  bool background = false;
  /// Counts against the scope's limit.
  bool limited = false;
  /// Has been sent its cancel (with all children, or on its own).
  bool cancelled = false;
  /// Has been forced: killed, aborted, or asked to stop and reported as a
  /// straggler. `forced_why` says why.
  bool forced = false;
  /// A forced task waiting for the scopes it opened before it is killed.
  bool kill_pending = false;
  /// Reported as a straggler.
  bool straggler = false;
  /// Forced by an abort: its cancel and its kill were sent together, so
  /// ending on the cancel overstays nothing.
  bool aborted = false;
  /// Its name was given by the user (not its spawn index).
  bool named = false;
  /// An adopted scope whose owner task died abnormally: its failure is this
  /// scope's.
  bool orphaned = false;
  /// For a task: how many scopes it opened are still alive.
  uint32_t nested = 0;
  caf::actor_id id = 0;
  /// For an adopted scope: the task that opened it.
  caf::actor_id owner = 0;
  /// Its own grace period (`spawn_options::grace`); negative: the scope's.
  caf::timespan grace{-1};
  /// When the cancel of all children forces it.
  caf::actor_clock::time_point deadline{};
  /// When it was forced.
  caf::actor_clock::time_point forced_at{};
  /// When it was spawned (its age in the live tree).
  caf::actor_clock::time_point spawned_at{};
  /// When it was cancelled on its own, with its own grace period.
  caf::actor_clock::time_point cancelled_at{};
  const char* forced_why = "";
  /// The actor of every kind but jobs.
  caf::actor handle;
  /// The job of a function task run as a job.
  job_ptr job;
  /// The stop signal of a function running in an actor of its own.
  std::shared_ptr<stop_signal> stop;
  /// Its handle, published when it is done.
  std::shared_ptr<handle_control> result;
  std::string name;
  std::unique_ptr<child_extra> extra;
  /// Neighbours in spawn order.
  child_record* prev = nullptr;
  child_record* next = nullptr;

  bool has_own_grace() const noexcept {
    return grace.count() >= 0;
  }

  child_extra& ext() {
    if (!extra)
      extra = std::make_unique<child_extra>();
    return *extra;
  }
};

/// What the live tree and the trace call `c`: "task", "function",
/// "blocking" or "scope".
inline const char* kind_name(const child_record& c) noexcept {
  switch (c.kind) {
  case child_kind::task:
    // A function running in an actor of its own has a stop signal.
    return c.stop ? "function" : "task";
  case child_kind::job:
    return "function";
  case child_kind::blocking:
    return "blocking";
  case child_kind::scope:
  case child_kind::adopted:
    break;
  }
  return "scope";
}

/// The children of a scope: found by actor id (jobs get ids no actor has),
/// walked in spawn order.
class child_registry {
public:
  using node_type = std::unordered_map<caf::actor_id, child_record>::node_type;

  child_registry() = default;
  child_registry(const child_registry&) = delete;
  child_registry& operator=(const child_registry&) = delete;

  /// Adds a record for `id` at the end of the spawn order.
  child_record& add(caf::actor_id id, child_kind kind);

  child_record* find(caf::actor_id id) noexcept {
    auto i = records_.find(id);
    return i != records_.end() ? &i->second : nullptr;
  }

  /// Removes `x` and hands it over; `x` stays valid while the node lives.
  node_type take(child_record& x);

  /// Moves `x` to the end of the spawn order.
  void move_to_back(child_record& x) noexcept;

  /// The oldest child, or null; continue with `next`.
  child_record* first() const noexcept {
    return head_;
  }

  size_t size() const noexcept {
    return records_.size();
  }

private:
  void link_back(child_record& x) noexcept;

  void unlink(child_record& x) noexcept;

  std::unordered_map<caf::actor_id, child_record> records_;
  child_record* head_ = nullptr;
  child_record* tail_ = nullptr;
};

} // namespace scaf::detail
