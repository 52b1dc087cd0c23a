#include "log.hpp"

#include <cctype>
#include <cstdlib>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace scaf::detail {

namespace {

/// The level SCAF_LOG asks for, if it names one; warns once if it does not.
std::optional<spdlog::level::level_enum> env_level(spdlog::logger& out) {
  auto env = std::getenv("SCAF_LOG");
  if (env == nullptr)
    return std::nullopt;
  if (auto level = parse_level(env))
    return level;
  out.warn("SCAF_LOG={} is no log level (trace, debug, info, warn, error, "
           "critical, off); keeping warn",
           env);
  return std::nullopt;
}

struct logger_state {
  std::shared_ptr<spdlog::logger> logger;
  /// SCAF_LOG set the level: the configuration does not change it.
  bool from_env = false;
};

logger_state& state() {
  // Deliberately never destroyed: actors may still log while static objects
  // are being destroyed at exit (an actor system in a static, worker threads
  // finishing their last job), and spdlog's own registry is a static too.
  static auto* instance = [] {
    auto result = new logger_state;
    result->logger = spdlog::get("scaf");
    if (!result->logger)
      result->logger = spdlog::stderr_color_mt("scaf");
    result->logger->set_level(spdlog::level::warn);
    if (auto level = env_level(*result->logger)) {
      result->logger->set_level(*level);
      result->from_env = true;
    }
    return result;
  }();
  return *instance;
}

} // namespace

spdlog::logger& log() {
  return *state().logger;
}

} // namespace scaf::detail

namespace scaf {

spdlog::logger& logger() {
  return detail::log();
}

} // namespace scaf

namespace scaf::detail {

std::optional<spdlog::level::level_enum> parse_level(std::string_view name) {
  std::string x;
  for (auto c : name)
    x += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  using spdlog::level::level_enum;
  if (x == "trace")
    return level_enum::trace;
  if (x == "debug")
    return level_enum::debug;
  if (x == "info")
    return level_enum::info;
  if (x == "warn" || x == "warning")
    return level_enum::warn;
  if (x == "error" || x == "err")
    return level_enum::err;
  if (x == "critical")
    return level_enum::critical;
  if (x == "off")
    return level_enum::off;
  return std::nullopt;
}

void configure_log(spdlog::level::level_enum level) {
  auto& st = state();
  if (!st.from_env)
    st.logger->set_level(level);
}

} // namespace scaf::detail
