#pragma once

#include <string>

#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "scaf/scope_options.hpp"

namespace scaf {

/// How one child of a scope ended, as a handler installed with
/// `scope::on_child_done` sees it.
struct child_exit {
  /// The child's actor id (`caf::actor::id()` of what `spawn` returned); for
  /// a function task run as a job, which has no actor, a key no actor has.
  caf::actor_id id;
  /// The child's name, the last element of its path.
  std::string name;
  /// How the child ended.
  node_status status;
  /// Empty when done; else the child's error, its cancel reason, or
  /// `errc::killed`.
  caf::error reason;
};

} // namespace scaf
