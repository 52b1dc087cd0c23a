#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/timespan.hpp>

namespace scaf {

/// What a scope does when one of its children fails.
enum class failure_policy {
  /// Go's errgroup: the first failure becomes the scope's result and cancels
  /// the siblings; later failures are kept as suppressed errors.
  errgroup,
  /// Supervisor mode: a failure cancels nobody. The first failure still
  /// becomes the scope's result once the scope finishes; later ones are kept
  /// as suppressed errors.
  isolate,
  /// Java's `anySuccessfulResultOrThrow`: the first child to succeed wins
  /// and cancels its siblings; the scope succeeds. Failures cancel nobody;
  /// only if no child succeeds is the first failure the result. Return
  /// `first_success(...)` from the body to get the winner's value.
  race,
};

/// Options of a scope, fixed when it is opened.
struct scope_options {
  /// The scope's name, the last element of its path. Defaults to `"root"`
  /// for `scaf::run`, `"scope"` for `scaf::spawn_scope` and
  /// `task_base::open_scope`, and to the spawn index ("0", "1", ...) for
  /// `scope::spawn_scope`.
  std::string name{};

  /// How long a cancelled child may take to finish before it is killed.
  /// Defaults to the grace period of the scope or task that opens this one,
  /// else to the configuration value `scaf.grace-period` (5 s if unset).
  /// `caf::timespan::max()` means children are never forced.
  std::optional<caf::timespan> grace{};

  /// What a failing child does to its siblings.
  failure_policy policy = failure_policy::errgroup;

  /// Whether the report keeps the outcome of every child (and, for nested
  /// scopes, theirs), so that the result can be rendered as a tree. Off by
  /// default: a long-running scope would otherwise grow with every child it
  /// ever had. Nested scopes inherit it.
  bool record_outcomes = false;

  /// How many entries each of the report's lists of failures, kills and
  /// stragglers keeps at most (`scope_report::suppressed`, `killed`,
  /// `stragglers`): the latest ones, so that a scope that lives for months
  /// (an `isolate` service, a supervisor) stays the same size however many
  /// of its children fail. `scope_report::omitted` counts what was dropped;
  /// the scope's own first failure is always kept (`failure`). A scope that
  /// records every outcome (`record_outcomes`) keeps everything.
  std::size_t record_limit = 1000;

  /// What the live tree (`scope_ref::tree`) calls the scope; empty:
  /// `"scope"`. Supervisors say `"supervisor"`, pools `"pool"`.
  std::string kind{};
};

/// Options of one child, given when it is spawned.
struct spawn_options {
  /// The child's name, the last element of its path. Defaults to its spawn
  /// index within the scope ("0", "1", ...).
  std::string name{};

  /// A background child does not keep its scope open: once the scope's main
  /// work is done, background children are cancelled (zksync's `spawn_bg`).
  bool background = false;

  /// How long this child may take to finish after its cancel before it is
  /// forced; unset, the scope's grace period applies. OTP calls it the
  /// child's shutdown time; zero forces the child as soon as it is cancelled.
  std::optional<caf::timespan> grace{};

  /// What the live tree and the trace call the child; empty: its kind
  /// (`"task"`, `"function"`, `"blocking"`, `"scope"`). `scaf::spawn_remote`
  /// says `"remote"`.
  std::string kind{};

  /// The task stands in for work elsewhere, as `scaf::spawn_remote`'s
  /// children do for theirs on another node. Its scope does not kill it when
  /// it forces it (an abort, its grace period over) but tells it, with an
  /// `errc::killed` error, through its `task_base::on_force` handler, and
  /// waits for it to end: it passes the force on and quits with
  /// `errc::killed` (or what the work ended with) once that work is gone.
  /// Without a handler it quits with the `errc::killed` error at once. The
  /// live tree asks it for its subtree with a `tree_atom` request, as it
  /// asks a scope (one that does not answer shows as `unanswered`).
  /// Behavior tasks only.
  bool stand_in = false;

  /// How many times this child was started again before, by whoever
  /// restarts it (a supervisor says so for each restart): the live tree
  /// shows it. Zero for a first start.
  size_t restarts = 0;
};

/// Counts of a scope's limited tasks (see `scope::set_limit`).
struct limit_counts {
  /// Waiting for a free slot.
  size_t queued = 0;
  /// Running now.
  size_t running = 0;
  /// Refused by `scope::try_spawn_fn`.
  size_t rejected = 0;
};

/// The live children of a scope by kind (see `scope::children`). A task is
/// counted from its spawn until its scope has seen it end, which happens
/// before its handle resolves.
struct child_counts {
  /// Behavior tasks (`scope::spawn`, `start`, child factories).
  size_t behaviors = 0;
  /// Function tasks (`spawn_fn`, `spawn_cancellable`), running or about to.
  size_t functions = 0;
  /// Blocking tasks (`spawn_blocking`), each on a thread of its own.
  size_t blocking = 0;
  /// Nested and child scopes, and scopes that tasks of this scope opened.
  size_t scopes = 0;
  /// Limited tasks waiting for a slot (not yet alive, not in the sum).
  size_t queued = 0;

  /// Returns the number of live children, queued tasks not included.
  size_t alive() const noexcept {
    return behaviors + functions + blocking + scopes;
  }
};

/// What `scope_ref::when_cancelled` resolves with.
struct cancel_notice {
  /// The scope's cancel reason (an `errc::cancelled` error; `cancel_cause`
  /// tells why).
  caf::error reason;
};

/// How a node ended, as its scope saw it.
enum class node_status {
  /// Finished normally.
  done,
  /// Failed with an error of its own.
  failed,
  /// Ended with `errc::cancelled`: it was cancelled, by its scope or by
  /// anyone else. Never a failure of its scope.
  cancelled,
  /// Killed by its scope after the grace period, or by an abort.
  killed,
  /// Failed with `errc::timeout` (a deadline).
  timed_out,
  /// A function or blocking task that could not be stopped, overstayed the
  /// grace period and finished later.
  straggler,
};

/// Returns the enumerator's name, e.g. `"cancelled"`.
const char* to_string(node_status x);

/// The outcome of one child of a scope (recorded when
/// `scope_options::record_outcomes` is on).
struct node_outcome {
  /// The node's name, the last element of its path: the path of the node is
  /// its parent's path, a slash, and this name (`render_tree` prints it).
  /// Names only, so that a report costs memory linear in the tree's size.
  /// (A scope opened by a task that was done before it, killed, stands
  /// beside that task as "task/scope".)
  std::string name;
  /// How the node ended.
  node_status status = node_status::done;
  /// The node's exit reason; empty when done.
  caf::error reason;
  /// For a nested scope, and for a task that opened scopes: the outcomes of
  /// its children.
  std::vector<node_outcome> children;
};

/// How a scope ended: one of three ways, as stdexec's senders end in value,
/// error or stopped. Being cancelled is never a failure.
enum class scope_status {
  /// Nothing failed and nobody cancelled the scope. A scope that cancelled
  /// its own children because its main work was done, because it moved on
  /// after a deadline (`move_on_after`) or because a race was won still
  /// succeeds.
  succeeded,
  /// A child failed (an error other than `errc::cancelled`), the body
  /// returned an error or threw, or `fail`/`fail_after` failed it; also if
  /// that happened while the scope was cancelling.
  failed,
  /// The scope was cancelled (by `cancel`, a message, an `exit_msg`, its
  /// parent, its owner task quitting, or an abort) and nothing failed.
  cancelled,
};

/// Returns the enumerator's name, e.g. `"cancelled"`.
const char* to_string(scope_status x);

/// What a finished scope reports about itself. A scope writes its report
/// exactly once, just before it terminates; whoever reads it after receiving
/// the scope's down message (or after `scaf::run` returned) sees it complete.
///
/// Failures, kills and stragglers of nested scopes travel up: the report of
/// a scope holds those of its whole subtree, with their real paths.
struct scope_report {
  /// How the scope ended.
  scope_status status = scope_status::succeeded;

  /// The first failure. Later failures go to `suppressed`, except that an
  /// exception escaping task code (`errc::task_exception`) outranks an
  /// earlier ordinary error, which then moves to the front of `suppressed`
  /// (a bug beats an expected error, as in zksync's scopes).
  caf::error failure;

  /// Why the scope was cancelled, if someone cancelled it (a cancel, its
  /// parent, its owner task quitting, an abort), also if it then failed as
  /// well: an `errc::cancelled` error naming where the cancel came from
  /// (`cancel_cause` gives what caused it). Empty if only the scope itself
  /// cancelled its children (because a child failed, a deadline passed, its
  /// main work was done or a race was won).
  caf::error cancel_reason;

  /// Every other failure in the subtree, in the order the scope saw them.
  std::vector<caf::error> suppressed;

  /// Paths of the nodes in the subtree that their scope killed because they
  /// overstayed the grace period (or because of an abort).
  std::vector<std::string> killed;

  /// Paths of the function and blocking tasks in the subtree that overstayed
  /// the grace period; they cannot be stopped, so their scope waited.
  std::vector<std::string> stragglers;

  /// The outcome of every child, in the order they finished; empty unless
  /// `scope_options::record_outcomes` is on. Not bounded by `record_limit`:
  /// it is asked for, one entry per child.
  std::vector<node_outcome> children;

  /// How many entries `suppressed`, `killed` and `stragglers` dropped, the
  /// oldest first, to stay within `scope_options::record_limit` (in this
  /// scope or in a nested scope on their way up).
  struct omitted_counts {
    /// Failures left out of `suppressed`.
    std::size_t suppressed = 0;
    /// Paths left out of `killed`.
    std::size_t killed = 0;
    /// Paths left out of `stragglers`.
    std::size_t stragglers = 0;

    /// Whether nothing was dropped.
    bool none() const noexcept {
      return suppressed == 0 && killed == 0 && stragglers == 0;
    }
  };

  /// What the lists left out (all zero unless a limit was reached).
  omitted_counts omitted;

  /// Returns what the scope's down message carries: `failure` if it failed,
  /// `cancel_reason` if it was cancelled, an empty error if it succeeded.
  const caf::error& reason() const noexcept {
    switch (status) {
    case scope_status::failed:
      return failure;
    case scope_status::cancelled:
      return cancel_reason;
    default:
      return no_error_;
    }
  }

private:
  static inline const caf::error no_error_{};
};

/// Renders a finished scope's outcome as a tree, one node per line, each with
/// its full path:
///
///     root: failed: caf::sec::runtime_error("disk full")
///     |- root/flaky: failed: caf::sec::runtime_error("disk full")
///     `- root/index: cancelled: scaf::cancelled(root: root/flaky failed: ...)
///        `- root/index/0: cancelled: ...
///
/// `path` names the scope itself.
std::string render_tree(const scope_report& report, const std::string& path);

} // namespace scaf
