#pragma once

#include <caf/atom.hpp>

/// The message atoms of a supervisor's admin calls (scaf/supervisor_ref.hpp),
/// each sent as a request. Atoms are limited to ten characters in CAF 0.17.
namespace scaf {

/// `(start_child_atom, scaf::child_spec)`: adds and starts a child; answered
/// with its actor once it is up.
using start_child_atom = caf::atom_constant<caf::atom("supstart")>;

/// `(start_child_with_info_atom, scaf::child_spec)`, or for a pool
/// `(start_child_with_info_atom, caf::message args)`: as `start_child_atom`,
/// answered with a `scaf::started_child` (OTP's `{ok, Child, Info}`).
using start_child_with_info_atom = caf::atom_constant<caf::atom("supstartin")>;

/// `(terminate_child_atom, std::string name)`: stops a child (in a pool, a
/// worker by its name); `(terminate_child_atom, caf::actor)`: a pool's
/// worker by its actor; answered once it has stopped.
using terminate_child_atom = caf::atom_constant<caf::atom("supterm")>;

/// `(restart_child_atom, std::string name)`: starts a stopped child again;
/// answered with its actor once it is up.
using restart_child_atom = caf::atom_constant<caf::atom("suprestart")>;

/// `(delete_child_atom, std::string name)`: forgets a stopped child.
using delete_child_atom = caf::atom_constant<caf::atom("supdelete")>;

/// `(get_childspec_atom, std::string name)`: answered with the child's
/// `scaf::child_spec`.
using get_childspec_atom = caf::atom_constant<caf::atom("supspec")>;

/// `(which_child_atom, std::string name)`: answered with the child's
/// `scaf::child_info`.
using which_child_atom = caf::atom_constant<caf::atom("supchild")>;

/// `(check_childspecs_atom, std::vector<scaf::child_spec>)`: checks the
/// specs as `start_child` would, starting nothing; answered with nothing or
/// the first refusal.
using check_childspecs_atom = caf::atom_constant<caf::atom("supcheck")>;

/// `(which_children_atom)`: answered with `std::vector<scaf::child_info>`.
using which_children_atom = caf::atom_constant<caf::atom("supwhich")>;

/// `(count_children_atom)`: answered with `scaf::supervisor_counts`.
using count_children_atom = caf::atom_constant<caf::atom("supcount")>;

/// `(supervisor_ref_atom)`: answered with a `scaf::supervisor_ref`.
using supervisor_ref_atom = caf::atom_constant<caf::atom("supref")>;

} // namespace scaf
