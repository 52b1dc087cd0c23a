#include "log.hpp"

#include <cctype>
#include <cstdlib>
#include <string>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
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
  /// The one sink of the logger scaf made, through which `scaf.log-sink`
  /// swaps where lines go while other threads log; null if the program
  /// registered a logger "scaf" of its own.
  std::shared_ptr<spdlog::sinks::dist_sink_mt> sink;
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
    if (!result->logger) {
      result->sink = std::make_shared<spdlog::sinks::dist_sink_mt>();
      result->sink->add_sink(
        std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
      result->logger = std::make_shared<spdlog::logger>("scaf", result->sink);
      spdlog::register_logger(result->logger);
    }
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

std::string configure_log_sink(const std::string& where) {
  auto& st = state();
  if (where.empty())
    return "scaf.log-sink must be stderr, stdout or a file path, got an "
           "empty string";
  spdlog::sink_ptr sink;
  if (where == "stderr")
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  else if (where == "stdout")
    sink = std::make_shared<spdlog::sinks::stdout_color_sink_mt>();
  else
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(where);
    } catch (const spdlog::spdlog_ex& ex) {
      return std::string{"scaf.log-sink: "} + ex.what();
    }
  if (!st.sink) {
    st.logger->warn("scaf.log-sink={} ignored: the program registered a "
                    "spdlog logger \"scaf\" of its own",
                    where);
    return {};
  }
  st.sink->set_sinks({std::move(sink)});
  return {};
}

} // namespace scaf::detail
