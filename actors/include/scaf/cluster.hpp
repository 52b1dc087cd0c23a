#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "scaf/remote.hpp"

namespace scaf {

/// How a cluster chooses the node of each child.
enum class placement {
  /// One node after the other, in the order of `cluster::nodes()`.
  round_robin,
  /// The node that runs the fewest children of this process now (ties go
  /// round robin).
  least_loaded,
};

/// Returns the enumerator's name, e.g. `"least_loaded"`.
const char* to_string(placement x);

/// How `connect_cluster` connects, and how the cluster places children.
struct cluster_options {
  /// How the cluster chooses the node of each child.
  placement policy = placement::round_robin;
  /// How each node is connected to (`scaf::connect`).
  connect_options connect{};
};

/// A set of connected nodes that a scope spawns children into as into one
/// (`spawn_remote` with a cluster): each child goes to a node that offers its
/// task, chosen by the cluster's placement, and is from then on a remote
/// child of that node like any other. A node the cluster has seen lost is
/// not chosen again (for a node started again, connect a new cluster).
/// Cheap to copy (copies share the load counts and what was lost); valid
/// from any thread.
class cluster {
public:
  cluster() = default;

  /// The nodes, in the order they were given.
  const std::vector<remote_node>& nodes() const noexcept;

  /// How the cluster places children.
  placement policy() const noexcept;

  /// How many children this cluster (and its copies) placed run on each
  /// node now, in the order of `nodes()` (what `placement::least_loaded`
  /// compares).
  std::vector<size_t> load() const;

  /// Whether the cluster has seen each node lost (a child there found its
  /// node gone, or stopping), in the order of `nodes()`.
  std::vector<bool> lost() const;

  /// Returns whether it holds nodes.
  explicit operator bool() const noexcept {
    return state_ != nullptr;
  }

  /// @private
  explicit cluster(std::shared_ptr<cluster_state> st) : state_(std::move(st)) {
    // nop
  }

  /// @private
  const std::shared_ptr<cluster_state>& get() const noexcept {
    return state_;
  }

private:
  std::shared_ptr<cluster_state> state_;
};

/// Makes a cluster of connected nodes. Fails with `errc::invalid_argument`
/// if `nodes` is empty, holds an unconnected node, or two nodes of one name
/// (errors name nodes: each name must say which one).
caf::expected<cluster> make_cluster(std::vector<remote_node> nodes,
                                    placement policy = placement::round_robin);

/// Connects to every node in `addresses` (`host:port` each, see
/// `scaf::connect`) and makes a cluster of them. Fails with the first node
/// that cannot be reached (`errc::node_down`, naming it), with
/// `errc::invalid_argument` for an address without a port; blocking
/// (`errc::would_deadlock` on a scheduler thread).
caf::expected<cluster>
connect_cluster(caf::actor_system& sys,
                const std::vector<std::string>& addresses,
                cluster_options opts = {});

/// How `spawn_remote` spawns a child into a cluster.
struct cluster_spawn_options {
  /// The child's options, as for a spawn on one node.
  spawn_options child{};
  /// The task may run more than once to its end (it is idempotent): if its
  /// node is lost (or stops) before the child ended, and its scope has not
  /// cancelled or forced it, it is started again on another node, up to
  /// `max_attempts` runs in all; only then, or if no other node is left,
  /// does its scope see `errc::node_down`. Off by default: a child whose
  /// node is lost fails its scope.
  bool idempotent = false;
  /// Runs in all for an idempotent child (at least 1).
  uint32_t max_attempts = 3;
};

/// @private Fills `req` with the cluster's choice for `sig`; an error if no
/// node offers it or none is left.
caf::error place_in_cluster(caf::actor_system& sys, const cluster& c,
                            const cluster_spawn_options& opts,
                            remote_request& req);

/// Spawns the task `task(xs...)` as a child of `s` on a node of `c`, chosen
/// by the cluster's placement among the nodes that offer it: as
/// `spawn_remote` on that node (its default name, `task@node#N`, names the
/// first node; the live tree and its errors name the node it runs on), and
/// tried again elsewhere if it is idempotent and its node is lost (see
/// `cluster_spawn_options`). Fails as that does; with `errc::unknown_task`
/// or `errc::type_mismatch` if no node offers the task, and with
/// `errc::node_down` if every node that does is lost.
template <class R, class... Ts>
handle<R> spawn_remote(scope& s, const cluster& c, cluster_spawn_options opts,
                       std::string task, Ts&&... xs) {
  auto req = std::make_shared<remote_request>();
  req->signature =
    remote_signature::of<R, remote_arg_t<Ts>...>(std::move(task));
  if (auto err = place_in_cluster(s.self()->system(), c, opts, *req))
    return refused_handle<R>(std::move(err));
  req->args = caf::make_message(remote_arg_t<Ts>(std::forward<Ts>(xs))...);
  return spawn_remote_request<R>(s, std::move(opts.child), std::move(req));
}

/// Spawns the task `task(xs...)` into the cluster as a child of the scope
/// that `ref` refers to, from any thread or actor: as the overload above,
/// run in the scope through `scope_ref::call`.
template <class R, class... Ts>
handle<R> spawn_remote(const scope_ref& ref, const cluster& c,
                       cluster_spawn_options opts, std::string task,
                       Ts&&... xs) {
  return ref.call(
    [c, opts = std::move(opts), task = std::move(task),
     ... args = remote_arg_t<Ts>(std::forward<Ts>(xs))](scope& s) mutable {
      return spawn_remote<R>(s, c, std::move(opts), std::move(task),
                             std::move(args)...);
    });
}

} // namespace scaf
