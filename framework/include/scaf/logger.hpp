#pragma once

#include <spdlog/logger.h>

namespace scaf {

/// Returns scaf's logger: the spdlog logger named `scaf`, shared by the
/// framework and `scaf::actors`, on stderr unless the setting `scaf.log-sink`
/// names `stdout` or a file; every line it writes names the node it concerns
/// by its path. Its level comes from the environment variable
/// `SCAF_LOG`, else the setting `scaf.log-level`, else `warn` (quiet unless
/// something went wrong: kills, stragglers, suppressed errors, a supervisor
/// giving up). At `info` supervisors log their restarts and backoffs; at
/// `debug` every node logs its lifecycle. Thread-safe; it lives until the
/// process ends. Add sinks or change its pattern through spdlog's API (after
/// the actor system is built: a `scaf.log-sink` setting replaces the sink,
/// and a pattern set on it before).
spdlog::logger& logger();

} // namespace scaf
