#pragma once

#include <spdlog/logger.h>

namespace scaf {

/// Returns scaf's logger: the spdlog logger named `scaf`, on stderr, shared
/// by the framework and `scaf::actors`; every line it writes names the node
/// it concerns by its path. Its level comes from the environment variable
/// `SCAF_LOG`, else the setting `scaf.log-level`, else `warn` (quiet unless
/// something went wrong: kills, stragglers, suppressed errors, a supervisor
/// giving up). At `info` supervisors log their restarts and backoffs; at
/// `debug` every node logs its lifecycle. Thread-safe; it lives until the
/// process ends. Add sinks or change its pattern through spdlog's API.
spdlog::logger& logger();

} // namespace scaf
