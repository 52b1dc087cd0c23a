// service_tree: a server as a scope, cancelled from outside with one message.
// An acceptor (a background task) asks its scope for a session per
// "connection"; each session cleans up when cancelled. main() sends one
// cancel to the server and learns from a monitor when every descendant is
// gone.
#include <chrono>
#include <cstdio>
#include <string>

#include <caf/all.hpp>

#include "scaf/all.hpp"

#include "say.hpp"

using namespace std::chrono_literals;

namespace {

using connect_atom = caf::atom_constant<caf::atom("connect")>;
using packet_atom = caf::atom_constant<caf::atom("packet")>;

using demo::say;

//! [session]
/// One client connection: echoes packets, closes when cancelled.
caf::behavior session(scaf::task_actor* self, int conn) {
  say(self->path(), "session for connection " + std::to_string(conn));
  self->on_cancel([self](const caf::error& why) {
    say(self->path(), "closing the connection");
    self->quit(why);
  });
  return {[](packet_atom, const std::string& bytes) { return bytes; }};
}
//! [session]

/// Accepts a "connection" every 10 ms and asks its scope for a session.
caf::behavior acceptor(scaf::task_actor* self) {
  say(self->path(), "listening");
  self->on_cancel([self](const caf::error& why) {
    say(self->path(), "stops listening: " + scaf::render(why));
    self->quit(why);
  });
  self->delayed_send(self, 10ms, connect_atom::value, 0);
  return {[=](connect_atom, int conn) {
    auto server = caf::actor_cast<caf::actor>(self->parent_scope());
    self
      ->request(server, caf::infinite, scaf::spawn_atom::value,
                scaf::make_spawn_request(
                  {.name = "conn-" + std::to_string(conn), .background = true},
                  session, conn))
      .then([](caf::actor&) {}, [](caf::error&) {});
    if (conn < 3)
      self->delayed_send(self, 10ms, connect_atom::value, conn + 1);
  }};
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  scaf::init(cfg);
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  auto baseline = sys.registry().running();

  //! [server]
  auto server = scaf::spawn_scope(sys, {.name = "server"}, [](scaf::scope& s) {
    s.spawn({.name = "acceptor", .background = true}, acceptor);
  });
  //! [server]

  caf::scoped_actor client{sys};
  client->monitor(server);
  client->delayed_send(client, 60ms, connect_atom::value, -1);
  client->receive([](connect_atom, int) {});
  say("main", "sending one cancel to the server");
  //! [cancel]
  caf::anon_send(server, scaf::cancel_atom::value, "shutting down");
  // A monitor on `server` fires only after every descendant has terminated.
  client->receive([&](caf::down_msg& msg) {
    say("main", "server down: " + scaf::render(msg.reason));
  });
  //! [cancel]
  auto left = sys.registry().running() - baseline - 1; // minus `client`
  std::printf("actors still running under the server: %zu\n", left);
  return left == 0 ? 0 : 1;
}
