#pragma once

#include <caf/atom.hpp>

/// All message atoms of scaf. Atoms are limited to ten characters in CAF 0.17.
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

// -- a supervisor's admin calls (scaf/supervisor_ref.hpp), as requests -------

/// `(start_child_atom, scaf::child_spec)`: adds and starts a child; answered
/// with its actor once it is up.
using start_child_atom = caf::atom_constant<caf::atom("supstart")>;

/// `(terminate_child_atom, std::string name)`: stops a child; answered once
/// it has stopped.
using terminate_child_atom = caf::atom_constant<caf::atom("supterm")>;

/// `(restart_child_atom, std::string name)`: starts a stopped child again;
/// answered with its actor once it is up.
using restart_child_atom = caf::atom_constant<caf::atom("suprestart")>;

/// `(delete_child_atom, std::string name)`: forgets a stopped child.
using delete_child_atom = caf::atom_constant<caf::atom("supdelete")>;

/// `(which_children_atom)`: answered with `std::vector<scaf::child_info>`.
using which_children_atom = caf::atom_constant<caf::atom("supwhich")>;

/// `(count_children_atom)`: answered with `scaf::supervisor_counts`.
using count_children_atom = caf::atom_constant<caf::atom("supcount")>;

/// `(supervisor_ref_atom)`: answered with a `scaf::supervisor_ref`.
using supervisor_ref_atom = caf::atom_constant<caf::atom("supref")>;

namespace detail {

/// Never sent: keeps a behavior non-empty while a task waits to quit.
using idle_atom = caf::atom_constant<caf::atom("scafidle")>;

} // namespace detail

} // namespace scaf
