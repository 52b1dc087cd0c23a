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
  /// Due to be started again: it ended, or was stopped for a sibling's
  /// restart, and waits for its turn or a backoff.
  restarting,
  /// Not running and not due to start: stopped with `terminate_child`,
  /// declined its start, or ended and not restarted (a transient child that
  /// ended well). `restart_child` starts it again.
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
  /// How often it was started again after its first start.
  size_t restarts = 0;
  /// When it is restarted.
  restart_type restart = restart_type::permanent;
  /// Whether its end can end the supervisor (`auto_shutdown`).
  bool significant = false;
  /// Whether it is a scope (a supervisor, say: OTP's `supervisor` type)
  /// rather than a task (OTP's `worker`).
  bool scope = false;
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
/// name, list and count them. Each call runs in the supervisor's context,
/// after the calls made before it (through any reference or by message) and
/// between the steps of whatever start or stop the supervisor is in the
/// middle of. While a group restart (`one_for_all`, `rest_for_one`) waits
/// for its backoff, calls are answered, but a call that starts a child
/// waits for that restart; under `one_for_one` a child waits for its
/// backoff on its own and holds nothing back. Its handle
/// resolves once the call is done (a started child is up, a terminated one
/// has stopped).
///
/// Errors: `errc::no_such_child` (no child of that name),
/// `errc::child_exists` (`start_child` with a name in use: running or not),
/// `errc::child_running` and `errc::child_restarting` (`restart_child` or
/// `delete_child` of a child that is not stopped), `errc::invalid_argument`
/// (a bad spec), a child's own error when its start fails, and
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
/// requests instead (`scaf/atoms.hpp`: `start_child_atom`, ...).
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
  /// at most `timeout`; from a plain thread, while an actor sends
  /// `supervisor_ref_atom` as a request instead. Fails like
  /// `scope_ref::of`, and with `errc::invalid_argument` if `supervisor` is
  /// a scope but no supervisor.
  static caf::expected<supervisor_ref>
  of(caf::actor_system& sys, const caf::actor& supervisor,
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

  /// Stops the child named `name` with its shutdown policy; resolves once
  /// it has stopped (at once if it was not running). A pool's workers are
  /// not stopped by name: `errc::invalid_argument`.
  handle<void> terminate_child(std::string name) const;

  /// Stops the pool worker `worker` (see `scaf::pool`); resolves once it
  /// has stopped, at once if it is a worker that already ended.
  /// `errc::no_such_child` if `worker` runs but is none of the pool's;
  /// `errc::invalid_argument` for an empty actor, and from a supervisor
  /// that is no pool, whose children are stopped by name.
  handle<void> terminate_child(caf::actor worker) const;

  /// Starts the stopped child named `name` again; resolves with its actor
  /// once it is up. A pool's workers are not: `errc::invalid_argument`.
  handle<caf::actor> restart_child(std::string name) const;

  /// Forgets the stopped child named `name`. A pool forgets its workers by
  /// itself: `errc::invalid_argument`.
  handle<void> delete_child(std::string name) const;

  /// Lists the children in start order.
  handle<std::vector<child_info>> which_children() const;

  /// Counts the children.
  handle<supervisor_counts> count_children() const;

  // -- the supervisor as a scope ----------------------------------------------

  /// Returns the supervisor's scope: cancel it (an ordered shutdown), join
  /// it, wait until it is `done()`.
  scope_ref scope() const;

private:
  friend class pool_ref_base;

  std::shared_ptr<link> link_;
};

} // namespace scaf

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::child_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::supervisor_ref)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::child_info)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<scaf::child_info>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::supervisor_counts)
