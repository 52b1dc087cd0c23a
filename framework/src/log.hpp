// Internal: scaf's spdlog logger.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/timespan.hpp>
#include <spdlog/spdlog.h>

#include "scaf/detail/node_path.hpp"
#include "scaf/errc.hpp"

namespace scaf::detail {

/// Returns the logger "scaf" (stderr unless `scaf.log-sink` says otherwise, or
/// the logger named "scaf" that the program registered with spdlog). Its level
/// comes from the environment variable SCAF_LOG, else the configuration value
/// `scaf.log-level` (trace, debug, info, warn, error, critical, off, in any
/// case; default warn): debug shows the lifecycle of every node by path.
spdlog::logger& log();

/// Reads a level name in any letter case; nothing for an unknown one.
std::optional<spdlog::level::level_enum> parse_level(std::string_view name);

/// Sets the level from the configuration (`scaf.log-level`), unless the
/// environment variable SCAF_LOG set it.
void configure_log(spdlog::level::level_enum level);

/// Sends scaf's log lines to `where` (`scaf.log-sink`): `stderr`, `stdout` or
/// a file that lines are appended to. Returns what is wrong, if anything (an
/// empty value, a file that cannot be opened), changing nothing then.
std::string configure_log_sink(const std::string& where);

/// Milliseconds, for log lines and messages.
inline long long to_ms(caf::timespan x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
}

/// The path of a child to log: rendered only if the line is written.
struct lazy_path {
  const path_prefix& parent;
  const std::string& name;
};

/// An error to log: rendered with `scaf::render` only if the line is written
/// (rendering costs microseconds, and every node logs its done at debug).
struct rendered {
  const caf::error& err;
};

} // namespace scaf::detail

template <>
struct fmt::formatter<scaf::detail::rendered>
  : fmt::formatter<std::string_view> {
  auto format(const scaf::detail::rendered& x, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(scaf::render(x.err), ctx);
  }
};

template <>
struct fmt::formatter<scaf::detail::node_path>
  : fmt::formatter<std::string_view> {
  auto format(const scaf::detail::node_path& x,
              fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(x.str(), ctx);
  }
};

template <>
struct fmt::formatter<scaf::detail::lazy_path>
  : fmt::formatter<std::string_view> {
  auto format(const scaf::detail::lazy_path& x,
              fmt::format_context& ctx) const {
    std::string out;
    x.parent.append_to(out);
    out += '/';
    out += x.name;
    return fmt::formatter<std::string_view>::format(out, ctx);
  }
};
