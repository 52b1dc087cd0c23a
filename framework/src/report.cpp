#include "scaf/scope_options.hpp"

#include "scaf/errc.hpp"

namespace scaf {

const char* to_string(node_status x) {
  switch (x) {
  case node_status::done:
    return "done";
  case node_status::failed:
    return "failed";
  case node_status::cancelled:
    return "cancelled";
  case node_status::killed:
    return "killed";
  case node_status::timed_out:
    return "timed_out";
  case node_status::straggler:
    return "straggler";
  }
  return "<unknown scaf::node_status>";
}

const char* to_string(scope_status x) {
  switch (x) {
  case scope_status::succeeded:
    return "succeeded";
  case scope_status::failed:
    return "failed";
  case scope_status::cancelled:
    return "cancelled";
  }
  return "<unknown scaf::scope_status>";
}

namespace {

void render_children(const std::vector<node_outcome>& children,
                     const std::string& parent, const std::string& indent,
                     std::string& out) {
  for (size_t i = 0; i < children.size(); ++i) {
    auto last = i + 1 == children.size();
    auto& c = children[i];
    auto path = parent + "/" + c.name;
    out += indent;
    out += last ? "`- " : "|- ";
    out += path;
    out += ": ";
    out += to_string(c.status);
    if (c.reason) {
      out += ": ";
      out += render(c.reason);
    }
    out += '\n';
    render_children(c.children, path, indent + (last ? "   " : "|  "), out);
  }
}

} // namespace

std::string render_tree(const scope_report& report, const std::string& path) {
  std::string out = path;
  out += ": ";
  out += to_string(report.status);
  if (auto& reason = report.reason()) {
    out += ": ";
    out += render(reason);
  }
  out += '\n';
  render_children(report.children, path, "", out);
  return out;
}

} // namespace scaf
