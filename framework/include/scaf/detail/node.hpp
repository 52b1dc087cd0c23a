#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "scaf/scope_options.hpp"

namespace scaf {

class scope;

namespace detail {

/// What a node learns from the scope that spawns it.
struct node_context {
  /// The spawning scope; weak, the scope holds the child and not vice versa.
  caf::actor_addr parent;
  /// Full path of the new node, e.g. "root/db/3".
  std::string path;
  /// The spawning scope's grace period, inherited by scopes the node opens.
  std::optional<caf::timespan> grace;
  /// The reason, if the spawning scope is already cancelled.
  caf::error cancelled;
  /// If set, a new task calls it once it is up: when its behavior function
  /// has returned, or later (`task_base::defer_started`). Supervisors start
  /// their children one after another by it.
  std::function<void()> on_started;
};

/// Spawns one child in the context of `parent` with the given context and
/// returns it, monitored by `parent`.
using child_factory
  = std::function<caf::actor(caf::local_actor* parent, node_context ctx)>;

/// A nested scope's children's outcomes, sent to its parent scope just before
/// it terminates.
using outcomes = std::shared_ptr<std::vector<node_outcome>>;

/// Payload of `(spawn_atom, spawn_request)`.
struct spawn_request {
  spawn_options options;
  child_factory make;
};

/// Everything needed to start a scope actor.
struct scope_config {
  scope_options options;
  node_context context;
  /// Runs inside the scope actor when it starts.
  std::function<void(scope&)> body;
  /// Receives the scope's report just before it terminates; may be null.
  std::shared_ptr<scope_report> report;
  /// Whether the scope finishes on its own once the body has returned and
  /// its main tasks are done (`scaf::run`, nested scopes). A service scope
  /// (`scaf::spawn_scope`) runs until cancelled, failed, joined or closed.
  bool join_after_body = true;
  /// Whether the scope sends its children's outcomes to its parent scope
  /// before it terminates (nested scopes spawned by a scope).
  bool report_to_parent = false;
  /// Whether the scope keeps itself alive until it finishes even if nobody
  /// holds its handle (top-level scopes).
  bool keep_alive = false;
};

/// Spawns a scope actor as a monitored child of `parent`.
caf::actor spawn_scope_actor(caf::local_actor* parent, scope_config cfg);

/// Spawns a top-level scope actor.
caf::actor spawn_scope_actor(caf::actor_system& sys, scope_config cfg);

/// Fails the scope `s` with `reason` as if a child had failed with it.
void fail_scope(scope& s, caf::error reason);

} // namespace detail
} // namespace scaf

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::detail::spawn_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::detail::outcomes)
