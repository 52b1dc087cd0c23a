// supervised_service: an Erlang/OTP-style supervisor in a scope. The database
// connection crashes twice; with rest_for_one the supervisor restarts it and
// the services started after it (which depend on it), in start order. Then
// main() grows the service at run time through a supervisor_ref (two
// workers, then one of them stopped again), and cancels the application with
// one message: the supervisor stops its children one at a time, in reverse
// start order, and main() learns from a monitor when everything is gone.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include "scaf/all.hpp"
#include "scaf/supervisor.hpp"
#include "scaf/supervisor_ref.hpp"

#include "say.hpp"

using namespace std::chrono_literals;

namespace {

using crash_atom = caf::atom_constant<caf::atom("crash")>;

using demo::say;

/// A service that says when it starts and when it is stopped, and counts
/// its starts.
caf::behavior service(scaf::task_actor* self, std::string what,
                      std::atomic<int>* starts) {
  ++*starts;
  say(self->path(), "up: " + what);
  self->on_cancel([self](const caf::error& why) {
    say(self->path(), "stopping");
    self->quit(why);
  });
  return {[](crash_atom) {}};
}

/// The database connection: its first two starts crash after 20 ms.
caf::behavior database(scaf::task_actor* self, std::atomic<int>* starts) {
  auto n = ++*starts;
  say(self->path(), "connected");
  self->on_cancel([self](const caf::error& why) {
    say(self->path(), "closing");
    self->quit(why);
  });
  if (n <= 2)
    self->delayed_send(self, 20ms, crash_atom::value);
  return {[self](crash_atom) {
    say(self->path(), "lost the connection (crash)");
    self->quit(caf::make_error(caf::sec::runtime_error, "connection lost"));
  }};
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  scaf::init(cfg);
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  auto baseline = sys.registry().running();
  std::atomic<int> db_starts{0};
  std::atomic<int> cache_starts{0};
  std::atomic<int> api_starts{0};
  std::atomic<int> worker_starts{0};
  std::promise<caf::actor> sup_actor;

  auto app = scaf::spawn_scope(sys, {.name = "app"}, [&](scaf::scope& s) {
    //! [supervisor]
    auto sup = s.spawn(
      {.name = "sup"},
      scaf::supervisor({.strategy = scaf::restart_strategy::rest_for_one,
                        .intensity = 3,
                        .period = 1s},
                       {scaf::child({.name = "db"}, database, &db_starts),
                        scaf::child({.name = "cache"}, service, "cache over db",
                                    &cache_starts),
                        scaf::child({.name = "api", .shutdown = 100ms}, service,
                                    "api over cache", &api_starts)}));
    //! [supervisor]
    sup_actor.set_value(sup ? *sup : caf::actor{});
  });

  caf::scoped_actor client{sys};
  client->monitor(app);
  // Wait until the api is up after the second restart (or give up).
  for (int i = 0; i < 30'000 && api_starts.load() < 3; ++i)
    std::this_thread::sleep_for(1ms);
  // Grow the service at run time, as OTP's supervisor:start_child does.
  //! [supervisor-ref]
  auto sup = scaf::supervisor_ref::of(sys, sup_actor.get_future().get());
  if (!sup) {
    say("main", "no supervisor: " + scaf::render(sup.error()));
    return 1;
  }
  for (auto name : {"worker-1", "worker-2"})
    sup
      ->start_child(
        scaf::child({.name = name}, service, "extra worker", &worker_starts))
      .wait();
  sup->terminate_child("worker-1").wait(); // stopped, kept, not restarted
  auto children = sup->which_children().wait();
  for (auto& c : *children)
    say("main", c.name + " is " + to_string(c.state) + " (restarted " +
                  std::to_string(c.restarts) + " times)");
  //! [supervisor-ref]
  auto counts = sup->count_children().wait();
  say("main", "sending one cancel to the application");
  caf::anon_send(app, scaf::cancel_atom::value, "shutting down");
  client->receive([&](caf::down_msg& msg) {
    say("main", "application down: " + scaf::render(msg.reason));
  });
  std::printf("database connections made: %d\n", db_starts.load());
  auto left = sys.registry().running() - baseline - 1; // minus `client`
  std::printf("actors still running under the application: %zu\n", left);
  auto ok = left == 0 && db_starts.load() == 3 && cache_starts.load() == 3 &&
            api_starts.load() == 3 && worker_starts.load() == 2 && counts &&
            counts->specs == 5 && counts->active == 4;
  return ok ? 0 : 1;
}
