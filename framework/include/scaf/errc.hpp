#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace scaf {

/// Error codes of scaf, one category (`scaf`) registered with CAF by
/// `scaf::init`, so that `actor_system::render` and `scaf::render` print them
/// by name. The context of a scaf error holds the path of the node it concerns
/// followed by a human-readable detail, both as strings; a third element may
/// travel with them: the error that caused a cancel or a failed start (see
/// `cancel_cause`), the actor of a child that is already started.
enum class errc : unsigned char {
  /// Not an error.
  none = 0,
  /// A node was cancelled: by its parent, by a failing sibling, by a
  /// deadline, by main work ending (background tasks), or by anyone who sent
  /// it a cancel. A child that ends with this reason was cancelled; that is
  /// never a failure of its scope. `cancel_cause` tells why.
  cancelled,
  /// A deadline expired.
  timeout,
  /// A spawn was refused because the scope is closed, aborted or finished;
  /// nothing ran.
  scope_closed,
  /// A node was forced by its scope: killed past its grace period, by an
  /// abort (of the scope, or of the node through its handle), or cancelled
  /// with a grace period of zero (OTP's brutal kill). Like `cancelled`, a
  /// way to stop, never a failure of its scope (`is_stopped`); its scope's
  /// report lists it in `scope_report::killed`. (An actor killed by anyone
  /// else than its scope fails with CAF's `caf::exit_reason::kill`.)
  killed,
  /// Task code threw an exception; the context holds its `what()`.
  task_exception,
  /// A scope's limit of concurrently running tasks is reached and the caller
  /// asked not to queue (`scope::try_spawn_fn`); nothing ran.
  limit_reached,
  /// A caller passed an argument that makes no sense (a zero limit, a
  /// negative duration, ...); nothing was changed.
  invalid_argument,
  /// A supervisor's children ended more often than its restart intensity
  /// allows within its period: it stopped all of them and failed with this.
  restart_limit,
  /// A blocking call (`handle::wait`, `scaf::run`, a `scope_owner` join,
  /// ...) was made on a CAF scheduler thread, where waiting could deadlock
  /// the actors it waits for; nothing waited. Use the call's continuation
  /// form (`handle::then`) inside actors.
  would_deadlock,
  /// A supervisor has no child of that name (OTP's `not_found`).
  no_such_child,
  /// A supervisor already has a child of that name, running
  /// (`already_started`) or not (`already_present`); the detail says which.
  child_exists,
  /// The child is running: terminate it first (OTP's `running`).
  child_running,
  /// The child is waiting to be restarted (OTP's `restarting`).
  child_restarting,
  /// The node a remote child ran on was lost (its process ended, or its
  /// connection went silent past the connection timeout); the detail names
  /// the node and the child.
  node_down,
  /// The remote node offers no task of that name; the detail lists the ones
  /// it offers.
  unknown_task,
  /// The remote node offers the task with other argument or result types,
  /// or a type it needs is not registered with CAF on one of the two nodes;
  /// the detail gives both signatures.
  type_mismatch,
  /// The peer runs another version of scaf's node protocol, or other
  /// heartbeat and connection-timeout settings; the detail gives both.
  protocol_mismatch,
  /// A supervisor's child failed before it was up while the supervisor
  /// started, which fails the supervisor's start (OTP's
  /// `{shutdown, {failed_to_start_child, Id, Reason}}`): the detail names
  /// the child, and `cause_of` returns the child's own error.
  /// (Last: the codes before it keep their values on the wire.)
  start_failed,
};

/// The CAF error category of `errc`.
inline constexpr caf::atom_value errc_category = caf::atom("scaf");

/// Returns the enumerator's name, e.g. `"cancelled"`.
const char* to_string(errc x);

/// Creates an error of the `scaf` category without context.
caf::error make_error(errc x);

/// Creates an error of the `scaf` category for the node at `path` with a
/// human-readable `detail`.
caf::error make_error(errc x, std::string path, std::string detail);

/// Creates an error of the `scaf` category for the node at `path` with a
/// human-readable `detail` and the error behind it, which `cause_of`
/// returns.
caf::error make_error(errc x, std::string path, std::string detail,
                      caf::error cause);

/// Returns the error that `err` carries as its cause (`make_error` with a
/// cause: a cancel's cause, the child error of an `errc::start_failed`), or
/// `err` itself if it carries none.
caf::error cause_of(const caf::error& err);

/// Creates the `errc::cancelled` error that a cancel carries down the tree:
/// `detail` says why in words, `cause` is the error behind it (a deadline's
/// `errc::timeout`, a failing sibling's error, the reason given to `cancel`),
/// if any. Renders like any scaf error: `scaf::cancelled(path: detail)`.
caf::error make_cancel_error(std::string path, std::string detail,
                             caf::error cause = {});

/// Returns what caused the cancel `err`: the cause given to
/// `make_cancel_error`, or `err` itself if it carries none (a cancel with
/// words only, e.g. `scope::cancel("shutting down")`). Tasks call it in their
/// cancel handler to tell a deadline (`errc::timeout`) from a sibling's
/// failure or a plain cancel.
caf::error cancel_cause(const caf::error& err);

/// Returns the scaf code of `err`, or `errc::none` if `err` belongs to another
/// category or is empty.
errc code_of(const caf::error& err);

/// Returns whether `err` is a scaf error with code `x`.
inline bool is(const caf::error& err, errc x) {
  return code_of(err) == x;
}

/// Returns whether `err` says that a node stopped without failing: it was
/// cancelled (`errc::cancelled`) or forced by its scope (`errc::killed`),
/// stdexec's `set_stopped` with its cause. Neither fails a scope.
inline bool is_stopped(const caf::error& err) {
  auto x = code_of(err);
  return x == errc::cancelled || x == errc::killed;
}

/// Renders any error readably without an actor system: scaf errors as
/// `scaf::cancelled(root/db: shutting down)`, CAF's `sec` and exit reasons by
/// name, everything else through `caf::to_string`.
std::string render(const caf::error& err);

} // namespace scaf
