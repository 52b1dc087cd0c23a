// What a node accepts from the network (remote_protocol.hpp): everything in
// a spawn request is checked before anything runs. The fuzz target
// (tests/fuzz) feeds this malformed requests.
#include "remote_protocol.hpp"

#include <limits>

#include <caf/message_builder.hpp>

#include "scaf/errc.hpp"

namespace scaf::remote_protocol {

namespace {

caf::error refuse(const std::string& node, errc code, std::string detail) {
  return make_error(code, node, std::move(detail));
}

caf::error sanitize(const caf::error& x, int depth) {
  if (!x)
    return x;
  auto& ctx = x.context();
  if (ctx.empty())
    return caf::error{x.code(), x.category()};
  caf::message_builder clean;
  for (size_t i = 0; i < ctx.size(); ++i) {
    if (ctx.match_element<std::string>(i))
      clean.append(ctx.get_as<std::string>(i));
    else if (ctx.match_element<caf::error>(i) && depth < 8)
      clean.append(sanitize(ctx.get_as<caf::error>(i), depth + 1));
    else if (ctx.match_element<int32_t>(i))
      clean.append(ctx.get_as<int32_t>(i));
    else if (ctx.match_element<uint32_t>(i))
      clean.append(ctx.get_as<uint32_t>(i));
    else if (ctx.match_element<int64_t>(i))
      clean.append(ctx.get_as<int64_t>(i));
    else if (ctx.match_element<uint64_t>(i))
      clean.append(ctx.get_as<uint64_t>(i));
    else
      clean.append(std::string{"<a value scaf does not render>"});
  }
  return caf::error{x.code(), x.category(), clean.to_message()};
}

} // namespace

caf::error sanitize(const caf::error& x) {
  return sanitize(x, 0);
}

caf::error on_node(const caf::error& x, const std::string& node) {
  if (!x)
    return x;
  auto& ctx = x.context();
  if (code_of(x) != errc::none && ctx.size() >= 2 &&
      ctx.match_element<std::string>(0) && ctx.match_element<std::string>(1)) {
    auto& path = ctx.get_as<std::string>(0);
    if (path == node || path.rfind(node + "/", 0) == 0)
      return x;
    auto detail = ctx.get_as<std::string>(1) + " (on node " + node + ")";
    if (ctx.match_elements<std::string, std::string, caf::error>())
      return make_error(static_cast<errc>(x.code()), path, std::move(detail),
                        ctx.get_as<caf::error>(2));
    return make_error(static_cast<errc>(x.code()), path, std::move(detail));
  }
  return caf::error{x.code(), x.category(),
                    ctx + caf::make_message("on node " + node)};
}

caf::error check_version(const std::string& node, uint32_t peer_version) {
  if (peer_version == version)
    return {};
  return refuse(node, errc::protocol_mismatch,
                "this node speaks scaf node protocol " +
                  std::to_string(version) + ", the peer " +
                  std::to_string(peer_version));
}

caf::expected<const remote_tasks::entry*> check_spawn_request(
  caf::actor_system& sys, const std::string& node, const remote_tasks& tasks,
  uint32_t peer_version, const std::string& task,
  const std::vector<std::string>& types, const std::string& caller,
  caf::timespan grace, const caf::message& args) {
  if (auto err = check_version(node, peer_version))
    return err;
  if (caller.size() > max_path_length || task.size() > max_path_length ||
      types.size() > max_args + 1 || args.size() > max_args)
    return refuse(node, errc::invalid_argument,
                  "a spawn request with an oversized name, type list or "
                  "argument list");
  if (grace.count() < 0 || (grace > max_grace && grace != caf::timespan::max()))
    return refuse(node, errc::invalid_argument,
                  "a grace period must lie between 0 and 24 h, or be "
                  "unbounded");
  auto& entries = tasks.entries();
  auto i = entries.find(task);
  if (i == entries.end())
    return refuse(node, errc::unknown_task,
                  "this node offers no task '" + task + "'");
  auto ours = type_names(sys, i->second.signature);
  if (types != ours)
    return refuse(node, errc::type_mismatch,
                  "this node offers " + render_signature(task, ours) +
                    ", the caller asked for " + render_signature(task, types));
  // The arguments as they arrived, not as the caller described them.
  auto arrived = args.size() + 1 == ours.size();
  for (size_t k = 0; arrived && k < args.size(); ++k)
    arrived = sys.types().portable_name(args.type(k)) == ours[k];
  if (!arrived)
    return refuse(node, errc::type_mismatch,
                  "the arguments that arrived for " +
                    render_signature(task, ours) + " are not of its types");
  return &i->second;
}

// -- subtrees on the wire
// -------------------------------------------------------

namespace {

constexpr size_t tree_fields = 12;

std::string opt_count(const std::optional<caf::timespan>& x) {
  return x ? std::to_string(x->count()) : std::string{};
}

/// Reads a decimal integer in [lo, hi] written as `encode` writes it: digits
/// only, no sign, no space, no leading zero, so that what decodes encodes
/// back the same (at most 18 digits: no overflow).
std::optional<int64_t> read_int(const std::string& x, int64_t lo, int64_t hi) {
  if (x.empty() || x.size() > 18 || (x.size() > 1 && x[0] == '0'))
    return std::nullopt;
  int64_t result = 0;
  for (auto c : x) {
    if (c < '0' || c > '9')
      return std::nullopt;
    result = result * 10 + (c - '0');
  }
  if (result < lo || result > hi)
    return std::nullopt;
  return result;
}

std::optional<std::optional<caf::timespan>>
read_opt_span(const std::string& x) {
  if (x.empty())
    return std::optional<caf::timespan>{};
  auto n = read_int(x, 0, std::numeric_limits<int64_t>::max());
  if (!n)
    return std::nullopt;
  return std::optional<caf::timespan>{caf::timespan{*n}};
}

void encode(const tree_node& x, std::vector<std::string>& out) {
  out.push_back(x.name);
  out.push_back(x.path);
  out.push_back(x.kind);
  out.push_back(x.node);
  out.push_back(std::to_string(static_cast<int>(x.state)));
  out.push_back(std::to_string(x.age.count()));
  out.push_back(opt_count(x.overdue));
  out.push_back(x.scope_state ? std::to_string(static_cast<int>(*x.scope_state))
                              : std::string{});
  out.push_back(opt_count(x.busy));
  out.push_back(std::to_string(x.live_children));
  out.push_back(x.unanswered ? "1" : "0");
  out.push_back(std::to_string(x.children.size()));
  for (auto& child : x.children)
    encode(child, out);
}

bool decode(const std::vector<std::string>& xs, size_t& pos, size_t depth,
            tree_node& x) {
  if (depth > max_tree_depth || xs.size() - pos < tree_fields)
    return false;
  auto at = [&](size_t i) -> const std::string& { return xs[pos + i]; };
  auto state = read_int(at(4), 0, static_cast<int>(node_state::straggler));
  auto age = read_int(at(5), 0, std::numeric_limits<int64_t>::max());
  auto overdue = read_opt_span(at(6));
  auto busy = read_opt_span(at(8));
  auto live = read_int(at(9), 0, static_cast<int64_t>(max_tree_nodes));
  auto count = read_int(at(11), 0, static_cast<int64_t>(max_tree_nodes));
  std::optional<int64_t> scope_st;
  if (!at(7).empty()) {
    scope_st = read_int(at(7), 0, static_cast<int>(scope_state::finished));
    if (!scope_st)
      return false;
  }
  if (!state || !age || !overdue || !busy || !live || !count ||
      (at(10) != "0" && at(10) != "1"))
    return false;
  x.name = at(0);
  x.path = at(1);
  x.kind = at(2);
  x.node = at(3);
  x.state = static_cast<node_state>(*state);
  x.age = caf::timespan{*age};
  x.overdue = *overdue;
  if (scope_st)
    x.scope_state = static_cast<scope_state>(*scope_st);
  x.busy = *busy;
  x.live_children = static_cast<size_t>(*live);
  x.unanswered = at(10) == "1";
  pos += tree_fields;
  // Each child takes at least one node's fields: a count beyond what is
  // left is a lie, refused before anything is allocated for it.
  auto n = static_cast<size_t>(*count);
  if (n > (xs.size() - pos) / tree_fields)
    return false;
  x.children.resize(n);
  for (auto& child : x.children)
    if (!decode(xs, pos, depth + 1, child))
      return false;
  return true;
}

} // namespace

std::vector<std::string> encode_tree(const tree_node& x) {
  std::vector<std::string> out;
  encode(x, out);
  return out;
}

std::optional<tree_node> decode_tree(const std::vector<std::string>& xs) {
  if (xs.size() > max_tree_nodes * tree_fields)
    return std::nullopt;
  tree_node result;
  size_t pos = 0;
  if (!decode(xs, pos, 0, result) || pos != xs.size())
    return std::nullopt;
  return result;
}

} // namespace scaf::remote_protocol
