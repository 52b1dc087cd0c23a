// Internal: the state of a scope actor. The public face is scaf::scope; the
// node protocol is split by job:
//   scope.cpp        the actor: startup, messages, abnormal death
//   lifecycle.cpp    the state machine at work: each transition's effects,
//                    progress, holds and finishing (the table itself is
//                    `scaf::next` in scaf/scope_state.hpp)
//   scope_calls.cpp  the public calls of scaf::scope that are not spawns
//   spawn.cpp        the one spawn path and limits
//   owned_scopes.cpp the scopes that tasks open, owned by their task
//   cancel.cpp       cancel, grace and force: when, and to whom
//   done.cpp         the one done path, and what done signals bring up
//   kinds/*.cpp      the child contract (child.hpp), one file per kind
//   child_registry.*, limiter.hpp, outcome.* hold the data they work on.
#pragma once

#include <array>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/error.hpp>
#include <caf/stateful_actor.hpp>

#include "scaf/detail/job.hpp"
#include "scaf/detail/node.hpp"
#include "scaf/detail/runtime.hpp"
#include "scaf/detail/task_exception.hpp"
#include "scaf/errc.hpp"
#include "scaf/scope.hpp"
#include "scaf/scope_state.hpp"
#include "scaf/tree.hpp"

#include "child.hpp"
#include "child_registry.hpp"
#include "events.hpp"
#include "limiter.hpp"
#include "log.hpp"
#include "outcome.hpp"
#include "top_level.hpp"

namespace scaf::detail {

/// What few scopes need: kept out of line so that a scope stays small.
struct scope_hooks {
  std::function<void(const child_exit&)> on_child_done;
  std::function<void(const caf::error&)> on_cancel;
  /// See scope::on_message.
  caf::message_handler on_message;
  /// See scope::on_unmatched_message.
  std::function<caf::error(const caf::message&)> on_unmatched;
  /// See node_context::on_started; empty once called.
  std::function<void(caf::message)> on_started;
  std::vector<std::function<void()>> no_tasks_waiters;
  /// Reports of adopted scopes that arrived before their adopt_event.
  std::unordered_map<caf::actor_id, std::shared_ptr<nested_report>>
    early_reports;
  /// Names users gave live children: no two live siblings share one.
  std::unordered_set<std::string> names;
  /// What the live tree calls the scope (`scope_options::kind`).
  std::string kind;
};

class scope_impl : public scope {
public:
  using actor_type = caf::stateful_actor<scope_impl>;
  using time_point = caf::actor_clock::time_point;

  /// Durations from here on (about 146 years) mean never: a grace period or
  /// deadline of `caf::timespan::max()` must not overflow into the past.
  static constexpr caf::timespan never = caf::timespan::max() / 2;

  /// `scaf.watchdog-interval` unless set.
  static constexpr caf::timespan default_watchdog = std::chrono::seconds{5};

  /// What keeps a scope from finishing besides its children (see
  /// `scaf::scope_state`).
  enum hold : uint8_t {
    /// Its body runs.
    hold_body = 1,
    /// Opened into a cancelled scope, its owner has not let go yet.
    hold_owner = 2,
  };

  // -- constructors, destructors, and assignment operators -------------------

  explicit scope_impl(actor_type* self);

  /// Stops every child left: only happens when the scope actor itself died
  /// abnormally (killed, or an exception escaped scaf's own code).
  ~scope_impl();

  // -- the actor (scope.cpp) -------------------------------------------------

  caf::behavior make_behavior(scope_config cfg);

  /// Runs code in the scope's context: an exception escaping it fails the
  /// scope with `errc::task_exception` instead of killing the actor.
  template <class F>
  void guarded(F&& f) {
    try {
      f();
    } catch (...) {
      fail_with(task_exception_error(std::current_exception(), path_.str()));
    }
  }

  /// Fails the scope itself (`scope::fail`, code of the scope that threw).
  void fail_with(caf::error reason);

  void on_event(cancel_event& x);
  void on_event(adopt_event& x);
  void on_event(detach_event& x);
  void on_event(task_died_event& x);
  void on_event(report_event& x);
  void on_event(sweep_event& x);
  void on_event(child_grace_event& x);
  void on_event(deadline_event& x);
  void on_event(job_done_event& x);
  void on_event(child_control_event& x);
  void on_event(call_event& x);
  void on_event(watchdog_event& x);
  void on_event(keeps_open_event& x);
  void on_event(cancel_path_event& x);

  scope_hooks& hooks();

  /// The default handler once `on_message` installed one: a message no case
  /// of the scope's behavior matched.
  caf::result<caf::message> on_unknown_message(caf::scheduled_actor* self,
                                               caf::message_view& x);

  /// The same, for a message a case of the behavior took but did not know
  /// (a one-atom message that is none of the scope's commands).
  caf::result<caf::message> on_unknown_message(caf::message& msg);

  /// The part shared with scope references, made on first use.
  const std::shared_ptr<scope_shared>& shared();

  // -- the lifecycle (lifecycle.cpp) -----------------------------------------

  /// Feeds `input` to the state machine (`scaf::next`) and carries out the
  /// edge it takes: cancelling, closing, joining or forcing the children,
  /// or finishing. The one place the scope's state changes.
  void transition(scope_input input);

  /// Cancels the scope: every child hears `reason` (an `errc::cancelled`
  /// error). `external`: someone else than the scope's own policy cancels,
  /// so the scope ends cancelled unless it fails.
  void cancel_scope(caf::error reason, bool external);

  /// Aborts the scope: cancels it (if it was not) and forces every child.
  void abort_scope();

  /// The owner of a scope opened into a cancelled scope let go.
  void release_owner();

  void notify_no_tasks();

  /// Moves the scope on if its children, queue and holds allow: cancels
  /// the background children once the main work is done, finishes once
  /// idle.
  void check_progress();

  /// Feeds `idle` into the lifecycle, unless a call through a reference is
  /// on its way to a scope that would finish (it comes first).
  void on_idle();

  /// No child, no queued task, no hold.
  bool idle() const noexcept;

  void finish();

  // -- the live tree (tree.cpp) ----------------------------------------------

  /// Snapshots the scope and its children now, asks each child scope for
  /// its own subtree (at most `timeout` each), and calls `deliver` once
  /// all answered, or once the scope is gone: with what it has by then.
  void collect_tree(std::function<void(tree_node)> deliver,
                    caf::timespan timeout);

  /// This scope's own node, without children.
  tree_node tree_self(time_point t) const;

  /// A child's node as this scope sees it, without children; also returns
  /// the actor to ask for the child's own subtree, if any.
  caf::actor tree_child(const child_record& c, time_point t,
                        tree_node& x) const;

  /// How long `actor` has held a scheduler thread in one go, if longer than
  /// `scaf.busy-warning` (see `busy_watch`).
  std::optional<caf::timespan> busy_for(const caf::actor& actor) const;

  // -- spawning (spawn.cpp) --------------------------------------------------

  /// Refuses a spawn into a closed scope, with a negative grace period or a
  /// name a live sibling has.
  caf::error check_spawn(const spawn_options& opts,
                         const std::string& name) const;

  caf::expected<caf::actor> spawn_actor_child(const spawn_options& opts,
                                              actor_kind kind, actor_maker make,
                                              spawn_extras extras);

  caf::error spawn_job_child(const spawn_options& opts, job_maker make,
                             spawn_extras extras);

  /// Spawns from a factory; `on_started` runs once the child is up.
  caf::expected<caf::actor>
  spawn_from(const spawn_options& opts, const child_factory& factory,
             spawn_extras extras, std::function<void(caf::message)> on_started);

  /// Applies what every new child gets: its name, main or background, the
  /// limit, its handle and hooks, its count, and the spawn-while-cancelled
  /// rule (it starts cancelled).
  void admit(child_record& c, const spawn_options& opts, std::string name,
             spawn_extras extras);

  /// Counts `c` in or out of the live children by kind.
  void count(const child_record& c, bool alive);

  /// Tells the scope's references the new counts (if it has references).
  void share_counts();

  // -- scopes that tasks open (owned_scopes.cpp) ------------------------------

  /// Registers `nested`, a scope opened by the child `owner` and named
  /// `name` under it, as a child of this scope that `owner` owns.
  child_record& add_owned(child_record& owner, caf::actor nested,
                          const std::string& name);

  /// A behavior task opened `nested` (it spawned it itself).
  void adopt(caf::actor nested, std::string name);

  /// A function or blocking task (`key`) opens a scope through its
  /// `task_context`: this scope spawns it. See `task_context::open`.
  void open_owned(caf::actor_id key, scope_config cfg);

  /// A behavior task hands `nested` over: it becomes this scope's own.
  void detach(const caf::actor& nested);

  // -- spawning, continued (spawn.cpp) ----------------------------------------

  /// Runs `job`: on the function pool if it takes a token or a context,
  /// else (and under the test coordinator) on CAF's scheduler.
  void submit(job_ptr job);

  void start_queued();

  void drop_queued(const caf::error& why);

  const std::shared_ptr<job_cancel_state>& job_cancel();

  // -- cancel, grace and force (cancel.cpp) ----------------------------------

  /// Makes the cancel reason for `cause` (see `scope::cancel`).
  caf::error cancel_reason_for(caf::error cause) const;

  /// Gives `c` the next deadline in line: the sweep forces it then.
  void schedule_force(child_record& c);

  /// Includes `c` in the cancel of all children (its deadline is the next in
  /// line); sends its cancel unless it has had one.
  void cancel_with_all(child_record& c);

  /// Cancels `c` with its own grace period; `alone`: not with all its
  /// siblings (through its handle, `cancel_child`, its owner's end).
  void cancel_one(child_record& c, const caf::error& reason, bool alone);

  /// Cancels or aborts `c` on its own, as asked through its handle or
  /// `cancel_child`/`abort_child`: never a failure of this scope.
  void control_child(child_record& c, const cancel_request& x);

  /// What a task cancelled through its handle hears: the reason given (as
  /// the cause of a cancel, unless it is one), else a cancel naming `path`;
  /// aborted before it ran (queued), it was killed.
  caf::error handle_cancel_reason(std::string path,
                                  const cancel_request& x) const;

  /// Tells `c` to stop: its kind decides how.
  void deliver_cancel(child_record& c, const caf::error& reason,
                      time_point force_at, bool alone);

  /// Forces `c` because of `cause`: its kind decides how.
  void force(child_record& c, force_cause cause);

  /// What a forced child hears if it hears anything: the scope's cancel
  /// reason, or one naming `cause` when the scope was not cancelled.
  caf::error forced_reason(force_cause cause) const;

  /// Kills the task `c` (a behavior or function task actor).
  void kill(child_record& c);

  /// `c` cannot be stopped while it runs: waited for as a straggler.
  void mark_straggler(child_record& c);

  void arm_sweep();

  /// Arms the one timer of the children cancelled on their own for the
  /// earliest of their deadlines, unless one is armed for it already.
  void arm_grace();

  /// Names the forced children still alive after `scaf.watchdog-interval`,
  /// and again every interval while there are any.
  void arm_watchdog();

  /// Forces every child the scope controls itself (an abort).
  void force_all();

  caf::timespan grace_of(const child_record& c) const noexcept;

  // -- done (done.cpp) -------------------------------------------------------

  void on_down(caf::down_msg& msg);

  /// A child ended with `reason`: the one done path, unless it must wait
  /// for scopes it opened first (then it ends once they are done).
  void child_ended(child_record& rec, caf::error reason);

  /// The one done path, for every kind of child.
  void child_done(child_record& rec, caf::error reason);

  /// What the failure policy (or the `on_child_done` handler) makes of it.
  void settle(const child_record& c, node_status status,
              const caf::error& reason);

  /// A failure reached the scope from `origin` (a child's path, or the
  /// scope's own): the failure policy decides.
  void take_failure(const std::string& origin, const caf::error& reason);

  /// The scope `id` that `owner` opened is done: `owner` may end now.
  void owned_scope_done(child_record& owner, caf::actor_id id);

  // -- properties ------------------------------------------------------------

  node_path child_path(const child_record& c) const {
    return node_path{prefix_, c.name};
  }

  /// The path of `c` for a log line: rendered only if the line is written.
  lazy_path log_path(const child_record& c) const {
    return {prefix_, c.name};
  }

  time_point now() const {
    return self_->clock().now();
  }

  /// When `d` from now is: never for a duration of `never` or more.
  time_point deadline_after(caf::timespan d) const {
    return d >= never ? time_point::max() : now() + d;
  }

  /// Sends `msg` to this scope after `d`, unless `d` means never.
  template <class T>
  void send_after(caf::timespan d, T&& msg) {
    if (d < never)
      self_->delayed_send(self_, d, std::forward<T>(msg));
  }

  bool cancelled() const noexcept {
    return scaf::is_cancelled(state_);
  }

  bool aborting() const noexcept {
    return state_ == scope_state::aborting;
  }

  /// What the live tree and the trace call the scope.
  const char* kind_name() const noexcept {
    return hooks_ && !hooks_->kind.empty() ? hooks_->kind.c_str() : "scope";
  }

  // -- member variables ------------------------------------------------------

  node_path path_;
  /// The shared form of `path_`, which the children's paths build on.
  path_prefix prefix_;
  /// The grace period for cancels (`scope_options::grace`, set at start).
  caf::timespan grace_{0};
  scope_outcome outcome_{failure_policy::errgroup};
  child_registry children_;
  limiter limiter_;
  /// Where the scope writes its report when it finishes (may be null).
  std::shared_ptr<scope_report> report_;
  /// The scope that supervises this one; its subtree's report goes there.
  caf::actor_addr report_to_;
  /// Keeps a top-level scope alive while nobody holds its handle.
  caf::actor keep_alive_;
  std::shared_ptr<job_cancel_state> job_cancel_;
  std::unique_ptr<scope_hooks> hooks_;
  /// Shared with references and owners; null while there are none.
  std::shared_ptr<scope_shared> shared_;
  /// What every child hears once the scope is cancelled.
  caf::error cancel_reason_;
  /// Set when the parent cancelled this scope: when it forces this scope
  /// (and with it every child) at the latest; `time_point::max()` if not.
  time_point covered_until_ = time_point::max();
  /// The deadline of the children cancelled last: deadlines grow in spawn
  /// order, so one timer and a cursor force them all in linear time.
  time_point last_deadline_{};
  /// The first child the cancel of all children has yet to force.
  child_record* sweep_cursor_ = nullptr;
  /// A child cancelled on its own, and when its grace period ends.
  struct grace_entry {
    time_point deadline;
    caf::actor_id id;
  };
  /// The children cancelled on their own, earliest deadline first (a heap):
  /// one timer at a time forces them all, where a timer each would make a
  /// round trip through CAF's clock thread for every child (a pool whose
  /// workers are stopped one by one). Entries of children that ended are
  /// dropped when their deadline comes.
  std::vector<grace_entry> grace_heap_;
  /// When the armed timer of `grace_heap_` fires; `max()` if none is.
  time_point grace_armed_at_ = time_point::max();
  /// When the scope started (its age in the live tree).
  time_point started_at_{};
  uint64_t next_seq_ = 0;
  uint64_t next_job_ = 0;
  /// Live children by kind (`count_slot`).
  std::array<uint32_t, 4> live_{};
  /// Main work left: main children alive or queued.
  uint32_t main_running_ = 0;
  /// Where the scope stands (scaf/scope_state.hpp).
  scope_state state_ = scope_state::open;
  /// `hold` bits.
  uint8_t holds_ = 0;
  bool sweep_armed_ : 1 = false;
  bool watchdog_armed_ : 1 = false;
  /// The root of a tree (see `remember_top_level`).
  bool top_level_ : 1 = false;
  bool defer_started_ : 1 = false;
  bool keep_open_ : 1 = false;
  /// `scope_options::record_outcomes`.
  bool record_outcomes_ : 1 = false;
};

/// The state behind the public face.
inline scope_impl& state_of(scope& s) noexcept {
  return static_cast<scope_impl&>(s);
}

inline const scope_impl& state_of(const scope& s) noexcept {
  return static_cast<const scope_impl&>(s);
}

inline scope_impl& state_of(scope_core& s) noexcept {
  return static_cast<scope_impl&>(s);
}

inline const scope_impl& state_of(const scope_core& s) noexcept {
  return static_cast<const scope_impl&>(s);
}

} // namespace scaf::detail
