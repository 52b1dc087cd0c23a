// held_scope: a scope held from plain threads.
//
// main() owns a long-lived "server" scope (scaf::make_scope). Client threads
// each open a session: a child scope of the server, held through a
// scope_ref, with tasks spawned into it from the thread. One task of a
// session is cancelled on its own through its handle, and the session is
// joined. A watcher thread sleeps until the server is cancelled. When main()
// leaves the block, the owner cancels the server and waits until every actor
// under it has stopped.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "scaf/all.hpp"

#include "say.hpp"

using namespace std::chrono_literals;

namespace {

using demo::say;
using tick_atom = caf::atom_constant<caf::atom("tick")>;

/// Ticks every 20 ms until it is cancelled.
caf::behavior heartbeat(scaf::task_actor* self) {
  self->on_cancel([self](const caf::error& why) {
    say(self->path(), "cancelled: " + scaf::render(why));
    self->quit(why);
  });
  self->send(self, tick_atom::value);
  return {
    [self](tick_atom) { self->delayed_send(self, 20ms, tick_atom::value); }};
}

//! [client]
/// What one client thread does with its session.
void client(scaf::scope_ref server, int id) {
  scaf::scope_options opts;
  opts.name = "session" + std::to_string(id);
  auto session = server.open_child(opts);
  auto s = session.ref();
  auto sum = s.spawn_fn([id] { return 10 * id; });
  auto slow = s.spawn_blocking_cancellable(-1, [](std::stop_token stop) {
    while (!stop.stop_requested())
      std::this_thread::sleep_for(5ms);
    return 1;
  });
  say(s.path(), "sum = " + std::to_string(*sum.wait()));
  slow.cancel(); // this task only: the session goes on
  say(s.path(), "slow task cancelled, its handle says " +
                  std::to_string(*slow.wait()) + " (the fallback)");
  auto report = session.join().wait();
  say(s.path(), std::string{"joined: "} + to_string(report->status));
}
//! [client]

} // namespace

int main() {
  caf::actor_system_config cfg;
  scaf::init(cfg);
  caf::actor_system sys{cfg};
  auto baseline = sys.registry().running();
  std::thread watcher;
  //! [server]
  {
    scaf::scope_options opts;
    opts.name = "server";
    opts.grace = 200ms;
    auto server = scaf::make_scope(sys, opts);
    auto ref = server.ref();
    ref.spawn(heartbeat);
    watcher = std::thread{[ref] {
      auto notice = ref.when_cancelled().wait();
      say("watcher",
          "the server was cancelled: " + scaf::render(notice->reason));
    }};
    std::vector<std::thread> clients;
    for (int id = 1; id <= 3; ++id)
      clients.emplace_back(client, ref, id);
    for (auto& t : clients)
      t.join();
    auto live = ref.children();
    say("main", "server has " + std::to_string(live.behaviors) +
                  " behavior task(s) and " + std::to_string(live.scopes) +
                  " child scope(s) left; leaving the block");
  } // ~scope_owner: cancels the server and waits for its whole subtree
  //! [server]
  watcher.join();
  say("main", "actors still running: " +
                std::to_string(sys.registry().running() - baseline));
}
