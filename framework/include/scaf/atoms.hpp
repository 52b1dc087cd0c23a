#pragma once

#include <caf/atom.hpp>

/// All message atoms of scaf. Atoms are limited to ten characters in CAF 0.17.
namespace scaf {

/// `(cancel_atom, std::string reason)` or `(cancel_atom, caf::error reason)`:
/// cancels a scope cooperatively, from anywhere. Sending `caf::exit_msg` with
/// a non-kill reason has the same effect.
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

/// `(spawn_atom, scaf::child_factory)`: asks a scope to spawn a child; see
/// `scaf::spawn_in`.
using spawn_atom = caf::atom_constant<caf::atom("scafspawn")>;

/// `(no_tasks_atom)`, a request: the scope answers `(no_tasks_atom)` as soon
/// as it has no live children and no queued tasks (fuchsia's "wait until no
/// tasks"); at once if that is already so.
using no_tasks_atom = caf::atom_constant<caf::atom("scafnotask")>;

namespace detail {

/// `(adopt_atom, caf::actor)`: a task tells its scope about a scope it opened,
/// so the scope waits for it too.
using adopt_atom = caf::atom_constant<caf::atom("scafadopt")>;

/// `(detach_atom, caf::actor)`: a task hands a scope it opened to its own
/// scope.
using detach_atom = caf::atom_constant<caf::atom("scafdetach")>;

/// `(report_atom, outcomes)`: a nested scope's children's outcomes.
using report_atom = caf::atom_constant<caf::atom("scafreport")>;

/// `(grace_atom, uint64_t generation)`: the grace period of a cancel ended.
using grace_atom = caf::atom_constant<caf::atom("scafgrace")>;

/// `(deadline_atom, bool fail, caf::timespan)`: a scope's deadline passed.
using deadline_atom = caf::atom_constant<caf::atom("scafdline")>;

/// `(job_done_atom, job_ptr)`: a function task run as a job has finished.
using job_done_atom = caf::atom_constant<caf::atom("scafjobdn")>;

/// Never sent: keeps a behavior non-empty while a task waits to quit.
using idle_atom = caf::atom_constant<caf::atom("scafidle")>;

} // namespace detail

} // namespace scaf
