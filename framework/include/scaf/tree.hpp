#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/timespan.hpp>

#include "scaf/scope_state.hpp"

namespace scaf {

/// Where a node of the live tree stands when it is asked.
enum class node_state {
  /// Runs; nobody asked it to stop.
  running,
  /// A scope that waits for its children (joined or closed, not
  /// cancelled).
  waiting,
  /// Asked to stop (a cancel was sent, or a scope was cancelled); within or
  /// past its grace period.
  cancelling,
  /// Forced: killed or aborted, its end not seen yet.
  killing,
  /// Forced, yet cannot be stopped while it runs (a function or blocking
  /// task past its grace period): waited for.
  straggler,
};

/// Returns the enumerator's name, e.g. `"cancelling"`.
const char* to_string(node_state x);

/// One node of a live tree snapshot: a scope with its children as they
/// are when the scope answers, or a task as its scope sees it. Ask a scope
/// for one with `scope_ref::tree()` (or the `tree_atom` request); render it
/// with `to_text` or `to_json`.
struct tree_node {
  /// The last element of its path.
  std::string name;
  /// Its path from the root, e.g. `"app/db/pool/3"`.
  std::string path;
  /// What it is: `"scope"`, `"supervisor"`, `"pool"` (or what
  /// `scope::set_kind` said), `"task"` (a behavior task), `"function"` (a
  /// function task), `"blocking"` (a blocking task).
  std::string kind;
  /// Where it stands.
  node_state state = node_state::running;
  /// How long it has existed: since it was spawned.
  caf::timespan age{0};
  /// Set once its grace period has passed while it was still alive (for a
  /// node that is cancelling, being killed, or a straggler): how long ago.
  std::optional<caf::timespan> overdue;
  /// For a scope: where it stands in its life (`scope_state`); unset for
  /// tasks.
  std::optional<scaf::scope_state> scope_state;
  /// Set for a task that has held a scheduler thread in one go for longer
  /// than `scaf.busy-warning`: for how long (actors waiting for that thread
  /// wait for it, cancels included).
  std::optional<caf::timespan> busy;
  /// How many times it was started before (a supervisor's restarts of
  /// it, `spawn_options::restarts`).
  size_t restarts = 0;
  /// For a scope: its live children, however many `children` lists.
  size_t live_children = 0;
  /// Its children, in spawn order (scopes that a task opened sit under that
  /// task).
  std::vector<tree_node> children;
  /// For a remote child (a stand-in, `spawn_options::stand_in`): the node
  /// its work runs on; its `children` are its subtree there, with the
  /// node's paths. Empty for everything of this process.
  std::string node;
  /// Set when this scope did not answer in time (or was done before it
  /// could): `state`, `age` and `children` are then its parent's view.
  bool unanswered = false;
};

/// Renders `tree` as an indented text tree, one line a node, e.g.
///
///     app  scope  cancelling  12.0 s  2 children
///       db  supervisor  cancelling  11.9 s  1 child
///         conn  task  killing  11.9 s  restarted 2x  overdue 1.5 s
///
std::string to_text(const tree_node& tree);

/// Snapshots of the live trees of every top-level scope of `sys` (made by
/// `scaf::run`, `spawn_scope` or `make_scope`) that has started and still
/// runs, sorted by path; a scope that does not answer within `timeout` is
/// left out. Blocks:
/// call it from a thread of your own, not from an actor (see
/// `scaf/tree_dump.hpp` for a signal that prints them).
std::vector<tree_node>
top_level_trees(caf::actor_system& sys,
                caf::timespan timeout = std::chrono::seconds{2});

/// Renders `tree` as JSON: one object a node with the keys `name`, `path`,
/// `kind`, `state`, `age_ms`, `live_children`, `children` (an array), and
/// when set `scope_state`, `overdue_ms`, `busy_ms`, `restarts`, `node` and
/// `unanswered`; indented by `indent` spaces a level, or on one line if
/// `indent` is negative.
std::string to_json(const tree_node& tree, int indent = 2);

} // namespace scaf

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::tree_node)
