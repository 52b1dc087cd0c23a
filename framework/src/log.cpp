#include "log.hpp"

#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace scaf::detail {

spdlog::logger& log() {
  static std::shared_ptr<spdlog::logger> instance = [] {
    auto result = spdlog::get("scaf");
    if (!result)
      result = spdlog::stderr_color_mt("scaf");
    auto level = spdlog::level::warn;
    if (auto env = std::getenv("SCAF_LOG"))
      level = spdlog::level::from_str(env);
    result->set_level(level);
    return result;
  }();
  return *instance;
}

} // namespace scaf::detail
