// fanout: one scope spawns N idle tasks, cancels them all, and waits until
// every one is done; the same workload in plain CAF (a parent actor that
// spawns N monitored children, sends each an exit message and waits for all
// down messages) is the floor. Every variant runs in its own actor system,
// alternating, and the table reports medians, min-max and ratios measured in
// this run.
//
//   scaf_bench_fanout [runs=5] [small=10000] [large=100000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "scaf/all.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using go_atom = caf::atom_constant<caf::atom("go")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;

enum class sched { caf_stealing, caf_sharing, scaf_stealing };

struct config : caf::actor_system_config {
  explicit config(sched s) {
    set("logger.console", caf::atom("none"));
    if (s == sched::scaf_stealing)
      scaf::init(*this);
    else if (s == sched::caf_sharing)
      set("scheduler.policy", caf::atom("sharing"));
  }
};

/// Raw CAF: spawn N monitored idle children, exit them all, count downs.
double raw_caf(sched s, int n) {
  config cfg{s};
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto start = clock_type::now();
  auto parent = sys.spawn([n](caf::event_based_actor* p) -> caf::behavior {
    return {[=](go_atom) -> caf::result<int> {
      auto rp = std::make_shared<caf::typed_response_promise<int>>(
        p->make_response_promise<int>());
      auto children = std::make_shared<std::vector<caf::actor>>();
      children->reserve(n);
      for (int i = 0; i < n; ++i)
        children->push_back(p->spawn<caf::monitored>(
          [](caf::event_based_actor*) -> caf::behavior {
            return {[](idle_atom) {}};
          }));
      for (auto& c : *children)
        p->send_exit(c, caf::exit_reason::user_shutdown);
      auto left = std::make_shared<int>(n);
      p->set_down_handler([=](caf::down_msg&) {
        if (--*left == 0) {
          children->clear();
          rp->deliver(n);
        }
      });
      return *rp;
    }};
  });
  self->request(parent, caf::infinite, go_atom::value)
    .receive([](int) {}, [](caf::error&) { std::abort(); });
  auto elapsed = std::chrono::duration<double>(clock_type::now() - start);
  self->send_exit(parent, caf::exit_reason::user_shutdown);
  return elapsed.count();
}

/// scaf: run() a scope that spawns N idle tasks and cancels itself.
double with_scaf(sched s, int n) {
  config cfg{s};
  caf::actor_system sys{cfg};
  auto start = clock_type::now();
  auto result = scaf::run(sys, [n](scaf::scope& sc) {
    for (int i = 0; i < n; ++i)
      sc.spawn([](scaf::task_actor*) -> caf::behavior {
        return {[](idle_atom) {}};
      });
    sc.cancel("fan-out done");
  });
  auto elapsed = std::chrono::duration<double>(clock_type::now() - start);
  if (result || !scaf::is(result.error(), scaf::errc::cancelled))
    std::abort();
  return elapsed.count();
}

struct stats {
  double median, min, max;
};

stats summarize(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return {xs[xs.size() / 2], xs.front(), xs.back()};
}

} // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  int small = argc > 2 ? std::atoi(argv[2]) : 10'000;
  int large = argc > 3 ? std::atoi(argv[3]) : 100'000;
  // CAF's stock work stealing is quadratic in the burst size (16-100 s at
  // 100k here): it runs at 10k and 3x that only.
  int stock_large = std::min(large, 3 * small);
  struct variant {
    std::string name;
    std::function<double(int)> fn;
    int large;
  };
  std::vector<variant> variants{
    {"raw CAF, scaf stealing",
     [](int n) { return raw_caf(sched::scaf_stealing, n); }, large},
    {"scaf, scaf stealing",
     [](int n) { return with_scaf(sched::scaf_stealing, n); }, large},
    {"raw CAF, CAF sharing",
     [](int n) { return raw_caf(sched::caf_sharing, n); }, large},
    {"scaf, CAF sharing",
     [](int n) { return with_scaf(sched::caf_sharing, n); }, large},
    {"raw CAF, CAF stealing",
     [](int n) { return raw_caf(sched::caf_stealing, n); }, stock_large},
  };
  std::vector<std::vector<double>> t_small(variants.size());
  std::vector<std::vector<double>> t_large(variants.size());
  for (int r = 0; r < runs; ++r)
    for (size_t v = 0; v < variants.size(); ++v) {
      t_small[v].push_back(variants[v].fn(small));
      t_large[v].push_back(variants[v].fn(variants[v].large));
    }
  std::printf("fan-out: spawn N idle tasks, cancel all, wait until all are "
              "done; %d runs, median [min-max] ms\n\n",
              runs);
  std::printf("%-24s %8s %24s %8s %26s %9s %8s\n", "variant", "N", "time",
              "N", "time", "us/task", "ratio");
  for (size_t v = 0; v < variants.size(); ++v) {
    auto s = summarize(t_small[v]);
    auto l = summarize(t_large[v]);
    std::printf("%-24s %8d %8.1f [%6.1f-%6.1f] %8d %9.1f [%7.1f-%7.1f] %9.2f "
                "%8.2f\n",
                variants[v].name.c_str(), small, s.median * 1e3, s.min * 1e3,
                s.max * 1e3, variants[v].large, l.median * 1e3, l.min * 1e3,
                l.max * 1e3, l.median / variants[v].large * 1e6,
                l.median / s.median);
  }
  auto ratio = [&](size_t scaf_row, size_t raw_row) {
    return summarize(t_large[scaf_row]).median
           / summarize(t_large[raw_row]).median;
  };
  std::printf("\nratio = time at the larger N / time at the smaller N "
              "(linear: %.1f)\n",
              static_cast<double>(large) / small);
  std::printf("scaf / raw CAF at N=%d: %.2fx on scaf's scheduler, %.2fx on "
              "CAF's sharing scheduler\n",
              large, ratio(1, 0), ratio(3, 2));
}
