#pragma once

#include <caf/atom.hpp>

/// The message atoms of scaf's scopes (a supervisor's admin calls are in
/// `scaf/supervisor_atoms.hpp`). Atoms are limited to ten characters in CAF
/// 0.17.
namespace scaf {

/// `(cancel_atom, std::string reason)` or `(cancel_atom, caf::error cause)`:
/// cancels a scope (or a `scaf::supervisor`) cooperatively, from anywhere
/// (see `scope::cancel`). Sending `caf::exit_msg` with a non-kill reason has
/// the same effect.
using cancel_atom = caf::atom_constant<caf::atom("scafcancel")>;

/// `(abort_atom)`: cancels a scope and kills its children at once, ignoring
/// the grace period.
using abort_atom = caf::atom_constant<caf::atom("scafabort")>;

/// `(close_atom)`: a scope accepts no new children and finishes when its
/// main tasks are done.
using close_atom = caf::atom_constant<caf::atom("scafclose")>;

/// `(join_atom)`: a scope finishes when its main tasks are done; until then it
/// still accepts children.
using join_atom = caf::atom_constant<caf::atom("scafjoin")>;

/// `(spawn_atom, scaf::spawn_request)`, a request: asks a scope to spawn a
/// child; answered with its actor or an error (see `scaf/spawn_in.hpp`).
using spawn_atom = caf::atom_constant<caf::atom("scafspawn")>;

/// `(no_tasks_atom)`, a request: the scope answers `(no_tasks_atom)` as soon
/// as it has no live children and no queued tasks (fuchsia's "wait until no
/// tasks"); at once if that is already so.
using no_tasks_atom = caf::atom_constant<caf::atom("scafnotask")>;

/// `(ref_atom)`, a request: the scope answers with a `scaf::scope_ref` to
/// itself (see `scope_ref::of`).
using ref_atom = caf::atom_constant<caf::atom("scafref")>;

/// `(tree_atom)`, a request: the scope answers with a `scaf::tree_node`, a
/// snapshot of its live subtree (see `scope_ref::tree`).
using tree_atom = caf::atom_constant<caf::atom("scaftree")>;

namespace detail {

/// Never sent: keeps a behavior non-empty while a task waits to quit.
using idle_atom = caf::atom_constant<caf::atom("scafidle")>;

} // namespace detail

} // namespace scaf
