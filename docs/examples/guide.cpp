// The code of docs/guide.md: each snippet there is a region of this file
// (between two `//! [NAME]` lines), and this program runs them all and
// checks their results, so that a snippet that compiles also works. The
// test run builds and runs it (ctest: docs.guide).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <stop_token>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include "scaf/all.hpp"
#include "scaf/supervisor.hpp"

using namespace std::chrono_literals;

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAILED: %s\n", what);
    ++failures;
  }
}

//! [task]
struct counter {
  int ticks = 0;
};

/// Counts to `steps` and succeeds; cancelled, it says how far it got.
caf::behavior worker(scaf::stateful_task<counter>* self, int steps) {
  self->on_cancel([self](const caf::error& why) {
    std::printf("%s: cancelled at %d\n", self->path().c_str(),
                self->state.ticks);
    self->quit(why); // now, or once the cleanup is done
  });
  self->send(self, tick_atom::value);
  return {[self, steps](tick_atom) {
    if (++self->state.ticks == steps)
      self->quit(); // success
    else
      self->send(self, tick_atom::value);
  }};
}
//! [task]

/// Runs until it is cancelled.
caf::behavior idle(scaf::task_actor*) {
  return {[](int x) { return x; }};
}

/// A connection to `url` that runs until it is cancelled.
caf::behavior connection(scaf::task_actor* self, std::string url) {
  std::printf("%s: connected to %s\n", self->path().c_str(), url.c_str());
  return {[](int x) { return x; }};
}

void spawning_children(caf::actor_system& sys) {
  auto collector = idle;
  auto factory = scaf::task_factory(worker, 10);
  auto r = scaf::run(sys, [&](scaf::scope& s) {
    //! [spawn]
    s.spawn(worker, 100);                    // a main child, named "0"
    s.spawn({.name = "fetch"}, worker, 100); // named: path "root/fetch"
    s.spawn({.name = "gc", .background = true}, collector);
    s.spawn_bg(collector);                                 // a background child
    s.spawn({.name = "cache", .grace = 100ms}, worker, 5); // its own grace
    s.spawn_scope({.name = "index"},
                  [](scaf::scope& idx) { idx.spawn(worker, 10); });
    s.spawn({.name = "db"}, factory); // from a scaf::child_factory
    //! [spawn]
    expect(s.children().behaviors == 6 && s.children().scopes == 1,
           "six tasks and a nested scope run");
  });
  // Once the main children have counted to their end, the background ones
  // are cancelled, and the scope has succeeded.
  expect(static_cast<bool>(r), "the spawning scope succeeded");
}

void function_tasks(caf::actor_system& sys) {
  scaf::handle<int> answer, seven, stopped, summed;
  auto r = scaf::run(sys, [&](scaf::scope& s) {
    //! [function-tasks]
    auto h = s.spawn_fn([] { return 6 * 7; });           // short work, once
    auto c = s.spawn_cancellable(-1, [] { return 7; });  // -1 once cancelled
    auto b = s.spawn_blocking([](std::stop_token stop) { // a thread of its own
      while (!stop.stop_requested())
        std::this_thread::sleep_for(1ms);
      return 1;
    });
    b.cancel(); // this one task: the scope goes on
    // On scaf's function pool, a scope of its own ("root/sum/parts").
    auto sum = s.spawn_fn({.name = "sum"}, [](scaf::task_context& ctx) {
      auto parts = ctx.run({.name = "parts"}, [](scaf::scope& in) {
        return scaf::collect(std::vector{in.spawn_fn([] { return 1; }),
                                         in.spawn_fn([] { return 2; })});
      });
      return parts ? (*parts)[0] + (*parts)[1] : -1;
    });
    //! [function-tasks]
    answer = h;
    seven = c;
    stopped = b;
    summed = sum;
  });
  expect(static_cast<bool>(r), "the function tasks' scope succeeded");
  auto x = answer.wait();
  expect(x && *x == 42, "spawn_fn returns its value");
  auto y = seven.wait();
  expect(y && *y == 7, "an uncancelled spawn_cancellable returns its value");
  // Asked to stop, the blocking task returned: its handle has that value.
  auto z = stopped.wait();
  expect(z && *z == 1, "a stopped blocking task returns what it returns");
  auto w = summed.wait();
  expect(w && *w == 3, "a function task runs a scope of its own");
}

using square_atom = caf::atom_constant<caf::atom("square")>;

void service(caf::actor_system& sys) {
  int answer = 0;
  //! [serve-requests]
  auto svc = scaf::spawn_scope(sys, {.name = "squares"}, [](scaf::scope& s) {
    // Each request runs as a child; its value (or error) is the answer.
    s.serve_requests([](scaf::scope& in, square_atom, int x) {
      return in.spawn_fn([x] { return x * x; });
    });
  });
  caf::scoped_actor self{sys};
  self->request(svc, 5s, square_atom::value, 7)
    .receive([&](int y) { answer = y; },
             [](caf::error& err) { std::puts(scaf::render(err).c_str()); });
  self->send(svc, scaf::cancel_atom::value, "shutting down");
  self->wait_for(svc);
  //! [serve-requests]
  expect(answer == 49, "a service scope answers with its child's value");
}

void supervisors(caf::actor_system& sys) {
  std::string url = "db://localhost";
  auto api = idle;
  auto cache = idle;
  auto r = scaf::run(sys, [&](scaf::scope& s) {
    //! [supervisor]
    s.spawn(
      {.name = "db"},
      scaf::supervisor(
        {.strategy = scaf::restart_strategy::rest_for_one,
         .intensity = 3,
         .period = 1s},
        {scaf::child({.name = "conn"}, connection, url),
         scaf::child(
           {.name = "cache", .restart = scaf::restart_type::transient}, cache),
         scaf::child({.name = "api", .shutdown = 100ms}, api)}));
    //! [supervisor]
    s.after(50ms, [&s] { s.cancel("the example is over"); });
  });
  expect(static_cast<bool>(r), "a cancelled scope still returns its value");
}

/// A signal that prints the live trees, installed and then raised here.
void tree_dump(caf::actor_system& sys) {
  auto svc = scaf::make_scope(sys, {.name = "svc"});
  svc.ref().spawn({.name = "worker"}, idle);
  expect(static_cast<bool>(svc.ref().call([](scaf::scope&) {}).wait()),
         "the service runs");
  auto out = std::tmpfile();
  std::string text;
  {
    //! [tree-dump]
    scaf::tree_dump_on_signal dump{sys}; // SIGUSR1 by default
    //! [tree-dump]
  }
  {
    scaf::tree_dump_on_signal dump{sys, SIGUSR1, out};
    std::raise(SIGUSR1);
    for (int i = 0; i < 1000 && text.find("worker") == std::string::npos; ++i) {
      std::this_thread::sleep_for(10ms);
      std::rewind(out);
      char buf[1024];
      text.assign(buf, std::fread(buf, 1, sizeof(buf), out));
    }
  }
  std::fclose(out);
  expect(text.find("svc  scope  open") != std::string::npos,
         "SIGUSR1 prints the live tree");
}

} // namespace

int main() {
  //! [setup]
  caf::actor_system_config cfg;
  scaf::init(cfg); // before constructing the system
  caf::actor_system sys{cfg};
  //! [setup]
  spawning_children(sys);
  function_tasks(sys);
  service(sys);
  supervisors(sys);
  tree_dump(sys);
  std::printf("%s\n", failures == 0 ? "all guide examples ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
