// The consumer's program: a scope with a function task and a supervisor,
// held from this thread. Exits 0 if everything ended as expected.
#include <cstdio>

#include <caf/all.hpp>

#include <scaf/all.hpp>
#include <scaf/supervisor.hpp>

namespace {

caf::behavior worker(scaf::task_actor* self) {
  self->on_cancel([self](const caf::error& why) { self->quit(why); });
  return {[](int x) { return x; }};
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  scaf::init(cfg);
  caf::actor_system sys{cfg};
  // A supervised background service, and main work whose value is the
  // scope's: once it is done, the service is cancelled and run returns.
  auto answer = scaf::run(sys, [](scaf::scope& s) {
    s.spawn({.name = "sup", .background = true},
            scaf::supervisor({}, {scaf::child({.name = "w"}, worker)}));
    return scaf::collect(std::vector{s.spawn_fn([] { return 6 * 7; })});
  });
  auto owner = scaf::make_scope(sys, {.name = "held"});
  auto h = owner.ref().spawn_fn([] { return 1; });
  auto one = h.wait();
  auto report = owner.join().wait();
  auto ok = answer && answer->size() == 1 && answer->front() == 42 && one &&
            *one == 1 && report &&
            report->status == scaf::scope_status::succeeded;
  std::printf("consumer: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
