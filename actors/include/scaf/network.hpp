#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <caf/actor_system_config.hpp>
#include <caf/timespan.hpp>

namespace scaf {

/// TLS for every connection of a node, through CAF's OpenSSL module
/// (`libcaf_openssl`). Either every node of a deployment uses it or none:
/// a TLS node and a plain one cannot connect (`errc::node_down`, saying
/// so). Each node presents a certificate signed by a CA the others trust;
/// CAF checks the signature, not the host name.
struct tls_options {
  /// This node's certificate (a PEM file).
  std::string certificate;
  /// Its private key (a PEM file).
  std::string key;
  /// The key's passphrase, if it has one.
  std::string passphrase;
  /// The CA certificates the peers' certificates must be signed by (a PEM
  /// file).
  std::string cafile;
};

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
  /// TLS for every connection (`serve`, `connect`), if set.
  std::optional<tls_options> tls;
};

/// Prepares `cfg` for scopes whose children run on other nodes; call it
/// after `scaf::init` and before constructing the `caf::actor_system`, on
/// every node (the one that spawns and the ones that host). It loads CAF's
/// middleman (`caf::io`, `libcaf_io`) and sets its heartbeat interval and
/// connection timeout from `opts`, unless they are set already; values
/// given on the command line or in the config file
/// (`middleman.heartbeat-interval`, `middleman.connection-timeout`) win,
/// whether they are parsed before this call or after. With `opts.tls` it
/// also loads CAF's OpenSSL module and sets `openssl.certificate`,
/// `openssl.key`, `openssl.passphrase` and `openssl.cafile`. scaf's messages
/// across nodes carry only types CAF registers itself and scaf's error
/// category, which `scaf::init` registers: a task's own argument and result
/// types must be registered on both nodes (`cfg.add_message_type<T>(name)`).
void init_network(caf::actor_system_config& cfg, network_options opts = {});

} // namespace scaf
