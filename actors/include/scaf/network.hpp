#pragma once

#include <chrono>

#include <caf/actor_system_config.hpp>
#include <caf/timespan.hpp>

namespace scaf {

/// How scaf's nodes watch their connections. Both values must be the same
/// on every node: in CAF 0.17 a node with a connection timeout drops a peer
/// that sends no heartbeats, even a healthy idle one, and a node without
/// heartbeats never notices a peer that froze (SIGSTOP). `scaf::connect`
/// compares them with the peer's and refuses a mismatch with
/// `errc::protocol_mismatch`.
struct network_options {
  /// How often a node tells its peers it is alive
  /// (`middleman.heartbeat-interval`).
  caf::timespan heartbeat = std::chrono::milliseconds{100};
  /// How long a peer may stay silent before its connection is closed and
  /// its remote children fail with `errc::node_down`
  /// (`middleman.connection-timeout`). Must exceed `heartbeat`.
  caf::timespan connection_timeout = std::chrono::seconds{1};
};

/// Prepares `cfg` for scopes whose children run on other nodes; call it
/// after `scaf::init` and before constructing the `caf::actor_system`, on
/// every node (the one that spawns and the ones that host). It loads CAF's
/// middleman (`caf::io`, `libcaf_io`) and sets its heartbeat interval and
/// connection timeout from `opts`; values given later on the command line
/// or in the config file (`middleman.heartbeat-interval`,
/// `middleman.connection-timeout`) override them. scaf's messages across
/// nodes carry only types CAF registers itself and scaf's error category,
/// which `scaf::init` registers: a task's own argument and result types
/// must be registered on both nodes (`cfg.add_message_type<T>(name)`).
void init_network(caf::actor_system_config& cfg, network_options opts = {});

} // namespace scaf
