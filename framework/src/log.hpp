// Internal: scaf's spdlog logger.
#pragma once

#include <spdlog/spdlog.h>

namespace scaf::detail {

/// Returns the logger "scaf" (stderr). Its level comes from the environment
/// variable SCAF_LOG (trace, debug, info, warn, error, off; default warn):
/// debug shows the lifecycle of every node by path.
spdlog::logger& log();

} // namespace scaf::detail
