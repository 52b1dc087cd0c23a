// Internal: scaf's own messages to a scope actor, as one message type.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>
#include <caf/timespan.hpp>

#include "scaf/detail/handle_state.hpp"
#include "scaf/detail/job.hpp"
#include "scaf/detail/scope_shared.hpp"
#include "scaf/scope_options.hpp"

namespace scaf::detail {

/// What a nested scope's subtree hands up to the scope that supervises it,
/// so that the root's report covers the whole tree.
struct nested_report {
  /// Failures that did not become the nested scope's result (its suppressed
  /// errors), in order.
  std::vector<caf::error> suppressed;
  /// Full paths of the nodes its subtree killed, and of its stragglers.
  std::vector<std::string> killed;
  std::vector<std::string> stragglers;
  /// Its children's outcomes (`record_outcomes`).
  std::vector<node_outcome> children;
  /// What its lists dropped (`scope_options::record_limit`).
  scope_report::omitted_counts omitted;

  bool empty() const noexcept {
    return suppressed.empty() && killed.empty() && stragglers.empty() &&
           children.empty() && omitted.none();
  }
};

/// A failure of a scope opened by a behavior task, which the task may not
/// live to handle.
struct unhandled_failure {
  caf::actor_id scope;
  std::string origin;
  caf::error failure;
};

/// The parent scope cancels this scope with `reason`, and forces it (aborts
/// it, forcing every child) at `force_at` at the latest.
struct cancel_event {
  caf::error reason;
  caf::actor_clock::time_point force_at;
};

/// A child task opened the scope `nested`, named `name`: its scope waits for
/// it too.
struct adopt_event {
  caf::actor nested;
  std::string name;
};

/// A child task hands the scope `nested` it opened over to its own scope
/// (`task_base::detach`).
struct detach_event {
  caf::actor nested;
};

/// The task `owner` died abnormally (killed, or an exception escaped it)
/// while the scopes `scopes` it opened were alive: it never learns how they
/// end, so their failures are its scope's, and so are the failures it held
/// while waiting for them (`held`: its own, or theirs it had taken on).
/// Sent just before its down message.
struct task_died_event {
  caf::actor_id owner;
  std::vector<caf::actor_id> scopes;
  std::vector<caf::error> held;
};

/// A nested scope's subtree report, sent just before its down message.
struct report_event {
  std::shared_ptr<nested_report> report;
};

/// The children cancelled together are due to be forced (sent to itself).
struct sweep_event {};

/// The earliest grace period of the children cancelled on their own has
/// ended (sent to itself): the one that ends at `at`.
struct child_grace_event {
  caf::actor_clock::time_point at;
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

/// A cancel or abort of one child, asked for through its handle.
struct child_control_event {
  caf::actor_id key;
  cancel_request request;
};

/// A call into the scope through a `scope_ref`, a `scope_owner` or a
/// function task's `task_context`.
struct call_event {
  scope_call_ptr call;
  /// Sent by `scope_shared::post`, which counts it until it arrives.
  bool posted = false;
};

/// Time to name the forced children that are still alive (sent to itself
/// every `scaf.watchdog-interval` while there are any).
struct watchdog_event {};

/// A nested scope's body ended with `keep_open`: the join of its parent
/// (the sender's scope) must reach it.
struct keeps_open_event {};

/// Answers a `cancel_path_event` once: with nothing once the cancel is
/// sent, with why not otherwise, or, if the event is dropped on its way (the
/// scope it went to ended), with `errc::no_such_child`.
class path_answer {
public:
  explicit path_answer(std::string path, std::function<void(caf::error)> f);

  path_answer(const path_answer&) = delete;
  path_answer& operator=(const path_answer&) = delete;

  ~path_answer();

  void operator()(caf::error result);

  const std::string& path() const noexcept {
    return path_;
  }

private:
  std::string path_;
  std::function<void(caf::error)> answer_;
};

/// Cancels the node at `answer->path()`, this scope or a descendant of it,
/// with `why` (the observer's cancel action): the scope whose child it is
/// cancels it as a handle would; a scope on the way passes it on.
struct cancel_path_event {
  std::string why;
  std::shared_ptr<path_answer> answer;
};

/// scaf's own messages to a scope, as one message type: every case of a CAF
/// behavior costs each actor that has it about 40 bytes (measured: 624 bytes
/// for 14 cases, 144 for 2), and a scope is a node of every tree.
using scope_event =
  std::variant<cancel_event, adopt_event, detach_event, task_died_event,
               report_event, sweep_event, child_grace_event, deadline_event,
               job_done_event, child_control_event, call_event, watchdog_event,
               keeps_open_event, cancel_path_event>;

} // namespace scaf::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::detail::scope_event)
