// Internal: what a scope knows about one of its children, and the contract
// between a scope and each kind of child. Every kind (src/kinds/) implements
// `child_kind` in a file of its own; the scope calls these operations and
// never asks a child which kind it is.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/error.hpp>
#include <caf/timespan.hpp>

#include "scaf/detail/job.hpp"
#include "scaf/detail/node.hpp"
#include "scaf/scope_options.hpp"
#include "scaf/tree.hpp"

#include "events.hpp"

namespace scaf::detail {

class scope_impl;
struct child_record;

using time_point = caf::actor_clock::time_point;

/// Which count of `child_counts` a child is in.
enum class count_slot : uint8_t { behaviors, functions, blocking, scopes };

/// Where a child stands, as its scope sees it. It only moves forward.
enum class child_phase : uint8_t {
  /// Nobody asked it to stop.
  running,
  /// Told to stop; within (or past) its grace period.
  cancelled,
  /// Forced: killed, aborted, or (a function) told to stop at once.
  forced,
  /// Forced, yet it cannot be stopped while it runs: waited for.
  straggler,
};

/// Why a child was forced.
enum class force_cause : uint8_t {
  none,
  /// It overstayed the grace period of a cancel of all children.
  grace,
  /// It overstayed the grace period of a cancel of its own.
  own_grace,
  /// Cancelled with a grace period of zero (OTP's brutal kill).
  no_grace,
  /// Its scope was aborted (or forced by its parent).
  abort,
  /// Aborted on its own (`handle::abort`, `scope::abort_child`).
  abort_one,
};

/// Says why in words, e.g. "overstayed the grace period".
const char* to_text(force_cause x) noexcept;

/// What stopped being alive means for a scope: the four ways a child ends
/// (value or done, failure, cancelled, killed), plus a straggler that was
/// forced and finished anyway.
using child_status = node_status;

/// The contract between a scope and one kind of child: how it starts, hears
/// a cancel, is forced, ends and describes itself. Kinds are stateless
/// singletons; what differs from child to child is in its `child_record`.
/// Every operation runs in the scope's context.
class child_kind {
public:
  // -- what it is
  // ---------------------------------------------------------------

  /// What the live tree and the trace call it: "task", "function",
  /// "blocking" or "scope".
  virtual const char* name() const noexcept = 0;

  /// Which count of `scope::children` it is in.
  virtual count_slot slot() const noexcept = 0;

  // -- the protocol
  // -------------------------------------------------------------

  /// Starts the child once its scope has admitted it. Actors run since their
  /// spawn; jobs are handed to their executor here.
  virtual void start(scope_impl& s, child_record& c) const;

  /// Tells the child to stop because of `reason`. Its scope forces it at
  /// `force_at` at the latest; a scope child learns that too. `alone`: the
  /// child is cancelled on its own (through its handle or `cancel_child`),
  /// not with all its siblings.
  virtual void cancel(scope_impl& s, child_record& c, const caf::error& reason,
                      time_point force_at, bool alone) const = 0;

  /// Forces the child (the scope set its phase and cause): kills it, aborts
  /// it, or makes it a straggler that is waited for.
  virtual void force(scope_impl& s, child_record& c) const = 0;

  /// The child ended with `reason` (empty on success): returns how, and
  /// makes `reason` say it (a kill by its scope becomes `errc::killed`).
  virtual child_status ended(scope_impl& s, child_record& c,
                             caf::error& reason) const;

  /// The scope itself died abnormally: stops the child without waiting for
  /// it (nothing can make the scope's down message wait).
  virtual void abandon(child_record& c, const caf::error& why) const = 0;

  /// The scope was joined or closed: what it means for this child (child
  /// scopes are joined or closed with it).
  virtual void join(scope_impl& s, child_record& c) const;
  virtual void close(scope_impl& s, child_record& c) const;

  // -- what it says about itself
  // ------------------------------------------------

  /// Fills in `node` as its scope sees the child; returns the actor to ask
  /// for its own subtree (a scope), or none.
  virtual caf::actor describe(const scope_impl& s, const child_record& c,
                              tree_node& node) const;

  /// Why it may still run once forced, for the watchdog's log line.
  virtual const char* why_still_running() const noexcept;

  /// Whether `scope::handle_of` gives it a `handle<void>` (behavior tasks
  /// and scopes; function tasks have theirs from their spawn).
  virtual bool offers_handle_of() const noexcept;

  // -- scopes a child opens
  // -----------------------------------------------------

  /// Whether the scope cancels and forces this child itself. A scope opened
  /// by a behavior task hears both through that task instead.
  virtual bool controlled_by_scope(const scope_impl& s,
                                   const child_record& c) const;

  /// Whether, as the owner of scopes it opened, this child relays its cancel
  /// and its force to them (a behavior task does: one message per edge).
  /// Other owners' scopes hear both from the scope, and an owner that ends
  /// while they run waits for them.
  virtual bool relays_to_owned() const noexcept;

protected:
  ~child_kind() = default;
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
  /// For a task: the live scopes it opened.
  std::vector<caf::actor_id> owned;
  /// For a behavior task: failures of scopes it opened that ended while it
  /// lives. It handles them, unless it dies first (`task_died_event`): then
  /// they are this scope's.
  std::vector<unhandled_failure> unhandled;
  /// What the live tree calls it, if not its kind's name
  /// (`spawn_options::kind`).
  std::string label;
  /// How many times it was started before (`spawn_options::restarts`).
  size_t restarts = 0;
  /// For an owner that does not relay (a function or blocking task): how
  /// it ended while scopes it opened still ran; it is done once they are.
  std::optional<caf::error> pending_end;
};

/// What a scope knows about one of its children. Only the scope actor
/// touches it.
struct child_record {
  const child_kind* kind = nullptr;
  child_phase phase = child_phase::running;
  force_cause forced_by = force_cause::none;
  bool background : 1 = false;
  /// Counts against the scope's limit.
  bool limited : 1 = false;
  /// Its name was given by the user (not its spawn index).
  bool named : 1 = false;
  /// Forced by an abort: its cancel and its kill were sent together, so
  /// ending on the cancel overstays nothing.
  bool aborted : 1 = false;
  /// A forced task waiting for the scopes it opened before it is killed.
  bool kill_pending : 1 = false;
  /// A scope whose owner task died abnormally: its failure is this scope's.
  bool orphaned : 1 = false;
  /// A behavior task standing in for work elsewhere
  /// (`spawn_options::stand_in`): told when it is forced, asked for its tree.
  bool stand_in : 1 = false;
  /// A child scope that does not join itself after its body (opened with
  /// `open_child`, or its body kept it open): this scope's join reaches it.
  bool stays_open : 1 = false;
  /// For a task: how many scopes it opened are still alive.
  uint32_t nested = 0;
  caf::actor_id id = 0;
  /// For a scope opened by a task: that task.
  caf::actor_id owner = 0;
  /// Its own grace period (`spawn_options::grace`); negative: the scope's.
  caf::timespan grace{-1};
  /// When the cancel of all children forces it.
  time_point deadline{};
  /// When it was spawned (its age in the live tree).
  time_point spawned_at{};
  /// When its phase last changed: when it was cancelled on its own, or
  /// forced.
  time_point since{};
  /// The actor of every kind but jobs.
  caf::actor handle;
  /// The job of a function task.
  job_ptr job;
  /// The stop signal of a function that runs while its scope goes on.
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

  bool cancelled() const noexcept {
    return phase != child_phase::running;
  }

  bool forced() const noexcept {
    return phase >= child_phase::forced;
  }

  bool straggler() const noexcept {
    return phase == child_phase::straggler;
  }

  child_extra& ext() {
    if (!extra)
      extra = std::make_unique<child_extra>();
    return *extra;
  }

  /// What the live tree and the trace call it.
  const char* kind_name() const noexcept {
    return extra && !extra->label.empty() ? extra->label.c_str() : kind->name();
  }
};

} // namespace scaf::detail
