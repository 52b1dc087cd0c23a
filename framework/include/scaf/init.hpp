#pragma once

#include <caf/actor_system_config.hpp>

namespace scaf {

/// Prepares `cfg` for scaf; call it once before constructing the
/// `caf::actor_system`. It registers scaf's error category (so
/// `actor_system::render` prints scaf errors by name) and installs scaf's
/// scheduler module (see `scaf/scheduler.hpp`), which honours
/// `scheduler.policy` when the system starts: `stealing` (the default) runs
/// scaf's work-stealing policy with O(1) steals, `sharing` and `testing` run
/// CAF's own.
///
/// It declares scaf's settings as options of `cfg`, so that they work on the
/// command line (`--scaf.grace-period=500ms`), in CAF's config file
/// (`[scaf] grace-period=500ms`) and appear in `--help` (docs/guide.md has
/// the table): `scaf.grace-period` and `scaf.log-level`. A value CAF cannot
/// parse fails `cfg.parse`; an invalid one (a negative duration, an unknown
/// level) is logged when the actor system is built, and every top-level
/// scope of that system then fails at once with `errc::invalid_argument`
/// naming the setting: nothing is replaced by a default silently. It also
/// installs a thread hook that lets blocking calls recognise CAF's
/// scheduler threads (`errc::would_deadlock`).
///
/// All CAF-0.17-specific registration of scaf lives here. scaf's message
/// types that carry closures (`spawn_request` and two internal ones) cannot
/// be serialized; their headers mark them with
/// `CAF_ALLOW_UNSAFE_MESSAGE_TYPE`, which only lets them travel between
/// actors of one process (CAF 0.17 needs that declaration next to the type).
void init(caf::actor_system_config& cfg);

} // namespace scaf
