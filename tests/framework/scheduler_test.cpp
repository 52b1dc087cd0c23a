// Tests of scaf/scheduler.hpp: what scaf adds to CAF's scheduler. Function
// tasks run on a pool of their own, so that a cancel, a deadline or an abort
// is never starved by functions that poll their stop token; a task that
// holds a scheduler thread too long is named, and the live tree shows it.
// On the real scheduler: that is where threads can be starved.
#include "scaf/scheduler.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>

#include "../common/fixture.hpp"
#include "../common/tasks.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

namespace {

using SchedulerTest = leak_checked_threaded_test;

/// How a polling task ended: stop was requested, or it gave up after 30 s
/// (its cancel never arrived).
enum class poll_end { stopped, gave_up };

/// Polls `is_stopped` every millisecond for at most 30 s.
template <class F>
poll_end poll(F is_stopped) {
  auto until = std::chrono::steady_clock::now() + 30s;
  while (!is_stopped()) {
    if (std::chrono::steady_clock::now() >= until)
      return poll_end::gave_up;
    std::this_thread::sleep_for(1ms);
  }
  return poll_end::stopped;
}

std::string thread_name() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  return name;
}

} // namespace

TEST_F(SchedulerTest, DeadlineReachesPollingFunctionsWhateverTheirNumber) {
  // Twice as many polling functions as CAF has scheduler threads, of every
  // form that polls: none holds a thread the scope's deadline needs.
  auto n = 2 * sys.scheduler().num_workers();
  std::atomic<size_t> stopped{0};
  std::atomic<size_t> gave_up{0};
  auto count = [&](poll_end x) {
    ++(x == poll_end::stopped ? stopped : gave_up);
  };
  auto r = run(sys, [&](scope& s) {
    s.fail_after(100ms);
    for (size_t i = 0; i < n; ++i) {
      s.spawn_fn([&](std::stop_token stop) {
        count(poll([&] { return stop.stop_requested(); }));
      });
      s.spawn_fn([&](task_context& ctx) {
        count(poll([&] { return ctx.is_cancelled(); }));
      });
      s.spawn_fn([&](task_base* self) {
        count(poll([self] { return self->is_cancelled(); }));
      });
    }
  });
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), errc::timeout)) << render(r.error());
  EXPECT_EQ(gave_up, 0u);
  // Those still waiting for a pool thread at the deadline never ran.
  EXPECT_GE(stopped, n);
}

TEST_F(SchedulerTest, CancelAndAbortReachPollingFunctionsFromAnyThread) {
  for (auto abort : {false, true}) {
    SCOPED_TRACE(abort ? "abort" : "cancel");
    auto owner = make_scope(sys, {.name = "svc", .grace = 10s});
    auto n = 2 * sys.scheduler().num_workers();
    std::vector<handle<int>> hs;
    for (size_t i = 0; i < n; ++i)
      hs.push_back(owner.ref().spawn_fn([](std::stop_token stop) {
        return poll([&] { return stop.stop_requested(); }) == poll_end::stopped
                 ? 1
                 : 0;
      }));
    while (owner.ref().children().functions < n)
      std::this_thread::sleep_for(1ms);
    if (abort)
      owner.abort();
    else
      owner.cancel("enough");
    auto report = owner.done().wait();
    ASSERT_TRUE(report);
    EXPECT_EQ(report->status, scope_status::cancelled);
    for (auto& h : hs) {
      auto x = h.wait();
      // Ran and stopped, or never ran (still waiting for a pool thread).
      EXPECT_TRUE(x ? *x == 1 : is_stopped(x.error())) << render(x.error());
    }
  }
}

TEST_F(SchedulerTest, FunctionTasksWithATokenRunOffTheSchedulerAndMayBlock) {
  std::string fn_thread, job_thread, task_thread;
  caf::error fn_refused, job_refused, task_refused{make_error(errc::none)};
  auto r = run(sys, [&](scope& s) {
    s.spawn_fn([&](std::stop_token) {
      fn_thread = thread_name();
      fn_refused = check_may_block("waiting");
    });
    s.spawn_fn([&] { // short work: a job of CAF's scheduler
      job_thread = thread_name();
      job_refused = check_may_block("waiting");
    });
    s.spawn([&](task_actor* self) -> caf::behavior {
      task_thread = thread_name();
      task_refused = check_may_block("waiting");
      self->quit();
      return {};
    });
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(fn_thread, "scaf.function");
  EXPECT_FALSE(fn_refused);
  EXPECT_EQ(job_thread, "caf.multiplexer");
  EXPECT_TRUE(is(job_refused, errc::would_deadlock));
  EXPECT_EQ(task_thread, "caf.multiplexer"); // CAF's worker threads
  EXPECT_TRUE(is(task_refused, errc::would_deadlock));
}

namespace {

/// A system whose busy watch names runs longer than 30 ms.
class BusyWatchTest : public ::testing::Test {
protected:
  struct config : caf::actor_system_config {
    config() {
      scaf::init(*this);
      set("logger.console", caf::atom("none"));
      set("scaf.busy-warning", caf::timespan{30ms});
    }
  };

  log_capture lines{spdlog::level::warn};
  config cfg;
  caf::actor_system sys{cfg};
};

} // namespace

TEST_F(BusyWatchTest,
       ATaskHoldingASchedulerThreadIsNamedOnceAndShownInTheTree) {
  auto owner = make_scope(sys, {.name = "svc"});
  std::atomic<bool> busy{false};
  std::atomic<bool> release{false};
  auto hog =
    owner.ref().spawn({.name = "hog"}, [&](task_actor* self) -> caf::behavior {
      return {[&, self](finish_atom) {
        busy = true;
        while (!release)
          std::this_thread::sleep_for(1ms);
        self->quit();
      }};
    });
  auto quick =
    owner.ref().spawn({.name = "quick"}, [](task_actor*) -> caf::behavior {
      return {[](finish_atom) {}};
    });
  while (!hog.task())
    std::this_thread::sleep_for(1ms);
  caf::anon_send(hog.task(), finish_atom::value);
  while (!busy)
    std::this_thread::sleep_for(1ms);
  // Held for more than the threshold: the watch has had time to look.
  std::this_thread::sleep_for(200ms);
  auto tree = owner.ref().tree().wait();
  release = true;
  ASSERT_TRUE(tree);
  ASSERT_EQ(tree->children.size(), 2u);
  auto& h = tree->children[0];
  EXPECT_EQ(h.name, "hog");
  ASSERT_TRUE(h.busy);
  EXPECT_GE(*h.busy, caf::timespan{30ms});
  EXPECT_NE(to_text(*tree).find("busy"), std::string::npos);
  EXPECT_FALSE(tree->children[1].busy); // idle, not busy
  EXPECT_TRUE(hog.wait());
  owner.cancel("done");
  owner.done().wait();
  EXPECT_EQ(lines.count("svc/hog has been running on a scheduler thread"), 1u)
    << lines.text();
  EXPECT_EQ(lines.count("svc/quick"), 0u) << lines.text();
}
