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
/// followed by a human-readable detail, both as strings.
enum class errc : unsigned char {
  /// Not an error.
  none = 0,
  /// A node was cancelled: by its parent, by a failing sibling, by main work
  /// ending (background tasks), or by anyone who sent it a cancel. A child
  /// that quits with this reason while its scope is cancelling acknowledges
  /// the cancel; it is not a failure.
  cancelled,
  /// A deadline expired.
  timeout,
  /// A spawn was refused because the scope is closed, aborted or finished;
  /// nothing ran.
  scope_closed,
  /// A child did not finish within its scope's grace period after a cancel
  /// and was killed (`caf::exit_reason::kill`).
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

/// Returns the scaf code of `err`, or `errc::none` if `err` belongs to another
/// category or is empty.
errc code_of(const caf::error& err);

/// Returns whether `err` is a scaf error with code `x`.
inline bool is(const caf::error& err, errc x) {
  return code_of(err) == x;
}

/// Renders any error readably without an actor system: scaf errors as
/// `scaf::cancelled(root/db: shutting down)`, CAF's `sec` and exit reasons by
/// name, everything else through `caf::to_string`.
std::string render(const caf::error& err);

} // namespace scaf
