// Renders a live tree snapshot (scaf/tree.hpp) as text and as JSON.
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

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
  if (x.restarts > 0) {
    out += "  restarted ";
    out += std::to_string(x.restarts);
    out += 'x';
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

/// Writes JSON straight into a string: a snapshot of 10,000 nodes is
/// rendered once a second for the observer, and building a document first
/// costs ten times the snapshot.
class json_writer {
public:
  explicit json_writer(int indent) : indent_(indent) {
    // nop
  }

  void node(const tree_node& x) {
    open('{');
    field("name", x.name);
    field("path", x.path);
    field("kind", x.kind);
    field("state", to_string(x.state));
    field("age_ms", ms(x.age));
    field("live_children", static_cast<long long>(x.live_children));
    if (x.scope_state)
      field("scope_state", to_string(*x.scope_state));
    if (x.overdue)
      field("overdue_ms", ms(*x.overdue));
    if (x.busy)
      field("busy_ms", ms(*x.busy));
    if (x.restarts > 0)
      field("restarts", static_cast<long long>(x.restarts));
    if (!x.node.empty())
      field("node", x.node);
    if (x.unanswered) {
      key("unanswered");
      out += "true";
    }
    key("children");
    if (x.children.empty()) {
      out += "[]";
    } else {
      open('[');
      for (auto& child : x.children) {
        item();
        node(child);
      }
      close(']');
    }
    close('}');
  }

  std::string out;

private:
  void open(char bracket) {
    out += bracket;
    ++depth_;
    first_ = true;
  }

  void close(char bracket) {
    --depth_;
    newline();
    out += bracket;
    first_ = false;
  }

  /// Before each member of an object or element of an array.
  void item() {
    if (!first_)
      out += ',';
    first_ = false;
    newline();
  }

  void newline() {
    if (indent_ < 0)
      return;
    out += '\n';
    out.append(static_cast<size_t>(depth_ * indent_), ' ');
  }

  void key(const char* name) {
    item();
    out += '"';
    out += name;
    out += indent_ < 0 ? "\":" : "\": ";
  }

  void field(const char* name, long long value) {
    key(name);
    out += std::to_string(value);
  }

  void field(const char* name, std::string_view value) {
    key(name);
    out += '"';
    for (auto c : value) {
      switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
      }
    }
    out += '"';
  }

  int indent_;
  int depth_ = 0;
  bool first_ = true;
};

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

std::string to_json(const tree_node& tree, int indent) {
  json_writer writer{indent};
  writer.node(tree);
  return std::move(writer.out);
}

} // namespace scaf
