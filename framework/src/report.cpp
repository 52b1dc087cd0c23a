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

namespace {

void render_children(const std::vector<node_outcome>& children,
                     const std::string& indent, std::string& out) {
  for (size_t i = 0; i < children.size(); ++i) {
    auto last = i + 1 == children.size();
    auto& c = children[i];
    out += indent;
    out += last ? "`- " : "|- ";
    out += c.path;
    out += ": ";
    out += to_string(c.status);
    if (c.reason) {
      out += ": ";
      out += render(c.reason);
    }
    out += '\n';
    render_children(c.children, indent + (last ? "   " : "|  "), out);
  }
}

} // namespace

std::string render_tree(const scope_report& report, const std::string& path) {
  std::string out = path;
  if (!report.result)
    out += ": done";
  else if (is(report.result, errc::cancelled))
    out += ": cancelled: " + render(report.result);
  else if (is(report.result, errc::timeout))
    out += ": timed_out: " + render(report.result);
  else
    out += ": failed: " + render(report.result);
  out += '\n';
  render_children(report.children, "", out);
  return out;
}

} // namespace scaf
