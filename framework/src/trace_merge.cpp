// One trace of several processes (scaf/trace_merge.hpp): their events, each
// file a process of its own.
#include "scaf/trace_merge.hpp"

#include <fstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "scaf/errc.hpp"

namespace scaf {

namespace {

caf::error refuse(const std::string& file, const std::string& why) {
  return make_error(errc::invalid_argument, "scaf::merge_traces",
                    file + ": " + why);
}

/// The root of the paths in `events`: the first element of the first
/// track's path (a node's name, a caller's root scope).
std::string root_of(const nlohmann::json& events) {
  for (auto& e : events)
    if (e.is_object() && e.value("ph", "") == "M" &&
        e.value("name", "") == "thread_name" && e.contains("args") &&
        e["args"].is_object() && e["args"].contains("name") &&
        e["args"]["name"].is_string()) {
      auto path = e["args"]["name"].get<std::string>();
      return path.substr(0, path.find('/'));
    }
  return {};
}

} // namespace

caf::error merge_traces(const std::vector<std::string>& inputs,
                        const std::string& output) {
  if (inputs.empty())
    return refuse(output, "no trace to merge");
  auto merged = nlohmann::json::array();
  int pid = 0;
  for (auto& file : inputs) {
    std::ifstream in{file};
    if (!in)
      return refuse(file, "cannot be read");
    auto events = nlohmann::json::parse(in, nullptr, false);
    if (events.is_discarded() || !events.is_array())
      return refuse(file, "is not a trace (a JSON array of trace events)");
    ++pid;
    std::string root;
    try {
      root = root_of(events);
    } catch (const nlohmann::json::exception&) {
      return refuse(file, "is not a trace (a malformed metadata event)");
    }
    merged.push_back({{"ph", "M"},
                      {"pid", pid},
                      {"name", "process_name"},
                      {"args", {{"name", root + " (" + file + ")"}}}});
    merged.push_back({{"ph", "M"},
                      {"pid", pid},
                      {"name", "process_sort_index"},
                      {"args", {{"sort_index", pid}}}});
    for (auto& e : events) {
      if (!e.is_object())
        return refuse(file, "is not a trace (an event is not an object)");
      e["pid"] = pid;
      merged.push_back(std::move(e));
    }
  }
  std::ofstream out{output, std::ios::trunc};
  // Paths may hold bytes that are not UTF-8: replaced, not thrown on.
  out << merged.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
      << "\n";
  out.flush();
  if (!out)
    return refuse(output, "cannot be written");
  return {};
}

} // namespace scaf
