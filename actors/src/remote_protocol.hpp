// Internal: the messages scaf's nodes exchange (scaf/node.hpp,
// scaf/remote.hpp). Every one is made of atoms and types CAF registers
// itself, so a peer never drops one for an unknown type; scaf's errors need
// its error category, which scaf::init registers on every node.
//
//   caller -> node entry   (hello_atom, version, heartbeat, timeout)
//                           -> (version, heartbeat, timeout, offers)
//   caller -> node entry   (hosted_atom) -> uint64_t
//   proxy  -> node entry   (spawn_atom, version, task, types, caller path,
//                           grace, args) -> unit, or an error
//   host   -> proxy        (child_atom, host)         the child runs
//   proxy  -> host         (cancel_atom, reason)      cancel it
//   host   -> proxy        (done_atom, error, value)  it is done
//   proxy  -> host         (done_atom)                received; the host ends
//
// The proxy is the remote child's local stand-in, a task of the caller's
// scope; the host is a task of the node's scope that runs the child in a
// nested scope and watches the proxy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/timespan.hpp>

#include "scaf/remote.hpp"
#include "scaf/remote_tasks.hpp"

namespace scaf::remote_protocol {

/// Changes whenever a message above changes.
inline constexpr uint32_t version = 1;

// (Values of their own: scaf's local atoms must not match them.)
using hello_atom = caf::atom_constant<caf::atom("scafrhello")>;
using hosted_atom = caf::atom_constant<caf::atom("scafrhost")>;
using spawn_atom = caf::atom_constant<caf::atom("scafrspawn")>;
using child_atom = caf::atom_constant<caf::atom("scafrchild")>;
using cancel_atom = caf::atom_constant<caf::atom("scafrcncl")>;
using done_atom = caf::atom_constant<caf::atom("scafrdone")>;

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

/// `errc::protocol_mismatch` unless a peer's protocol version is this one.
caf::error check_version(uint32_t peer_version);

/// Checks a spawn request as it arrived at a node: the protocol version,
/// the sizes, the grace period, the task, the types the caller asked for
/// and the types of the arguments that came. Returns the task to run, or
/// the error to answer with; trusts nothing of the request.
caf::expected<const remote_tasks::entry*> check_spawn_request(
  caf::actor_system& sys, const remote_tasks& tasks, uint32_t version,
  const std::string& task, const std::vector<std::string>& types,
  const std::string& caller, caf::timespan grace, const caf::message& args);

/// An error that came over the wire, safe to keep and to render: its code
/// and category, and of its context only strings, integers and (so
/// cleaned, a few levels deep) errors; anything else becomes a note that it
/// was dropped. (CAF renders some malformed values by crashing: a duration
/// with an invalid unit, found by the fuzz target.)
caf::error sanitize(const caf::error& x);

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
  std::string name;
  std::vector<std::string> offers;
  caf::timespan timeout{0};
};

} // namespace scaf
