// Micro benchmarks of scaf's hot paths with Google Benchmark, each next to
// its raw-CAF floor: spawn + done of a batch of tasks, and cancel delivery to
// a batch of idle tasks (from the cancel until the last done). Items/s is
// per task.
//
//   scaf_microbench [--benchmark_filter=...]
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include <caf/all.hpp>

#include "scaf/all.hpp"

namespace {

using go_atom = caf::atom_constant<caf::atom("go")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;

struct config : caf::actor_system_config {
  config() {
    scaf::init(*this);
    set("logger.console", caf::atom("none"));
  }
};

caf::actor_system* the_system = nullptr;

caf::actor_system& sys() {
  return *the_system;
}

/// A raw-CAF parent: on `(go_atom, n)` it spawns n monitored children made by
/// `make`, optionally sends each an exit, and answers once all are down.
caf::actor raw_parent(bool cancel) {
  return sys().spawn([cancel](caf::event_based_actor* p) -> caf::behavior {
    return {[=](go_atom, long n) -> caf::result<long> {
      auto rp = std::make_shared<caf::typed_response_promise<long>>(
        p->make_response_promise<long>());
      auto kids = std::make_shared<std::vector<caf::actor>>();
      auto left = std::make_shared<long>(n);
      p->set_down_handler([=](caf::down_msg&) {
        if (--*left == 0) {
          kids->clear();
          rp->deliver(n);
        }
      });
      for (long i = 0; i < n; ++i)
        kids->push_back(p->spawn<caf::monitored>(
          [cancel](caf::event_based_actor* c) -> caf::behavior {
            if (!cancel)
              c->quit();
            return {[](idle_atom) {}};
          }));
      if (cancel)
        for (auto& k : *kids)
          p->send_exit(k, caf::exit_reason::user_shutdown);
      return *rp;
    }};
  });
}

void BM_ScopeSpawnAndDone(benchmark::State& state) {
  auto n = state.range(0);
  for (auto _ : state) {
    auto r = scaf::run(sys(), [n](scaf::scope& s) {
      for (long i = 0; i < n; ++i)
        s.spawn([](scaf::task_actor* self) -> caf::behavior {
          self->quit();
          return {};
        });
    });
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_RawSpawnAndDone(benchmark::State& state) {
  auto n = state.range(0);
  caf::scoped_actor self{sys()};
  auto parent = raw_parent(false);
  for (auto _ : state)
    self->request(parent, caf::infinite, go_atom::value, n)
      .receive([](long) {}, [](caf::error&) {});
  self->send_exit(parent, caf::exit_reason::user_shutdown);
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_ScopeFunctionTasks(benchmark::State& state) {
  auto n = state.range(0);
  for (auto _ : state) {
    auto r = scaf::run(sys(), [n](scaf::scope& s) {
      for (long i = 0; i < n; ++i)
        s.spawn_fn([i] { return i; });
    });
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_ScopeSpawnAndCancel(benchmark::State& state) {
  auto n = state.range(0);
  for (auto _ : state) {
    auto r = scaf::run(sys(), [n](scaf::scope& s) {
      for (long i = 0; i < n; ++i)
        s.spawn([](scaf::task_actor*) -> caf::behavior {
          return {[](idle_atom) {}};
        });
      s.cancel("bench");
    });
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_RawSpawnAndCancel(benchmark::State& state) {
  auto n = state.range(0);
  caf::scoped_actor self{sys()};
  auto parent = raw_parent(true);
  for (auto _ : state)
    self->request(parent, caf::infinite, go_atom::value, n)
      .receive([](long) {}, [](caf::error&) {});
  self->send_exit(parent, caf::exit_reason::user_shutdown);
  state.SetItemsProcessed(state.iterations() * n);
}

} // namespace

BENCHMARK(BM_ScopeSpawnAndDone)->Arg(1)->Arg(1000)->UseRealTime();
BENCHMARK(BM_RawSpawnAndDone)->Arg(1)->Arg(1000)->UseRealTime();
BENCHMARK(BM_ScopeFunctionTasks)->Arg(1000)->UseRealTime();
BENCHMARK(BM_ScopeSpawnAndCancel)->Arg(1000)->UseRealTime();
BENCHMARK(BM_RawSpawnAndCancel)->Arg(1000)->UseRealTime();

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  // The actor system lives in main, not in a static: it must shut down
  // before the globals it uses (loggers) are destroyed.
  config cfg;
  caf::actor_system system{cfg};
  the_system = &system;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
