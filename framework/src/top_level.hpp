// Internal: the top-level scopes of each actor system, for the live tree of
// a whole program (`top_level_trees`, the observer).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_system.hpp>

namespace scaf::detail {

/// Notes a top-level scope of `sys` named `name` (alive until it is
/// forgotten).
void remember_top_level(caf::actor_system& sys, caf::actor_addr scope,
                        std::string name);

void forget_top_level(caf::actor_system& sys, const caf::actor_addr& scope);

/// The top-level scopes of `sys` still alive; those named `name` only, if
/// it is not empty.
std::vector<caf::actor> top_level_scopes(caf::actor_system& sys,
                                         std::string_view name = {});

} // namespace scaf::detail
