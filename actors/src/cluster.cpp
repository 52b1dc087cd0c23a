// A set of nodes that scopes spawn into as into one (scaf/cluster.hpp):
// placement, and what this process knows of each node's load.
#include "scaf/cluster.hpp"

#include <algorithm>
#include <set>

#include "scaf/blocking.hpp"

#include "remote_protocol.hpp"

namespace scaf {

namespace rp = remote_protocol;

const char* to_string(placement x) {
  switch (x) {
  case placement::round_robin:
    return "round_robin";
  case placement::least_loaded:
    return "least_loaded";
  }
  return "?";
}

std::optional<size_t> cluster_state::pick(const std::vector<size_t>& eligible,
                                          std::optional<size_t> skip) {
  if (eligible.empty())
    return std::nullopt;
  auto start = next.fetch_add(1, std::memory_order_relaxed);
  std::optional<size_t> best;
  size_t best_load = 0;
  for (size_t k = 0; k < eligible.size(); ++k) {
    auto i = eligible[(start + k) % eligible.size()];
    if (i == skip || lost[i].load(std::memory_order_relaxed))
      continue;
    if (policy == placement::round_robin)
      return i;
    auto load = live[i].load(std::memory_order_relaxed);
    if (!best || load < best_load) {
      best = i;
      best_load = load;
    }
  }
  return best;
}

const std::vector<remote_node>& cluster::nodes() const noexcept {
  static const std::vector<remote_node> none;
  return state_ ? state_->nodes : none;
}

placement cluster::policy() const noexcept {
  return state_ ? state_->policy : placement::round_robin;
}

namespace {

/// The values of `xs`, one atomic per node of `c`, as a snapshot.
template <class T>
std::vector<T> snapshot(const cluster_state& c,
                        const std::unique_ptr<std::atomic<T>[]>& xs) {
  std::vector<T> result;
  for (size_t i = 0; i < c.nodes.size(); ++i)
    result.push_back(xs[i].load(std::memory_order_relaxed));
  return result;
}

} // namespace

std::vector<size_t> cluster::load() const {
  return state_ ? snapshot(*state_, state_->live) : std::vector<size_t>{};
}

std::vector<bool> cluster::lost() const {
  return state_ ? snapshot(*state_, state_->lost) : std::vector<bool>{};
}

caf::expected<cluster> make_cluster(std::vector<remote_node> nodes,
                                    placement policy) {
  if (nodes.empty())
    return make_error(errc::invalid_argument, "scaf::make_cluster",
                      "a cluster needs at least one node");
  std::set<std::string> names;
  for (auto& n : nodes) {
    if (!n)
      return make_error(errc::invalid_argument, "scaf::make_cluster",
                        "a cluster needs connected nodes");
    if (!names.insert(n.name()).second)
      return make_error(errc::invalid_argument, "scaf::make_cluster",
                        "two nodes are called " + n.name() +
                          ": errors could not say which one failed");
  }
  auto st = std::make_shared<cluster_state>();
  st->policy = policy;
  st->live = std::make_unique<std::atomic<size_t>[]>(nodes.size());
  st->lost = std::make_unique<std::atomic<bool>[]>(nodes.size());
  st->nodes = std::move(nodes);
  return cluster{std::move(st)};
}

caf::expected<cluster>
connect_cluster(caf::actor_system& sys,
                const std::vector<std::string>& addresses,
                cluster_options opts) {
  if (auto err = check_may_block("scaf::connect_cluster"))
    return err;
  std::vector<remote_node> nodes;
  for (auto& address : addresses) {
    auto colon = address.rfind(':');
    auto port =
      colon == std::string::npos ? std::string{} : address.substr(colon + 1);
    auto digits = !port.empty() && port.size() <= 5 &&
                  port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoul(port) == 0 || std::stoul(port) > 65535)
      return make_error(errc::invalid_argument, "scaf::connect_cluster",
                        "'" + address + "' is not HOST:PORT");
    auto n = connect(sys, address.substr(0, colon),
                     static_cast<uint16_t>(std::stoul(port)), opts.connect);
    if (!n)
      return std::move(n.error());
    nodes.push_back(std::move(*n));
  }
  return make_cluster(std::move(nodes), opts.policy);
}

caf::error place_in_cluster(caf::actor_system& sys, const cluster& c,
                            const cluster_spawn_options& opts,
                            remote_request& req) {
  if (!c)
    return make_error(errc::invalid_argument, "",
                      "spawn_remote needs a cluster with nodes");
  auto& shared = c.get();
  // The signature as the nodes list their offers, rendered once.
  auto wanted = rp::render_signature(req.signature.name,
                                     rp::type_names(sys, req.signature));
  for (size_t i = 0; i < shared->nodes.size(); ++i) {
    auto& offers = shared->nodes[i].offers();
    if (std::find(offers.begin(), offers.end(), wanted) != offers.end())
      req.eligible.push_back(i);
  }
  if (req.eligible.empty())
    // No node offers it: the first one's refusal says what it offers.
    return check_remote_spawn(sys, shared->nodes.front(), req.signature);
  auto i = shared->pick(req.eligible);
  if (!i)
    return make_error(errc::node_down, "",
                      "every node of the cluster that offers " +
                        req.signature.name + " is lost");
  req.cluster = shared;
  req.ticket = std::make_shared<cluster_ticket>(shared, *i);
  req.node = shared->nodes[*i];
  req.max_attempts =
    opts.idempotent ? std::max<uint32_t>(opts.max_attempts, 1) : 1;
  return {};
}

} // namespace scaf
