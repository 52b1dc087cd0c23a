#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>
#include <caf/timespan.hpp>

#include "scaf/handle.hpp"
#include "scaf/scope_ref.hpp"
#include "scaf/supervisor.hpp"
#include "scaf/supervisor_atoms.hpp"

namespace scaf {

/// Where one child of a supervisor stands.
enum class child_state {
  /// Started; not up yet.
  starting,
  /// Up and running.
  running,
  /// It ended and waits for its restart: its turn, a backoff, or the next
  /// attempt after a start that failed (OTP's `restarting`).
  restarting,
  /// Not running: stopped with `terminate_child`, declined its start, ended
  /// and not restarted (a transient child that ended well), or stopped for
  /// a sibling's group restart until that restart starts it again (OTP's
  /// `undefined`). `restart_child` starts a child that is not due to start.
  stopped,
};

/// Returns the enumerator's name, e.g. `"running"`.
const char* to_string(child_state x);

/// One child of a supervisor, as `supervisor_ref::which_children` lists it.
struct child_info {
  /// The child's name, the last element of its path.
  std::string name;
  /// Where it stands.
  child_state state = child_state::stopped;
  /// Its actor while it is starting or running; else empty.
  caf::actor actor;
  /// How often the supervisor restarted it (`restart_child` calls are not
  /// counted).
  size_t restarts = 0;
  /// When it is restarted.
  restart_type restart = restart_type::permanent;
  /// Whether its end can end the supervisor (`auto_shutdown`).
  bool significant = false;
  /// Whether it is a scope (a supervisor, say: OTP's `supervisor` type)
  /// rather than a task (OTP's `worker`).
  bool scope = false;
};

/// A child that a start call started: OTP's `{ok, Child, Info}`.
struct started_child {
  /// Its actor; empty if it declined to start (OTP's `{ok, undefined}`).
  caf::actor actor;
  /// Its name, which finds it for the rest of its life, across restarts (a
  /// pool worker's `worker-N` as well).
  std::string name;
  /// What it passed to `signal_started(info)` when it came up (see
  /// `scope::start_with_info`); empty if it passed nothing.
  caf::message info;
};

/// A supervisor's children counted as OTP's `count_children` does.
struct supervisor_counts {
  /// Children the supervisor knows, running or not; for a pool, 1 (its
  /// worker template, as OTP counts).
  size_t specs = 0;
  /// Children starting or running.
  size_t active = 0;
  /// Children that are scopes (supervisors among them), running or not.
  size_t supervisors = 0;
  /// Children that are tasks, running or not.
  size_t workers = 0;
};

/// A reference to a running `scaf::supervisor` through which any thread or
/// actor manages its children one by one, as OTP's `supervisor` module
/// does: start a child from a spec, terminate, restart or delete one by
/// name, look one up, list and count them. Each call runs in the
/// supervisor's context, after the calls made before it (through any
/// reference or by message) and between the steps of whatever start or
/// stop the supervisor is in the middle of. A restart attempt that fails
/// before the child is up is retried only after the calls that arrived
/// meanwhile are answered, so a child caught in a restart loop never starves
/// them (OTP's `try_again_restart`). While a group restart (`one_for_all`,
/// `rest_for_one`) waits for its backoff or its next attempt, calls are
/// answered, but a call that starts a child waits for that restart; under
/// `one_for_one` a child waits for its backoff on its own and holds nothing
/// back; calls that start nothing are answered ahead of a start that waits.
/// Its handle resolves once the call is done (a started child is up, a
/// terminated one has stopped).
///
/// Errors: `errc::no_such_child` (no child of that name, OTP's
/// `not_found`), `errc::child_exists` (`start_child` with a name in use:
/// running, and `already_started` returns its actor, or not),
/// `errc::child_running` and `errc::child_restarting` (`restart_child` or
/// `delete_child` of a child that is not stopped), `errc::invalid_argument`
/// (a bad spec), a child's own error when a call's start fails, and
/// `errc::scope_closed` once the supervisor is shutting down or gone.
///
/// A child stopped through `terminate_child` is not restarted, counts
/// toward no intensity, and ends no supervisor (`auto_shutdown`); a
/// temporary child is then forgotten, any other kept as stopped until
/// `restart_child` or `delete_child`. A child started through `start_child`
/// or `restart_child` that fails before it is up is not restarted: the
/// error is the call's (a new child's spec is then forgotten); one that
/// declines is stopped, and the handle resolves with an empty actor.
///
/// Cheap to copy, and it does not keep the supervisor alive. A supervisor
/// restarted by its parent is a new one: references to the old one then
/// answer `errc::scope_closed`. CAF actors may send the same calls as
/// requests instead (`scaf/supervisor_atoms.hpp`).
class supervisor_ref {
public:
  // -- constructors, destructors, and assignment operators -------------------

  /// A reference to no supervisor: every call fails with
  /// `errc::invalid_argument`.
  supervisor_ref() = default;

  /// @private What a reference holds (defined where supervisors are).
  class link;

  /// @private
  explicit supervisor_ref(std::shared_ptr<link> x);

  /// Asks the actor `supervisor` for a reference and waits for the answer,
  /// at most `timeout`; from a plain thread (an actor uses `request`).
  /// Fails as `request` does, and with `errc::would_deadlock` on a CAF
  /// scheduler thread.
  static caf::expected<supervisor_ref>
  of(caf::actor_system& sys, const caf::actor& supervisor,
     caf::timespan timeout = std::chrono::seconds{10});

  /// Asks the actor `supervisor` for a reference without waiting: the
  /// handle resolves with it, or fails with `errc::scope_closed` if the
  /// actor is gone, and `errc::invalid_argument` if it is no supervisor (a
  /// local actor that is no scope is refused without being sent anything;
  /// another does not understand the request, or does not answer within
  /// `timeout`). From an actor, continue with `handle::then(self, ...)`.
  static handle<supervisor_ref>
  request(caf::actor_system& sys, const caf::actor& supervisor,
          caf::timespan timeout = std::chrono::seconds{10});

  /// Returns whether this refers to a supervisor.
  explicit operator bool() const noexcept {
    return link_ != nullptr;
  }

  // -- children ---------------------------------------------------------------

  /// Adds a child (last in the start order) and starts it; resolves with
  /// its actor once it is up. A pool starts workers from its template
  /// instead (`pool_ref::start_child`): `errc::invalid_argument`.
  handle<caf::actor> start_child(child_spec spec) const;

  /// `start_child`, resolving with the child's actor, name and the
  /// information it passed to `signal_started(info)` (OTP's
  /// `{ok, Child, Info}`).
  handle<started_child> start_child_with_info(child_spec spec) const;

  /// Stops the child named `name` with its shutdown policy; resolves once
  /// it has stopped (at once if it was not running). In a pool, `name` is
  /// a worker's (`worker-N`), which stays the same across its restarts.
  handle<void> terminate_child(std::string name) const;

  /// Stops the pool worker `worker`: the actor its start returned or its
  /// current one (see `scaf::pool`); resolves once it has stopped, at once
  /// if it is a worker that already ended. `errc::no_such_child` if
  /// `worker` runs but is none of the pool's, and from a supervisor that is
  /// no pool, whose children are found by name (OTP's `not_found`);
  /// `errc::invalid_argument` for an empty actor.
  handle<void> terminate_child(caf::actor worker) const;

  /// Starts the stopped child named `name` again; resolves with its actor
  /// once it is up. A pool's workers are not: `errc::invalid_argument`.
  handle<caf::actor> restart_child(std::string name) const;

  /// Forgets the stopped child named `name`. A pool forgets its workers by
  /// itself: `errc::invalid_argument`.
  handle<void> delete_child(std::string name) const;

  /// Returns the spec of the child named `name` (OTP's `get_childspec`). A
  /// temporary child's spec has no `start` once the child is up: its
  /// arguments are dropped then, since it is never started again.
  handle<child_spec> get_childspec(std::string name) const;

  /// Returns the entry of the child named `name` as `which_children` lists
  /// it (OTP 28's `which_child`).
  handle<child_info> which_child(std::string name) const;

  /// Lists the children in start order.
  handle<std::vector<child_info>> which_children() const;

  /// Counts the children.
  handle<supervisor_counts> count_children() const;

  /// Checks `specs` as `start_child` would check each of them, one after
  /// another, against this supervisor (its options, its children's names
  /// and each other's), and starts nothing: `errc::invalid_argument` or
  /// `errc::child_exists` naming the first that would be refused. See
  /// `scaf::check_childspecs` for the check without a supervisor.
  handle<void> check_childspecs(std::vector<child_spec> specs) const;

  // -- the supervisor as a scope ----------------------------------------------

  /// Returns the supervisor's scope: cancel it (an ordered shutdown), join
  /// it, wait until it is `done()`.
  scope_ref scope() const;

private:
  friend class pool_ref_base;

  std::shared_ptr<link> link_;
};

/// If `err` is the `errc::child_exists` of a child that is running (OTP's
/// `{already_started, Child}`), returns its actor; else an empty actor
/// (`already_present`, or another error).
caf::actor already_started(const caf::error& err);

} // namespace scaf

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::child_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<scaf::child_spec>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::started_child)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::supervisor_ref)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::child_info)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<scaf::child_info>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::supervisor_counts)
