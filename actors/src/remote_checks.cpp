// What a node accepts from the network (remote_protocol.hpp): everything in
// a spawn request is checked before anything runs. The fuzz target
// (tests/fuzz) feeds this malformed requests.
#include "remote_protocol.hpp"

#include <caf/message_builder.hpp>

#include "scaf/errc.hpp"

namespace scaf::remote_protocol {

namespace {

caf::error refuse(errc code, std::string detail) {
  return make_error(code, "node", std::move(detail));
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

caf::error check_version(uint32_t peer_version) {
  if (peer_version == version)
    return {};
  return refuse(errc::protocol_mismatch,
                "this node speaks scaf node protocol " +
                  std::to_string(version) + ", the peer " +
                  std::to_string(peer_version));
}

caf::expected<const remote_tasks::entry*> check_spawn_request(
  caf::actor_system& sys, const remote_tasks& tasks, uint32_t peer_version,
  const std::string& task, const std::vector<std::string>& types,
  const std::string& caller, caf::timespan grace, const caf::message& args) {
  if (auto err = check_version(peer_version))
    return err;
  if (caller.size() > max_path_length || task.size() > max_path_length ||
      types.size() > max_args + 1 || args.size() > max_args)
    return refuse(errc::invalid_argument,
                  "a spawn request with an oversized name, type list or "
                  "argument list");
  if (grace.count() < 0 || (grace > max_grace && grace != caf::timespan::max()))
    return refuse(errc::invalid_argument,
                  "a grace period must lie between 0 and 24 h, or be "
                  "unbounded");
  auto& entries = tasks.entries();
  auto i = entries.find(task);
  if (i == entries.end())
    return refuse(errc::unknown_task,
                  "this node offers no task '" + task + "'");
  auto ours = type_names(sys, i->second.signature);
  if (types != ours)
    return refuse(errc::type_mismatch,
                  "this node offers " + render_signature(task, ours) +
                    ", the caller asked for " + render_signature(task, types));
  // The arguments as they arrived, not as the caller described them.
  auto arrived = args.size() + 1 == ours.size();
  for (size_t k = 0; arrived && k < args.size(); ++k)
    arrived = sys.types().portable_name(args.type(k)) == ours[k];
  if (!arrived)
    return refuse(errc::type_mismatch, "the arguments that arrived for " +
                                         render_signature(task, ours) +
                                         " are not of its types");
  return &i->second;
}

} // namespace scaf::remote_protocol
