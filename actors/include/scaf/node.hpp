#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include "scaf/remote_tasks.hpp"
#include "scaf/scope_ref.hpp"

namespace scaf {

/// Where and how a node serves.
struct node_options {
  /// The TCP port; 0 picks a free one (`node::port` says which).
  uint16_t port = 0;
  /// The address to listen on: loopback unless told otherwise. Any other
  /// address (e.g. `"0.0.0.0"`) exposes the node's registered tasks to
  /// whoever reaches it: only ever on a trusted network.
  std::string bind = "127.0.0.1";
  /// The node's name: the name of its top-level scope (the root of every
  /// path on it) and the name its callers know it by (`remote_node::name`,
  /// their children's names, their errors). Empty: `host:port`, the host
  /// being `bind` (the machine's name if that is every address). Otherwise
  /// a child name (`scaf/names.hpp`), unique among the nodes a caller uses.
  std::string name;
  /// Whether the port may be bound while connections of an earlier node on
  /// it linger in TIME-WAIT (`SO_REUSEADDR`), so that a node killed and
  /// started again on its port serves at once. Safe on Linux: a port that
  /// another socket listens on is refused either way.
  bool reuse_address = true;
};

/// A process's scaf node (made by `serve`): a top-level scope that hosts
/// children for scopes on other nodes, and CAF's published actor that takes
/// their requests. Each remote child runs in a nested scope of its own under
/// the node's scope, with the grace period its caller gave, and follows the
/// node protocol there. Its caller's node is watched: if the caller's scope
/// stops waiting for it (the caller's process died or its connection went
/// silent), the child is cancelled and, past its grace period, killed (a
/// function task cannot be killed: it runs until it sees its stop token).
/// Failures are isolated: one caller's failing child stops nobody else's.
/// A child that the node's own stop ends is reported to its caller as
/// `errc::node_down`, never with what it returned on its way out.
/// Through scaf's messages a peer can only spawn registered tasks and only
/// cancel the children it spawned (see docs/distributed.md for what CAF
/// itself lets a connected peer do). Move-only; destroying a running node
/// stops it (from a plain thread: see `stop`).
class node {
public:
  /// A node that does not serve.
  node() = default;

  /// Takes over `other`'s node; `other` no longer serves.
  node(node&& other) noexcept = default;

  /// Stops this node, then takes over `other`'s.
  node& operator=(node&& other) noexcept;

  node(const node&) = delete;
  node& operator=(const node&) = delete;
  /// Stops the node (see `stop`).
  ~node();

  /// The node's name (see `node_options::name`).
  const std::string& name() const noexcept;

  /// The port the node listens on.
  uint16_t port() const noexcept;

  /// A reference to the node's top-level scope (its live tree, its count).
  scope_ref scope() const;

  /// How many remote children the node runs now.
  size_t hosted() const noexcept;

  /// Stops serving: closes the port, cancels every hosted child (each gets
  /// its grace period, then is killed; each caller sees `errc::node_down`)
  /// and waits until all are gone.
  /// Blocking (`errc::would_deadlock` on a scheduler thread, nothing
  /// stopped then); calls after the first do nothing.
  caf::error stop();

  /// Returns whether the node serves.
  explicit operator bool() const noexcept {
    return state_ != nullptr;
  }

  /// @private
  struct state;

  /// @private
  explicit node(std::shared_ptr<state> st) : state_(std::move(st)) {
    // nop
  }

private:
  std::shared_ptr<state> state_;
};

/// Makes this process a scaf node that runs the tasks in `tasks` for scopes
/// on other nodes (`scaf/remote.hpp`): publishes its entry actor on
/// `opts.port` at `opts.bind` through CAF's middleman. `sys` must have been
/// configured with `scaf::init` and `scaf::init_network`. Blocking (it
/// waits for the port); fails with `errc::invalid_argument` for a name that
/// breaks the rules of child names, with `errc::type_mismatch` if a task's
/// argument or result type is not registered with `sys` (naming it), with
/// CAF's error if the port cannot be opened, and with
/// `errc::would_deadlock` on a scheduler thread.
caf::expected<node> serve(caf::actor_system& sys, remote_tasks tasks,
                          node_options opts = {});

} // namespace scaf
