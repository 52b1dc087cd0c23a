// Internal: the messages scaf's nodes exchange (scaf/node.hpp,
// scaf/remote.hpp). Every one is made of atoms and types CAF registers
// itself, so a peer never drops one for an unknown type; scaf's errors need
// its error category, which scaf::init registers on every node.
//
//   caller -> node entry   (hello_atom, version, heartbeat, timeout)
//                           -> (version, heartbeat, timeout, offers, name)
//   caller -> node entry   (hosted_atom) -> uint64_t
//   proxy  -> node entry   (spawn_atom, version, task, types, caller path,
//                           grace, args) -> unit, or an error
//   host   -> proxy        (child_atom, host)         the child runs
//   proxy  -> host         (cancel_atom, reason)      cancel it
//   proxy  -> host         (force_atom)               force it (abort it)
//   proxy  -> host         (tree_atom) -> strings     its subtree, encoded
//   host   -> proxy        (done_atom, error, value)  it is done: a value, or
//                                                     its failure, its cancel
//                                                     reason, errc::killed
//   host   -> proxy        (stopped_atom)             its node stopped it
//   entry  -> proxy        (stopped_atom)             its node stops: refused
//   proxy  -> host         (done_atom)                received; the host ends
//
// The proxy is the remote child's local stand-in, a task of the caller's
// scope; the host is a task of the node's scope that runs the child in a
// nested scope and watches the proxy.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/timespan.hpp>

#include "scaf/cluster.hpp"
#include "scaf/remote.hpp"
#include "scaf/remote_tasks.hpp"
#include "scaf/tree.hpp"

namespace scaf::remote_protocol {

/// Changes whenever a message above changes.
inline constexpr uint32_t version = 2;

// (Values of their own: scaf's local atoms must not match them.)
using hello_atom = caf::atom_constant<caf::atom("scafrhello")>;
using hosted_atom = caf::atom_constant<caf::atom("scafrhost")>;
using spawn_atom = caf::atom_constant<caf::atom("scafrspawn")>;
using child_atom = caf::atom_constant<caf::atom("scafrchild")>;
using cancel_atom = caf::atom_constant<caf::atom("scafrcncl")>;
using done_atom = caf::atom_constant<caf::atom("scafrdone")>;
using force_atom = caf::atom_constant<caf::atom("scafrforce")>;
using stopped_atom = caf::atom_constant<caf::atom("scafrstop")>;
using tree_atom = caf::atom_constant<caf::atom("scafrtree")>;

/// The longest task name, caller path and argument list a node accepts.
inline constexpr size_t max_path_length = 4096;
inline constexpr size_t max_args = 64;

/// The longest grace period a caller may ask for.
inline constexpr caf::timespan max_grace = std::chrono::hours{24};

/// The CAF names of a signature's types: the arguments, then the result
/// ("void" for none); an unregistered type is named `unregistered <T>`.
std::vector<std::string> type_names(caf::actor_system& sys,
                                    const remote_signature& sig);

/// Whether `type_names` found every type registered.
bool all_registered(const std::vector<std::string>& names);

/// `name(a, b) -> r` from a name and `type_names`.
std::string render_signature(const std::string& name,
                             const std::vector<std::string>& types);

/// What a failed request to `node` means for its caller: `errc::node_down`
/// if it did not answer within `timeout` or is gone, else the (cleaned)
/// error it answered with.
caf::error request_failed(const std::string& node, caf::timespan timeout,
                          const caf::error& err, const std::string& path);

/// `errc::protocol_mismatch` unless a peer's protocol version is this one;
/// `node` names the node that refuses.
caf::error check_version(const std::string& node, uint32_t peer_version);

/// Checks a spawn request as it arrived at a node: the protocol version,
/// the sizes, the grace period, the task, the types the caller asked for
/// and the types of the arguments that came. Returns the task to run, or
/// the error to answer with (naming `node`); trusts nothing of the request.
caf::expected<const remote_tasks::entry*> check_spawn_request(
  caf::actor_system& sys, const std::string& node, const remote_tasks& tasks,
  uint32_t version, const std::string& task,
  const std::vector<std::string>& types, const std::string& caller,
  caf::timespan grace, const caf::message& args);

/// An error that came over the wire, safe to keep and to render: its code
/// and category, and of its context only strings, integers and (so
/// cleaned, a few levels deep) errors; anything else becomes a note that it
/// was dropped. (CAF renders some malformed values by crashing: a duration
/// with an invalid unit, found by the fuzz target.)
caf::error sanitize(const caf::error& x);

/// `x`, saying that it comes from `node`: a scaf error whose path does not
/// start at the node gets "(on node N)" after its detail; an error of
/// another category gets "on node N" after its context. Code and category
/// stay: a caller compares it as it would a local child's.
caf::error on_node(const caf::error& x, const std::string& node);

/// How long a remote child's stand-in waits for its subtree from its node
/// when the live tree asks (`scope_ref::tree()` waits 2 s by default).
inline constexpr caf::timespan tree_timeout = std::chrono::seconds{1};

/// The most nodes of a remote subtree a caller takes, and their depth.
inline constexpr size_t max_tree_nodes = 1'000'000;
inline constexpr size_t max_tree_depth = 1024;

/// A subtree of the live tree as it travels: strings CAF knows, a fixed
/// number a node in preorder.
std::vector<std::string> encode_tree(const tree_node& x);

/// The subtree in `xs`, or nothing if it is malformed (trusts nothing).
std::optional<tree_node> decode_tree(const std::vector<std::string>& xs);

/// The actor that opens and accepts connections: CAF's OpenSSL module's
/// when it is loaded (`network_options::tls`), else the middleman's.
caf::io::middleman_actor network_actor(caf::actor_system& sys);

/// The node's settings, as both sides compare them.
struct link_settings {
  caf::timespan heartbeat{0};
  caf::timespan timeout{0};
};

link_settings settings_of(caf::actor_system& sys);

std::string render(const link_settings& x);

} // namespace scaf::remote_protocol

namespace scaf {

/// @private What a `remote_node` holds.
struct remote_node::state {
  caf::actor_system* sys = nullptr;
  caf::actor entry;
  /// The node's own name (the root of its paths).
  std::string name;
  /// `host:port`, as given to `connect`.
  std::string address;
  std::vector<std::string> offers;
  caf::timespan timeout{0};
};

/// @private What a `cluster` holds: its nodes, and what this process knows
/// of each (its children there, whether it was lost).
struct cluster_state {
  std::vector<remote_node> nodes;
  placement policy = placement::round_robin;
  std::unique_ptr<std::atomic<size_t>[]> live;
  std::unique_ptr<std::atomic<bool>[]> lost;
  /// Where round robin goes next.
  std::atomic<size_t> next{0};

  /// A node among `eligible` for a child, except `skip`: by the policy,
  /// never a lost one; nothing if none is left.
  std::optional<size_t> pick(const std::vector<size_t>& eligible,
                             std::optional<size_t> skip = std::nullopt);
};

/// @private A child's place in a cluster: counted in its node's load from
/// its placement until it ends (or its stand-in is gone). Touched only by
/// the stand-in, once it runs.
class cluster_ticket {
public:
  cluster_ticket(std::shared_ptr<cluster_state> c, size_t index)
    : cluster_(std::move(c)), index_(index) {
    cluster_->live[index_].fetch_add(1, std::memory_order_relaxed);
  }

  cluster_ticket(const cluster_ticket&) = delete;
  cluster_ticket& operator=(const cluster_ticket&) = delete;

  ~cluster_ticket() {
    release();
  }

  size_t index() const noexcept {
    return index_;
  }

  /// Counts the child on the node `index` instead.
  void move_to(size_t index) {
    release();
    index_ = index;
    released_ = false;
    cluster_->live[index_].fetch_add(1, std::memory_order_relaxed);
  }

  void release() {
    if (!released_)
      cluster_->live[index_].fetch_sub(1, std::memory_order_relaxed);
    released_ = true;
  }

private:
  std::shared_ptr<cluster_state> cluster_;
  size_t index_;
  bool released_ = false;
};

} // namespace scaf
