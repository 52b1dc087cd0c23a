// first_scope: a scope whose children fail and get cancelled.
//
// The root scope runs three tasks and a nested scope. One task fails; the
// scope cancels everything else (cancel flows down), waits for every child to
// acknowledge (done flows up), kills the one task that ignores the cancel
// once the grace period is over, and only then does scaf::run return the
// first error. Every line below is printed by the node it names, as it
// happens.
#include <chrono>
#include <cstdio>
#include <string>

#include <caf/all.hpp>

#include "scaf/all.hpp"

#include "say.hpp"

using namespace std::chrono_literals;

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;

using demo::say;

/// Prints when its state goes: the last thing a task does before its scope
/// hears that it is done.
struct farewell {
  farewell() = default;
  ~farewell() {
    if (!path.empty())
      say(path, "state destroyed");
  }
  std::string path;
};

using task = scaf::stateful_task<farewell>;

/// Works for `steps` ticks of 10 ms, then succeeds; cleans up when cancelled.
caf::behavior worker(task* self, int steps) {
  self->state.path = self->path();
  say(self->path(), "started");
  self->on_cancel([self](const caf::error& why) {
    say(self->path(), "cancelled: " + scaf::render(why));
    self->quit(why);
  });
  self->delayed_send(self, 10ms, tick_atom::value, steps);
  return {[self](tick_atom, int left) {
    if (left == 0) {
      say(self->path(), "finished its work");
      self->quit();
      return;
    }
    self->delayed_send(self, 10ms, tick_atom::value, left - 1);
  }};
}

/// Fails after 25 ms.
caf::behavior flaky(task* self) {
  self->state.path = self->path();
  say(self->path(), "started");
  self->delayed_send(self, 25ms, tick_atom::value, 0);
  return {[self](tick_atom, int) {
    say(self->path(), "fails: disk full");
    self->quit(caf::make_error(caf::sec::runtime_error, "disk full"));
  }};
}

/// Ignores cancel: it is killed when the grace period ends.
caf::behavior stubborn(task* self) {
  self->state.path = self->path();
  say(self->path(), "started");
  self->on_cancel([self](const caf::error&) {
    say(self->path(), "ignores the cancel"); // and does not quit
  });
  return {[](tick_atom, int) {}};
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  scaf::init(cfg);
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  auto baseline = sys.registry().running();

  scaf::scope_report report;
  scaf::run_options opts;
  opts.scope.name = "root";
  opts.scope.grace = 100ms;
  opts.scope.record_outcomes = true;
  opts.report = &report;
  auto result = scaf::run(
    sys,
    [](scaf::scope& s) {
      say(s.path(), "scope opened");
      s.spawn({.name = "fetch"}, worker, 100);
      s.spawn({.name = "flaky"}, flaky);
      s.spawn({.name = "stubborn"}, stubborn);
      s.spawn_scope({.name = "index"}, [](scaf::scope& index) {
        say(index.path(), "scope opened");
        for (int i = 0; i < 2; ++i)
          index.spawn(worker, 100);
      });
      return std::string{"all fetched"};
    },
    opts);

  std::printf("\nscaf::run returned: %s\n",
              result ? result->c_str() : scaf::render(result.error()).c_str());
  for (auto& err : report.suppressed)
    std::printf("suppressed: %s\n", scaf::render(err).c_str());
  for (auto& path : report.killed)
    std::printf("killed after the grace period: %s\n", path.c_str());
  std::printf("\nthe outcome as a tree:\n%s",
              scaf::render_tree(report, "root").c_str());
  auto running = sys.registry().running();
  std::printf("actors still running under the scope: %zu\n",
              running - baseline);
  // Exit code: 0 if the demo showed what it promises.
  return !result && report.killed.size() == 1 && running == baseline ? 0 : 1;
}
