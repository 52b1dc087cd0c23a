// A complete program using scaf, as the README shows it: build it with the
// CMakeLists.txt next to it against an installed scaf. scripts/test builds
// it against an installed prefix, the Debian package and add_subdirectory,
// and runs it: it exits 0 only if every result is the one printed here.
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include <scaf/all.hpp>
#include <scaf/supervisor.hpp>

namespace {

/// A task is an actor behavior; this one answers until it is cancelled.
caf::behavior greeter(scaf::task_actor* self) {
  self->on_cancel([self](const caf::error& why) {
    std::printf("%s: cancelled, cleaning up\n", self->path().c_str());
    self->quit(why);
  });
  return {[](const std::string& name) { return "hello, " + name; }};
}

} // namespace

int main(int argc, char** argv) {
  caf::actor_system_config cfg;
  scaf::init(cfg); // declares --scaf.grace-period and friends
  if (auto err = cfg.parse(argc, argv)) {
    std::fprintf(stderr, "%s\n", caf::to_string(err).c_str());
    return 2;
  }
  caf::actor_system sys{cfg};

  // A scope: ten function tasks in parallel next to a supervised background
  // service. The first error would cancel the rest; `run` returns once every
  // actor in the scope has stopped, the service cancelled after the work.
  auto squares = scaf::run(sys, [](scaf::scope& s) {
    s.spawn({.name = "service", .background = true},
            scaf::supervisor({}, {scaf::child({.name = "greeter"}, greeter)}));
    std::vector<scaf::handle<int>> hs;
    for (int i = 1; i <= 10; ++i)
      hs.push_back(s.spawn_fn([i] { return i * i; }));
    return scaf::collect(hs); // in spawn order, or the first error
  });
  if (!squares) {
    std::fprintf(stderr, "failed: %s\n", scaf::render(squares.error()).c_str());
    return 1;
  }
  auto sum = std::accumulate(squares->begin(), squares->end(), 0);
  std::printf("sum of squares: %d\n", sum); // 385

  // A scope held from this thread: it lives until joined, and its owner
  // cancels it and waits for it if it goes first.
  auto held = scaf::make_scope(sys, {.name = "held"});
  auto answer = held.ref().spawn_fn([] { return 6 * 7; }).wait();
  auto report = held.join().wait();
  std::printf("answer: %d, held scope %s\n", answer ? *answer : -1,
              report ? to_string(report->status) : "lost");
  auto ok = sum == 385 && answer && *answer == 42 && report &&
            report->status == scaf::scope_status::succeeded;
  return ok ? 0 : 1;
}
