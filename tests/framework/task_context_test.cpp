// Tests of scaf/task_context.hpp: function and blocking tasks that open
// scopes of their own. Deterministic where the order of done signals
// matters, then on real threads, where tasks wait for their scopes.
#include "scaf/task_context.hpp"

#include <atomic>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "../common/fixture.hpp"
#include "../common/tasks.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

namespace {

using TaskContextTest = leak_checked_deterministic_test;
using ThreadedTaskContextTest = leak_checked_threaded_test;

/// Sums 1..n, each number a function task of `s`.
auto sum_to(int n) {
  return [n](scope& s) {
    std::vector<handle<int>> hs;
    for (int i = 1; i <= n; ++i)
      hs.push_back(s.spawn_fn([i] { return i; }));
    return collect(hs);
  };
}

int total(const std::vector<int>& xs) {
  return std::accumulate(xs.begin(), xs.end(), 0);
}

} // namespace

TEST_F(TaskContextTest,
       ATaskThatReturnsWhileItsScopeRunsCancelsItAndEndsAfter) {
  auto report = std::make_shared<scope_report>();
  handle<int> h;
  std::string path;
  auto root = spawn_scope(
    sys, {.name = "root", .grace = 1s, .record_outcomes = true},
    [&](scope& s) {
      h = s.spawn_fn({.name = "f"}, [&](task_context& ctx) {
        path = ctx.path();
        auto owner = ctx.open_child({.name = "x"});
        owner.ref().spawn(worker, &log, std::string{"w"});
        owner.detach(); // left running when the task returns
        return 1;
      });
      s.join();
    },
    report);
  run();
  EXPECT_EQ(path, "root/f");
  // The scope the task opened was cancelled because its task returned, and
  // the task ended only after it: its handle, its outcome, the root's end.
  EXPECT_EQ(log.count("cancel:w:scaf::cancelled(root/f: its task returned)"),
            1u);
  ASSERT_TRUE(h.ready());
  EXPECT_EQ(h.get(), 1);
  EXPECT_EQ(report->status, scope_status::succeeded);
  ASSERT_EQ(report->children.size(), 1u);
  auto& f = report->children[0];
  EXPECT_EQ(f.name, "f");
  EXPECT_EQ(f.status, node_status::done);
  ASSERT_EQ(f.children.size(), 1u); // its scope ended while it waited
  EXPECT_EQ(f.children[0].name, "x");
  EXPECT_EQ(f.children[0].status, node_status::cancelled);
  (void)root;
}

TEST_F(TaskContextTest, ScopesOfATaskAreNamedPerTask) {
  handle<int> f, g;
  std::vector<handle<scope_report>> first, second;
  auto root = spawn_scope(sys, {.name = "root", .grace = 1s}, [&](scope& s) {
    auto opener = [&](task_context& ctx) {
      auto a = ctx.open_child({.name = "parts"});
      auto b = ctx.open_child({.name = "parts"}); // taken by a
      first.push_back(a.done());
      second.push_back(b.done());
      a.ref().spawn_fn([] { return 0; });
      a.join();
      // (Detached: an owner destroyed here would wait for its scope, and
      // on CAF's test coordinator nothing runs while this function does.)
      a.detach();
      b.detach();
      return 2;
    };
    f = s.spawn_fn({.name = "f"}, opener);
    g = s.spawn_fn({.name = "g"}, opener); // its own "parts": no clash
    s.join();
  });
  run();
  EXPECT_EQ(f.get(), 2);
  EXPECT_EQ(g.get(), 2);
  // Each task returned before its "parts" was done: it cancelled it.
  ASSERT_EQ(first.size(), 2u);
  for (auto& x : first)
    EXPECT_EQ(x.get()->status, scope_status::cancelled);
  ASSERT_EQ(second.size(), 2u);
  ASSERT_FALSE(second[0].get());
  EXPECT_EQ(render(second[0].get().error()),
            "scaf::invalid_argument(root/f: a live scope of this task is "
            "already named 'parts')");
  ASSERT_FALSE(second[1].get());
  EXPECT_EQ(render(second[1].get().error()),
            "scaf::invalid_argument(root/g: a live scope of this task is "
            "already named 'parts')");
  (void)root;
}

TEST_F(ThreadedTaskContextTest, FunctionAndBlockingTasksRunScopesOfTheirOwn) {
  std::atomic<int> in_fn{0}, in_blocking{0};
  auto r = run(sys, [&](scope& s) {
    auto fn = s.spawn_fn({.name = "f"}, [&](task_context& ctx) {
      auto x = ctx.run({.name = "parts"}, [&](scope& in) {
        in_fn = in.path() == "root/f/parts" ? 1 : -1;
        return sum_to(10)(in);
      });
      return x ? total(*x) : -1;
    });
    auto blocking = s.spawn_blocking({.name = "b"}, [&](task_context& ctx) {
      auto x = ctx.run({.name = "parts"}, [&](scope& in) {
        in_blocking = in.path() == "root/b/parts" ? 1 : -1;
        return sum_to(4)(in);
      });
      return x ? total(*x) : -1;
    });
    return collect(std::vector<handle<int>>{fn, blocking});
  });
  ASSERT_TRUE(r) << render(r.error());
  EXPECT_EQ(*r, (std::vector<int>{55, 10}));
  EXPECT_EQ(in_fn, 1);
  EXPECT_EQ(in_blocking, 1);
}

TEST_F(ThreadedTaskContextTest, AFailureInATasksScopeIsTheTasksToReturn) {
  auto r = run(sys, [](scope& s) {
    return s.spawn_fn([](task_context& ctx) -> caf::expected<int> {
      auto x = ctx.run({.name = "inner"}, [](scope& in) {
        in.spawn_fn(
          []() -> caf::expected<int> { return app_error(4, "inner failed"); });
      });
      if (!x)
        return x.error(); // the task's own failure now
      return 0;
    });
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), app_error(4, "inner failed"));
}

TEST_F(ThreadedTaskContextTest, TheScopesCancelReachesAScopeOfAFunctionTask) {
  std::atomic<bool> stopped{false};
  caf::error heard;
  std::mutex mtx;
  auto r = run(sys, [&](scope& s) {
    s.fail_after(50ms);
    s.spawn_fn({.name = "f"}, [&](task_context& ctx) {
      return ctx.run({.name = "inner"}, [&](scope& in) {
        in.spawn_blocking([&](std::stop_token stop) {
          auto until = std::chrono::steady_clock::now() + 30s;
          while (!stop.stop_requested() &&
                 std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(1ms);
          stopped = stop.stop_requested();
        });
      });
    });
  });
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), errc::timeout)) << render(r.error());
  EXPECT_TRUE(stopped); // by the deadline, not by its own time-out
}

TEST_F(ThreadedTaskContextTest, ACancelledTaskKnowsWhy) {
  std::mutex mtx;
  caf::error why;
  std::atomic<bool> started{false};
  auto owner = make_scope(sys, {.name = "svc"});
  auto h = owner.ref().spawn_fn([&](task_context& ctx) {
    started = true;
    while (!ctx.is_cancelled())
      std::this_thread::sleep_for(1ms);
    std::lock_guard<std::mutex> guard{mtx};
    why = ctx.cancel_reason();
    return 0;
  });
  // (Cancelled before it starts, a function never runs.)
  while (!started)
    std::this_thread::sleep_for(1ms);
  owner.cancel("enough");
  EXPECT_EQ(h.wait(), 0);
  owner.done().wait();
  std::lock_guard<std::mutex> guard{mtx};
  EXPECT_EQ(render(why), "scaf::cancelled(svc: enough)");
}

namespace {

/// A system whose function pool keeps a single thread.
class OneThreadPoolTest : public ::testing::Test {
protected:
  struct config : caf::actor_system_config {
    config() {
      scaf::init(*this);
      set("logger.console", caf::atom("none"));
      set("scaf.function-threads", size_t{1});
    }
  };

  config cfg;
  caf::actor_system sys{cfg};
};

} // namespace

TEST_F(OneThreadPoolTest, TasksThatWaitForTasksDoNotDeadlockThePool) {
  // Each level waits for the one below on the pool's only thread: the pool
  // starts another while one waits.
  auto r = run(sys, [](scope& s) {
    std::vector<handle<int>> hs;
    for (int i = 0; i < 4; ++i)
      hs.push_back(s.spawn_fn([](task_context& ctx) {
        auto x = ctx.run({.name = "mid"}, [](scope& mid) {
          std::vector<handle<int>> inner;
          for (int j = 0; j < 2; ++j)
            inner.push_back(mid.spawn_fn([](task_context& c) {
              auto y = c.run({.name = "leaf"}, sum_to(3));
              return y ? total(*y) : -1;
            }));
          return collect(inner);
        });
        return x ? total(*x) : -1;
      }));
    return collect(hs);
  });
  ASSERT_TRUE(r) << render(r.error());
  EXPECT_EQ(*r, (std::vector<int>{12, 12, 12, 12}));
}

TEST_F(OneThreadPoolTest, FunctionsThatPollDoNotStarveTheOthers) {
  // Background functions poll until cancelled on the pool's only thread;
  // the main ones still run (the pool adds threads while they wait), and
  // once they are done the pollers are cancelled.
  std::atomic<int> stopped{0};
  auto r = run(sys, [&](scope& s) {
    for (int i = 0; i < 3; ++i)
      s.spawn_fn({.background = true}, [&](std::stop_token stop) {
        while (!stop.stop_requested())
          std::this_thread::sleep_for(1ms);
        ++stopped;
      });
    // Main functions on the pool too (they take a token).
    std::vector<handle<int>> hs;
    for (int i = 1; i <= 5; ++i)
      hs.push_back(s.spawn_fn([i](std::stop_token) { return i; }));
    return collect(hs);
  });
  ASSERT_TRUE(r) << render(r.error());
  EXPECT_EQ(total(*r), 15);
  EXPECT_EQ(stopped, 3);
}

TEST_F(ThreadedTaskContextTest, ABlockingTaskLogsUnderItsPath) {
  log_capture lines{spdlog::level::info};
  auto result = run(sys, [](scope& s) {
    s.spawn_blocking({.name = "reader"}, [](task_context& ctx) {
      ctx.log(spdlog::level::info, "{} files left", 3);
      // Below the logger's level: not even formatted.
      ctx.log(spdlog::level::trace, "{}", "hidden");
    });
  });
  ASSERT_TRUE(result) << render(result.error());
  EXPECT_EQ(lines.count("root/reader: 3 files left"), 1u) << lines.text();
  EXPECT_EQ(lines.count("hidden"), 0u);
}
