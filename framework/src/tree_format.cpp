// Renders a live tree snapshot (scaf/tree.hpp) as text and as JSON.
#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "scaf/tree.hpp"

namespace scaf {

namespace {

long long ms(caf::timespan x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
}

/// "850 ms", "12.0 s", "3.2 min".
std::string human(caf::timespan x) {
  auto n = ms(x);
  char buf[32];
  if (n < 1000)
    std::snprintf(buf, sizeof(buf), "%lld ms", n);
  else if (n < 120'000)
    std::snprintf(buf, sizeof(buf), "%.1f s", static_cast<double>(n) / 1e3);
  else
    std::snprintf(buf, sizeof(buf), "%.1f min", static_cast<double>(n) / 6e4);
  return buf;
}

void text(const tree_node& x, int depth, std::string& out) {
  out.append(static_cast<size_t>(depth) * 2, ' ');
  out += x.name.empty() ? x.path : x.name;
  out += "  ";
  out += x.kind;
  out += "  ";
  // A scope names its lifecycle state, where the tree shows more than
  // running or waiting.
  auto forced =
    x.state == node_state::killing || x.state == node_state::straggler;
  out +=
    x.scope_state && !forced ? to_string(*x.scope_state) : to_string(x.state);
  out += "  ";
  out += human(x.age);
  if (x.scope_state || !x.children.empty()) {
    out += "  ";
    out += std::to_string(x.live_children);
    out += x.live_children == 1 ? " child" : " children";
  }
  if (x.overdue) {
    out += "  overdue ";
    out += human(*x.overdue);
  }
  if (x.busy) {
    out += "  busy ";
    out += human(*x.busy);
    out += " on a scheduler thread";
  }
  if (!x.node.empty()) {
    out += "  on node ";
    out += x.node;
  }
  if (x.unanswered)
    out += "  (did not answer)";
  out += '\n';
  for (auto& child : x.children)
    text(child, depth + 1, out);
}

nlohmann::json json(const tree_node& x) {
  nlohmann::json result{
    {"name", x.name},      {"path", x.path},
    {"kind", x.kind},      {"state", to_string(x.state)},
    {"age_ms", ms(x.age)}, {"live_children", x.live_children},
  };
  if (x.scope_state)
    result["scope_state"] = to_string(*x.scope_state);
  if (x.overdue)
    result["overdue_ms"] = ms(*x.overdue);
  if (x.busy)
    result["busy_ms"] = ms(*x.busy);
  if (!x.node.empty())
    result["node"] = x.node;
  if (x.unanswered)
    result["unanswered"] = true;
  auto children = nlohmann::json::array();
  for (auto& child : x.children)
    children.push_back(json(child));
  result["children"] = std::move(children);
  return result;
}

} // namespace

const char* to_string(node_state x) {
  switch (x) {
  case node_state::running:
    return "running";
  case node_state::waiting:
    return "waiting";
  case node_state::cancelling:
    return "cancelling";
  case node_state::killing:
    return "killing";
  case node_state::straggler:
    return "straggler";
  }
  return "<unknown scaf::node_state>";
}

std::string to_text(const tree_node& tree) {
  std::string out;
  text(tree, 0, out);
  return out;
}

std::string to_json(const tree_node& tree) {
  return json(tree).dump(2);
}

} // namespace scaf
