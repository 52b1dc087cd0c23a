// Internal: what scaf::init found wrong with a system's configuration.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/error.hpp>

namespace scaf::detail {

/// Remembers what is wrong with the configuration of `sys` (empty: nothing).
void set_config_error(const caf::actor_system& sys, caf::error err);

/// Returns what is wrong with the configuration of `sys`: every top-level
/// scope of it fails with that at once.
caf::error config_error(const caf::actor_system& sys);

} // namespace scaf::detail
