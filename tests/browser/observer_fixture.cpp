// A program for the observer's page to show (tests/browser): a top-level
// scope "big" of 100 scopes with 99 idle tasks each (10,001 nodes), and a
// top-level scope "stuck", cancelled, whose blocking task ignores its stop
// token: a straggler, waited for. It prints the observer's URL, waits until
// its standard input closes, then lets the straggler go and ends, and says
// whether every actor it started is gone.
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include "scaf/all.hpp"
#include "scaf/observer.hpp"

using namespace std::chrono_literals;

namespace {

using idle_atom = caf::atom_constant<caf::atom("idle")>;

/// Holds the straggler until it is let go.
struct gate {
  std::mutex mtx;
  std::condition_variable cv;
  bool open = false;

  void wait() {
    std::unique_lock<std::mutex> guard{mtx};
    cv.wait(guard, [this] { return open; });
  }

  void let_go() {
    {
      std::lock_guard<std::mutex> guard{mtx};
      open = true;
    }
    cv.notify_all();
  }
};

} // namespace

int main() {
  caf::actor_system_config cfg;
  scaf::init(cfg);
  cfg.set("logger.console", caf::atom("none"));
  cfg.set("scaf.log-level", "error"); // (the watchdog names the straggler)
  caf::actor_system sys{cfg};
  auto baseline = sys.registry().running();
  gate held;
  {
    auto big = scaf::make_scope(sys, {.name = "big"});
    auto spawned = big.ref().call([](scaf::scope& s) {
      for (int i = 0; i < 100; ++i)
        s.spawn_scope({.name = "part-" + std::to_string(i)},
                      [](scaf::scope& in) {
                        for (int j = 0; j < 99; ++j)
                          in.spawn([](scaf::task_actor*) -> caf::behavior {
                            return {[](idle_atom) {}};
                          });
                      });
    });
    auto stuck = scaf::make_scope(sys, {.name = "stuck", .grace = 0s});
    stuck.ref().spawn_blocking({.name = "deaf"}, [&held](std::stop_token) {
      held.wait(); // (its stop token is ignored)
    });
    if (!spawned.wait()) {
      std::printf("the tree did not start\n");
      return 1;
    }
    stuck.ref().cancel("stop");
    auto obs = scaf::observer::start(sys, {.token = "fixture"});
    if (!obs) {
      std::printf("no observer: %s\n", scaf::render(obs.error()).c_str());
      return 1;
    }
    std::printf("observer: %s\n", obs->url().c_str());
    std::fflush(stdout);
    std::string line;
    while (std::getline(std::cin, line)) {
      // (Until standard input closes.)
    }
    held.let_go();
    big.ref().cancel("done");
    auto ended = big.join().wait() && stuck.join().wait();
    std::printf("ended: %s\n", ended ? "yes" : "no");
  }
  for (int i = 0; i < 1000 && sys.registry().running() != baseline; ++i)
    std::this_thread::sleep_for(1ms);
  std::printf("actors left: %zu\n", sys.registry().running() - baseline);
  return sys.registry().running() == baseline ? 0 : 1;
}
