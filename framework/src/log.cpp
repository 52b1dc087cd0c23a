#include "log.hpp"

#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace scaf::detail {

spdlog::logger& log() {
  // Deliberately never destroyed: actors may still log while static objects
  // are being destroyed at exit (an actor system in a static, worker threads
  // finishing their last job), and spdlog's own registry is a static too.
  static auto* instance = new std::shared_ptr<spdlog::logger>([] {
    auto result = spdlog::get("scaf");
    if (!result)
      result = spdlog::stderr_color_mt("scaf");
    auto level = spdlog::level::warn;
    if (auto env = std::getenv("SCAF_LOG"))
      level = spdlog::level::from_str(env);
    result->set_level(level);
    return result;
  }());
  return **instance;
}

} // namespace scaf::detail
