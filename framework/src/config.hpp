// Internal: what scaf::init found wrong with a system's configuration.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/error.hpp>

namespace scaf::detail {

/// Remembers what is wrong with the configuration of `sys` (empty: nothing),
/// and that scaf::init prepared it.
void set_config_error(const caf::actor_system& sys, caf::error err);

/// Forgets `sys` (its scheduler module is going).
void forget_config(const caf::actor_system& sys);

/// Returns what is wrong with the configuration of `sys`, including that
/// scaf::init never prepared it: every top-level scope of it fails with that
/// at once.
caf::error config_error(const caf::actor_system& sys);

/// Starts the observer that `scaf.observer` asks for, if it does (the
/// system's scheduler has started); returns why it cannot.
caf::error start_configured_observer(caf::actor_system& sys);

/// Stops that observer, if there is one (before the scheduler stops).
void stop_configured_observer(const caf::actor_system& sys);

} // namespace scaf::detail
