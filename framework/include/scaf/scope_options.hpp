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
  /// The scope's name, the last element of its path. Defaults to `"scope"`
  /// for a top-level scope and to the spawn index for a nested one.
  std::string name{};

  /// How long a cancelled child may take to finish before it is killed.
  /// Defaults to the configuration value `scaf.grace-period` (5 s if unset).
  std::optional<caf::timespan> grace{};

  /// What a failing child does to its siblings.
  failure_policy policy = failure_policy::errgroup;

  /// Whether the report keeps the outcome of every child (and, for nested
  /// scopes, theirs), so that the result can be rendered as a tree. Off by
  /// default: a long-running scope would otherwise grow with every child it
  /// ever had. Nested scopes inherit it.
  bool record_outcomes = false;
};

/// Options of one child, given when it is spawned.
struct spawn_options {
  /// The child's name, the last element of its path. Defaults to its spawn
  /// index within the scope ("0", "1", ...).
  std::string name{};

  /// A background child does not keep its scope open: once the scope's main
  /// work is done, background children are cancelled (zksync's `spawn_bg`).
  bool background = false;
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

/// How a node ended, as its scope saw it.
enum class node_status {
  /// Finished normally.
  done,
  /// Failed with an error of its own.
  failed,
  /// Acknowledged a cancel.
  cancelled,
  /// Killed after the grace period, or by an abort.
  killed,
  /// Failed with `errc::timeout` (a deadline).
  timed_out,
  /// A blocking task that overstayed the grace period and finished later.
  straggler,
};

/// Returns the enumerator's name, e.g. `"cancelled"`.
const char* to_string(node_status x);

/// The outcome of one child of a scope (recorded when
/// `scope_options::record_outcomes` is on).
struct node_outcome {
  /// Full path of the node, e.g. `"root/db/3"`.
  std::string path;
  node_status status = node_status::done;
  /// The node's exit reason; empty when done.
  caf::error reason;
  /// For a nested scope: the outcomes of its children.
  std::vector<node_outcome> children;
};

/// What a finished scope reports about itself. A scope writes its report
/// exactly once, just before it terminates; whoever reads it after receiving
/// the scope's down message (or after `scaf::run` returned) sees it complete.
struct scope_report {
  /// The scope's result: the first error, or the reason of the cancel that
  /// stopped it; empty on success.
  caf::error result;

  /// Every later failure of a child, in the order the scope saw them.
  std::vector<caf::error> suppressed;

  /// Paths of the children killed because they overstayed the grace period
  /// (or because the scope was aborted), in the order they were killed.
  std::vector<std::string> killed;

  /// Paths of the blocking tasks that overstayed the grace period; they
  /// cannot be killed, so the scope waited for them.
  std::vector<std::string> stragglers;

  /// The outcome of every child, in the order they finished; empty unless
  /// `scope_options::record_outcomes` is on.
  std::vector<node_outcome> children;
};

/// Renders a finished scope's outcome as a tree, one node per line:
///
///     root: failed: caf::sec::runtime_error("disk full")
///     |- root/flaky: failed: caf::sec::runtime_error("disk full")
///     `- root/index: cancelled: scaf::cancelled(root: root/flaky failed: ...)
///        `- root/index/0: cancelled: ...
///
/// `path` names the scope itself.
std::string render_tree(const scope_report& report, const std::string& path);

} // namespace scaf
