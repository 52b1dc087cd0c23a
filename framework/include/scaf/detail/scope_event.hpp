#pragma once

#include <cstdint>
#include <variant>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>
#include <caf/timespan.hpp>

#include "scaf/detail/job.hpp"
#include "scaf/detail/node.hpp"

namespace scaf::detail {

/// The parent scope cancels this scope with `reason`, and forces it (aborts
/// it, forcing every child) at `force_at` at the latest.
struct cancel_event {
  caf::error reason;
  caf::actor_clock::time_point force_at;
};

/// A child task opened the scope `nested`: its scope waits for it too.
struct adopt_event {
  caf::actor nested;
};

/// A child task hands the scope `nested` it opened over to its own scope
/// (`task_base::detach`).
struct detach_event {
  caf::actor nested;
};

/// A nested scope's children's outcomes, sent just before its down message.
struct report_event {
  outcomes children;
};

/// The grace period of the cancel in `generation` ended (sent to itself).
struct grace_event {
  uint64_t generation;
};

/// A deadline passed (sent to itself): `fail_after` if `fail`, else
/// `move_on_after`.
struct deadline_event {
  bool fail;
  caf::timespan timeout;
};

/// A function task run as a job finished.
struct job_done_event {
  job_ptr job;
};

/// scaf's own messages to a scope, as one message type: every case of a CAF
/// behavior costs each actor that has it about 40 bytes (measured: 624 bytes
/// for 14 cases, 144 for 2), and a scope is a node of every tree.
using scope_event
  = std::variant<cancel_event, adopt_event, detach_event, report_event,
                 grace_event, deadline_event, job_done_event>;

} // namespace scaf::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::detail::scope_event)
