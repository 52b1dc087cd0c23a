// Function tasks, blocking tasks, handles, collect and deadlines
// (scaf/handle.hpp, scaf/collect.hpp, scope::spawn_fn / spawn_blocking /
// fail_after / move_on_after).
#include "scaf/collect.hpp"
#include "scaf/handle.hpp"

#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include "../common/fixture.hpp"
#include "../common/tasks.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

namespace {

class FunctionTaskTest : public deterministic_test {
protected:
  std::shared_ptr<scope_report> report = std::make_shared<scope_report>();

  template <class F>
  caf::actor open(F body, std::string name = "root") {
    return spawn_scope(
      sys, {.name = std::move(name), .grace = 1s},
      [body = std::move(body)](scope& s) mutable {
        body(s);
        s.join();
      },
      report);
  }
};

/// A cheap, thread-safe coin flip to vary interleavings.
bool rng_yield() {
  static std::atomic<unsigned> state{1};
  return (state.fetch_add(2654435761u) >> 13) & 1;
}

using ThreadedTaskTest = threaded_test;

/// Spawns a task that counts `steps` in an endless computation split by
/// `yield` into steps; it stops stepping when cancelled.
template <class Counter>
caf::actor spawn_yield_loop(scope& s, Counter* steps) {
  return *s.spawn([steps](task_actor* self) -> caf::behavior {
    auto step = std::make_shared<std::function<void()>>();
    *step = [self, steps, step] {
      ++*steps;
      self->yield(*step);
    };
    self->yield(*step);
    self->on_cancel([self, step](const caf::error& why) {
      *step = nullptr;
      self->quit(why);
    });
    return {[](finish_atom) {}};
  });
}

} // namespace

// -- function tasks and handles -----------------------------------------------

TEST_F(FunctionTaskTest, FunctionTaskResolvesWithItsValue) {
  handle<int> h;
  handle<void> v;
  open([&](scope& s) {
    h = s.spawn_fn([] { return 6 * 7; });
    v = s.spawn_fn([] {});
  });
  run();
  ASSERT_TRUE(h.ready());
  EXPECT_EQ(h.get(), 42);
  EXPECT_TRUE(v.get());
  EXPECT_FALSE(report->reason());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, FunctionTaskIsAJobWhoseCapturesDieBeforeItsScope) {
  handle<int> h;
  size_t actors_in_body = 0, running_in_body = 0;
  auto root = open([&](scope& s) {
    auto token = std::shared_ptr<int>(new int{41}, [this](int* p) {
      delete p;
      log.add("~capture");
    });
    h = s.spawn_fn([token] { return *token + 1; });
    actors_in_body = sys.registry().running();
    running_in_body = s.running();
  });
  auto obs = observe({{root, "root"}});
  auto actors_before = sys.registry().running(); // the scope, the observer
  run();
  EXPECT_EQ(actors_in_body, actors_before); // no actor for the task
  EXPECT_EQ(running_in_body, 1u);
  EXPECT_FALSE(h.task());
  EXPECT_EQ(h.get(), 42);
  EXPECT_LT(log.index_of("~capture"), log.index_of("down:root"));
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, FunctionTaskCancelledBeforeItStartsNeverRuns) {
  int runs = 0;
  handle<int> h;
  open([&](scope& s) {
    h = s.spawn_fn({.name = "late"}, [&runs] { return ++runs; });
    s.cancel("changed my mind"); // the job has not run yet
  });
  run();
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(render(h.get().error()), "scaf::cancelled(root: changed my mind)");
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: changed my mind)");
  EXPECT_TRUE(report->stragglers.empty());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest,
       JoinerOfFailedTaskSeesCancelledWhileScopeGetsTheError) {
  handle<int> failing, sibling;
  auto err = app_error(9, "broken");
  open([&](scope& s) {
    failing = s.spawn_fn({.name = "bad"},
                         [err]() -> caf::expected<int> { return err; });
  });
  run();
  EXPECT_EQ(report->reason(), err);
  auto r = failing.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(render(r.error()),
            "scaf::cancelled(root/bad: the task failed: " + render(err) + ")");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, ExceptionInFunctionTaskFailsScopeWithWhat) {
  handle<int> h;
  open([&](scope& s) {
    h = s.spawn_fn({.name = "thrower"},
                   []() -> int { throw std::runtime_error("no luck"); });
  });
  run();
  EXPECT_EQ(render(report->reason()),
            "scaf::task_exception(root/thrower: no luck)");
  EXPECT_EQ(render(h.get().error()),
            "scaf::cancelled(root/thrower: the task threw an exception)");
}

TEST_F(FunctionTaskTest, TaskSpawnedIntoClosedScopeNeverRuns) {
  int runs = 0;
  handle<int> h;
  open([&](scope& s) {
    s.close();
    h = s.spawn_fn([&runs] { return ++runs; });
  });
  run();
  EXPECT_EQ(runs, 0);
  ASSERT_TRUE(h.ready());
  EXPECT_TRUE(is(h.get().error(), errc::scope_closed));
  EXPECT_FALSE(h.task());
}

TEST_F(FunctionTaskTest, CancellableTaskNotCancelledReturnsItsOwnValue) {
  handle<int> h;
  open([&](scope& s) { h = s.spawn_cancellable(-1, [] { return 7; }); });
  run();
  EXPECT_EQ(h.get(), 7);
  EXPECT_FALSE(report->reason());
}

TEST_F(FunctionTaskTest, CancelledCancellableTaskYieldsItsDefault) {
  int before_runs = 0, plain_runs = 0, default_runs = 0;
  handle<int> before, plain, with_default;
  open([&](scope& s) {
    // Cancelled before it started: it never runs, it yields its fallback.
    before = s.spawn_cancellable(-1, [&] { return ++before_runs; });
    s.cancel("stop");
    // A cancelled scope still accepts children; they start cancelled and,
    // being cleanup work, still run. A cancellable one yields its fallback.
    plain = s.spawn_fn([&] { return ++plain_runs; });
    with_default = s.spawn_cancellable(-2, [&] { return ++default_runs; });
  });
  run();
  EXPECT_EQ(before_runs, 0);
  EXPECT_EQ(plain_runs, 1);
  EXPECT_EQ(default_runs, 1);
  EXPECT_EQ(before.get(), -1);
  EXPECT_EQ(with_default.get(), -2);
  EXPECT_EQ(plain.get(), 1);
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: stop)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, ThenRunsTheContinuationInTheTask) {
  auto seen = std::make_shared<int>(0);
  open([&](scope& s) {
    auto h = s.spawn_fn([] { return 5; });
    s.spawn([h, seen](task_actor* self) -> caf::behavior {
      h.then(self, [self, seen](caf::expected<int> r) {
        *seen = r ? *r : -1;
        self->quit();
      });
      return {[](finish_atom) {}};
    });
  });
  run();
  EXPECT_EQ(*seen, 5);
  EXPECT_FALSE(report->reason()) << render(report->reason());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, FirstErrorWinsWhileTaskSpawnedAfterCancelStillRuns) {
  caf::actor a;
  auto e1 = app_error(1, "first");
  auto e2 = app_error(2, "late");
  open([&](scope& s) {
    a = *s.spawn(worker, &log, "a");
    // When cancelled, this task spawns a cleanup task into its scope; the
    // cleanup task runs, fails, and its error is suppressed.
    s.spawn([&, e2](task_actor* self) -> caf::behavior {
      self->on_cancel([=, &log = this->log](const caf::error&) {
        auto scope_hdl = caf::actor_cast<caf::actor>(self->parent_scope());
        self
          ->request(
            scope_hdl, caf::infinite, spawn_atom::value,
            make_spawn_request({.name = "cleanup"},
                               [=, &log](task_actor* c) -> caf::behavior {
                                 log.add("cleanup ran");
                                 c->quit(e2);
                                 return {};
                               }))
          .then([=](caf::actor&) { self->quit(); },
                [=](caf::error& err) { self->quit(err); });
      });
      return {[](finish_atom) {}};
    });
  });
  run();
  caf::anon_send(a, fail_atom::value, e1);
  run();
  EXPECT_EQ(log.count("cleanup ran"), 1u);
  EXPECT_EQ(report->reason(), e1);
  ASSERT_EQ(report->suppressed.size(), 1u);
  EXPECT_EQ(report->suppressed[0], e2);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, PreCancelledScopeStartsItsTasksCancelled) {
  int runs = 0;
  bool saw_cancelled = false;
  std::string cause;
  open([&](scope& s) {
    s.spawn({.name = "owner"}, [&](task_actor* self) -> caf::behavior {
      self->on_cancel([=, &runs, &saw_cancelled, &cause](const caf::error&) {
        // Opened while already cancelled: its tasks see it at once, and
        // still run (cleanup work).
        self->open_scope({.name = "cleanup"}, [&](scope& c) {
          c.spawn_fn([&runs] { return ++runs; });
          c.spawn_fn([&](task_base* t) {
            saw_cancelled = t->is_cancelled();
            cause = render(cancel_cause(t->cancel_reason()));
            return ++runs;
          });
        });
        self->quit();
      });
      return {[](finish_atom) {}};
    });
    s.cancel("stop");
  });
  run();
  EXPECT_EQ(runs, 2);
  EXPECT_TRUE(saw_cancelled);
  EXPECT_EQ(cause, "scaf::cancelled(root: stop)");
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: stop)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- bounded concurrency, no-tasks, yield, detach -----------------------------

TEST_F(FunctionTaskTest, LimitQueuesTasksAndStartsThemInSpawnOrder) {
  std::vector<handle<int>> hs;
  limit_counts at_spawn;
  open([&](scope& s) {
    EXPECT_TRUE(s.set_limit(2) == caf::error{});
    for (int i = 0; i < 5; ++i)
      hs.push_back(s.spawn_fn([i, &log = log] {
        log.add("ran:" + std::to_string(i));
        return i;
      }));
    at_spawn = s.counts();
  });
  run();
  EXPECT_EQ(at_spawn.running, 2u);
  EXPECT_EQ(at_spawn.queued, 3u);
  EXPECT_EQ(log.events(), (std::vector<std::string>{"ran:0", "ran:1", "ran:2",
                                                    "ran:3", "ran:4"}));
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(hs[i].get(), i);
  EXPECT_FALSE(hs[4].task()); // it was queued when spawned
  EXPECT_FALSE(report->reason());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, TrySpawnSaysNoWhenFullAndCountsIt) {
  caf::expected<handle<int>> refused{handle<int>{}};
  limit_counts counts;
  caf::error zero;
  open([&](scope& s) {
    zero = s.set_limit(0);
    s.set_limit(1);
    s.spawn_fn([] { return 1; });
    refused = s.try_spawn_fn([] { return 2; });
    counts = s.counts();
  });
  run();
  EXPECT_TRUE(is(zero, errc::invalid_argument));
  ASSERT_FALSE(refused);
  EXPECT_EQ(render(refused.error()),
            "scaf::limit_reached(root: at most 1 tasks may run at once)");
  EXPECT_EQ(counts.rejected, 1u);
  EXPECT_EQ(counts.running, 1u);
  EXPECT_EQ(counts.queued, 0u);
}

TEST_F(FunctionTaskTest, CancelDropsQueuedTasksWithoutRunningThem) {
  int runs = 0;
  std::vector<handle<int>> hs;
  open([&](scope& s) {
    s.set_limit(1);
    // The first task runs (in a task actor, to reach its scope) and cancels
    // the scope while the other two wait in the queue.
    hs.push_back(s.spawn_fn([&runs](task_base* self) {
      caf::anon_send(caf::actor_cast<caf::actor>(self->parent_scope()),
                     cancel_atom::value, std::string{"enough"});
      return ++runs;
    }));
    for (int i = 0; i < 2; ++i)
      hs.push_back(s.spawn_fn([&runs] { return ++runs; }));
  });
  run();
  EXPECT_EQ(runs, 1); // only the one that had started
  EXPECT_EQ(hs[0].get(), 1);
  EXPECT_EQ(render(hs[1].get().error()), "scaf::cancelled(root: enough)");
  EXPECT_EQ(render(hs[2].get().error()), "scaf::cancelled(root: enough)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, YieldLetsCancelInBetweenSteps) {
  auto steps = std::make_shared<int>(0);
  caf::actor looper;
  open([&](scope& s) { looper = spawn_yield_loop(s, steps.get()); });
  // CAF's test scheduler keeps running an actor while its mailbox is not
  // empty, so the looping task would starve its scope here: cancel it
  // directly, as any holder of its handle may.
  sched.run(50);
  auto before = *steps;
  EXPECT_GT(before, 5);
  auto why = make_error(errc::cancelled, "test", "stop looping");
  caf::anon_send(looper, caf::exit_msg{caf::actor_addr{}, why});
  run();
  EXPECT_LE(*steps, before + 2);
  // Cancelling one task is not a failure of its scope.
  EXPECT_EQ(report->status, scope_status::succeeded)
    << render(report->reason());
  EXPECT_TRUE(report->suppressed.empty());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, DetachedScopeKeepsRunningAfterItsOwnerQuits) {
  caf::actor owner, leaf;
  auto root = open([&](scope& s) {
    owner = *s.spawn({.name = "owner"}, [&](task_actor* self) -> caf::behavior {
      auto nested = self->open_scope({.name = "job"}, [&](scope& job) {
        leaf = *job.spawn(worker, &log, "leaf");
      });
      EXPECT_TRUE(self->detach(nested) == caf::error{});
      self->quit(); // does not cancel the detached scope
      return {};
    });
  });
  run();
  auto obs = observe({{owner, "owner"}, {leaf, "leaf"}, {root, "root"}});
  run();
  EXPECT_EQ(log.count_prefix("cancel:leaf:"), 0u);
  EXPECT_EQ(log.count("~leaf"), 0u);
  EXPECT_EQ(log.count("down:root"), 0u); // still supervised by root
  caf::anon_send(leaf, finish_atom::value);
  run();
  EXPECT_LT(log.index_of("down:leaf"), log.index_of("down:root"));
  EXPECT_FALSE(report->reason()) << render(report->reason());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, TopLevelScopeKeepsRunningAfterItsHandleIsGone) {
  caf::actor leaf;
  {
    auto svc = spawn_scope(
      sys, {.name = "svc"},
      [&](scope& s) {
        leaf = *s.spawn(worker, &log, "leaf");
        s.join();
      },
      report);
  } // handle dropped
  run();
  EXPECT_EQ(log.count("start:leaf"), 1u);
  EXPECT_EQ(log.count("~leaf"), 0u);
  EXPECT_GT(sys.registry().running(), baseline);
  caf::anon_send(leaf, finish_atom::value);
  run();
  EXPECT_EQ(log.count("~leaf"), 1u);
  EXPECT_FALSE(report->reason());
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- ready handshake and race ------------------------------------------------

TEST_F(FunctionTaskTest, StartWaitsUntilTheTaskSignalsReady) {
  open([&](scope& s) {
    auto h = s.start<int>(
      {.name = "server"},
      [&](task_actor* self, ready_signal<int> ready) -> caf::behavior {
        log.add("server listening");
        ready(8080);
        return {[=](finish_atom) { self->quit(); }};
      });
    log.add("spawned");
    h.then(s.self(), [&, h](caf::expected<int> port) {
      log.add("ready on " + std::to_string(port ? *port : -1));
      caf::anon_send(h.task(), finish_atom::value);
    });
  });
  run();
  EXPECT_EQ(log.events(), (std::vector<std::string>{
                            "spawned", "server listening", "ready on 8080"}));
  EXPECT_FALSE(report->reason()) << render(report->reason());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, ExceptionInAScopeContinuationFailsTheScope) {
  caf::actor a;
  open([&](scope& s) {
    a = *s.spawn(worker, &log, "a");
    auto h = s.spawn_fn([] { return 1; });
    h.then(s.self(), [](caf::expected<int>) {
      throw std::runtime_error("bad continuation");
    });
  });
  run();
  EXPECT_EQ(render(report->reason()),
            "scaf::task_exception(root: bad continuation)");
  // The scope was not torn down: it cancelled its child and waited.
  EXPECT_EQ(log.count("cancel:a:scaf::cancelled(root: root failed: "
                      "scaf::task_exception(root: bad continuation))"),
            1u);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, FailureBeforeReadyIsTheSpawnersError) {
  handle<int> h;
  auto err = app_error(3, "port in use");
  open([&](scope& s) {
    h =
      s.start<int>({.name = "server"},
                   [err](task_actor* self, ready_signal<int>) -> caf::behavior {
                     self->quit(err);
                     return {};
                   });
  });
  run();
  ASSERT_TRUE(h.ready());
  EXPECT_EQ(h.get().error(), err);
  EXPECT_EQ(report->reason(), err);
}

TEST_F(FunctionTaskTest, RaceFirstSuccessWinsAndCancelsTheRest) {
  caf::actor a, b, c;
  auto e = app_error(4, "slow disk");
  auto r = std::make_shared<scope_report>();
  spawn_scope(
    sys, {.name = "race", .policy = failure_policy::race},
    [&](scope& s) {
      a = *s.spawn(worker, &log, "a");
      b = *s.spawn(worker, &log, "b");
      c = *s.spawn(worker, &log, "c");
      s.join();
    },
    r);
  run();
  caf::anon_send(a, fail_atom::value, e); // a failure does not cancel
  run();
  EXPECT_EQ(log.count_prefix("cancel:b:"), 0u);
  caf::anon_send(b, finish_atom::value);
  run();
  EXPECT_GE(log.index_of("cancel:c:scaf::cancelled(race: race/1 won the race)"),
            0);
  EXPECT_FALSE(r->reason()) << render(r->reason());
  ASSERT_EQ(r->suppressed.size(), 1u);
  EXPECT_EQ(r->suppressed[0], e);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, RaceWithoutAWinnerFailsWithTheFirstError) {
  caf::actor a, b;
  auto e1 = app_error(1, "first");
  auto e2 = app_error(2, "second");
  auto r = std::make_shared<scope_report>();
  spawn_scope(
    sys, {.name = "race", .policy = failure_policy::race},
    [&](scope& s) {
      a = *s.spawn(worker, &log, "a");
      b = *s.spawn(worker, &log, "b");
      s.join();
    },
    r);
  run();
  caf::anon_send(a, fail_atom::value, e1);
  run();
  caf::anon_send(b, fail_atom::value, e2);
  run();
  EXPECT_EQ(r->reason(), e1);
  ASSERT_EQ(r->suppressed.size(), 1u);
  EXPECT_EQ(r->suppressed[0], e2);
}

// -- deadlines ----------------------------------------------------------------

TEST_F(FunctionTaskTest, FailAfterCancelsAndFailsWithTimeout) {
  caf::actor a;
  open([&](scope& s) {
    s.fail_after(50ms);
    a = *s.spawn(worker, &log, "slow");
  });
  run();
  advance(49ms);
  EXPECT_EQ(log.count("~slow"), 0u);
  advance(1ms);
  EXPECT_EQ(render(report->reason()),
            "scaf::timeout(root: deadline of 50 ms passed)");
  EXPECT_GE(log.index_of("cancel:slow:scaf::cancelled(root: "
                         "scaf::timeout(root: deadline of 50 ms passed))"),
            0);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(FunctionTaskTest, MoveOnAfterCancelsButSucceeds) {
  open([&](scope& s) {
    s.move_on_after(50ms);
    s.spawn(worker, &log, "slow");
  });
  run();
  advance(50ms);
  EXPECT_FALSE(report->reason()) << render(report->reason());
  EXPECT_GE(log.index_of("cancel:slow:scaf::cancelled(root: deadline of 50 ms "
                         "passed, moving on)"),
            0);
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- on the real scheduler ----------------------------------------------------

TEST_F(ThreadedTaskTest, CollectReturnsOutputsInSpawnOrderRegardlessOfFinish) {
  auto result = run(sys, [](scope& s) {
    std::vector<handle<int>> hs;
    for (int i = 0; i < 6; ++i)
      hs.push_back(s.spawn_blocking([i](std::stop_token) {
        // Later tasks finish first.
        std::this_thread::sleep_for(std::chrono::milliseconds{(6 - i) * 15});
        return i * i;
      }));
    return collect(hs);
  });
  ASSERT_TRUE(result) << render(result.error());
  EXPECT_EQ(*result, (std::vector<int>{0, 1, 4, 9, 16, 25}));
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedTaskTest, MoveOnAfterReturnsPartialResultsWithStatus) {
  auto result = run(sys, [](scope& s) {
    s.move_on_after(30ms);
    std::vector<handle<int>> hs;
    hs.push_back(s.spawn_fn([] { return 1; }));
    hs.push_back(
      s.spawn_blocking([](std::stop_token stop) -> caf::expected<int> {
        while (!stop.stop_requested())
          std::this_thread::sleep_for(1ms);
        return make_error(errc::cancelled, "", "gave up");
      }));
    return collect_settled(hs);
  });
  ASSERT_TRUE(result) << render(result.error());
  ASSERT_EQ(result->size(), 2u);
  EXPECT_EQ((*result)[0], 1);
  ASSERT_FALSE((*result)[1]);
  EXPECT_TRUE(is((*result)[1].error(), errc::cancelled));
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedTaskTest, HandlesOfFinishedBlockingTasksHoldNoThreads) {
  auto threads = [] {
    auto n = 0;
    for (auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
      (void)entry;
      ++n;
    }
    return n;
  };
  auto before = threads();
  std::vector<handle<int>> kept;
  auto r = run(sys, [&](scope& s) {
    s.set_limit(4);
    for (int i = 0; i < 500; ++i)
      kept.push_back(s.spawn_blocking([i](std::stop_token) { return i; }));
  });
  ASSERT_TRUE(r);
  // Every handle is kept, and resolved; the 500 threads are gone (a
  // detached actor's thread ends once the actor is destroyed).
  EXPECT_EQ(*kept.back().get(), 499);
  auto after = threads();
  for (int i = 0; i < 1000 && after > before + 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
    after = threads();
  }
  EXPECT_LE(after, before + 8) << "threads held by finished blocking tasks";
  EXPECT_FALSE(kept.front().task()); // its actor is gone
}

TEST_F(ThreadedTaskTest, BlockingTaskSeesStopTokenWhenCancelled) {
  std::atomic<bool> saw_stop{false};
  handle<int> h;
  auto result = run(sys, [&](scope& s) {
    h = s.spawn_blocking([&](std::stop_token stop) {
      while (!stop.stop_requested())
        std::this_thread::sleep_for(1ms);
      saw_stop = true;
      return 1;
    });
    s.spawn_fn([]() -> caf::expected<int> { return app_error(5, "boom"); });
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), app_error(5, "boom"));
  EXPECT_TRUE(saw_stop);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedTaskTest, BlockingStragglerIsReportedAndWaitedFor) {
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  scope_report report;
  auto result =
    run(sys,
        [&](scope& s) {
          s.spawn_blocking({.name = "mule"}, [&](std::stop_token) {
            // Ignores its stop token until released, which the scope does
            // on its own clock after the grace period (20 ms) has ended.
            while (!release)
              std::this_thread::sleep_for(1ms);
            finished = true;
            return 0;
          });
          s.cancel("stop");
          s.after(100ms, [&release] { release = true; });
        },
        {.scope = {.name = "root", .grace = 20ms}, .report = &report});
  // run() returned only after the straggler was done.
  EXPECT_TRUE(finished);
  ASSERT_EQ(report.stragglers.size(), 1u);
  EXPECT_EQ(report.stragglers[0], "root/mule");
  EXPECT_TRUE(report.killed.empty());
  // Cancelled, not failed: run returns the body's (void) value.
  EXPECT_TRUE(result) << render(result.error());
  EXPECT_EQ(render(report.reason()), "scaf::cancelled(root: stop)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedTaskTest,
       RunningFunctionTaskPastItsGraceIsAStragglerAndWaitedFor) {
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  scope_report report;
  auto result =
    run(sys,
        [&](scope& s) {
          auto me = caf::actor_cast<caf::actor>(s.self());
          s.spawn_fn({.name = "crunch"}, [&s, &release, &finished, me] {
            // Cancels its own scope once it runs, then computes until the
            // scope releases it, on its own clock after the grace period
            // (20 ms): a running function cannot be stopped.
            caf::anon_send(me, cancel_atom::value, std::string{"stop"});
            caf::anon_send(me, detail::continuation{[&s, &release] {
                             s.after(100ms, [&release] { release = true; });
                           }});
            while (!release)
              std::this_thread::sleep_for(1ms);
            finished = true;
            return 0;
          });
        },
        {.scope = {.name = "root", .grace = 20ms, .record_outcomes = true},
         .report = &report});
  EXPECT_TRUE(finished);
  ASSERT_EQ(report.stragglers.size(), 1u);
  EXPECT_EQ(report.stragglers[0], "root/crunch");
  EXPECT_TRUE(report.killed.empty());
  ASSERT_EQ(report.children.size(), 1u);
  EXPECT_EQ(report.children[0].status, node_status::straggler);
  EXPECT_TRUE(result) << render(result.error());
  EXPECT_EQ(render(report.reason()), "scaf::cancelled(root: stop)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedTaskTest, TaskBaseFunctionSeesItsCancelWhileItRuns) {
  auto boom = app_error(5, "boom");
  std::atomic<bool> polling{false};
  caf::error heard;
  handle<int> plain, cancellable;
  auto result = run(sys, [&](scope& s) {
    // Both poll `is_cancelled()` in their function until the scope cancels
    // them: they never return without it.
    plain = s.spawn_fn({.name = "plain"}, [&](task_base* self) {
      polling = true;
      while (!self->is_cancelled())
        std::this_thread::sleep_for(1ms);
      heard = cancel_cause(self->cancel_reason());
      return 1;
    });
    cancellable = s.spawn_cancellable(-1, [](task_base* self) {
      while (!self->is_cancelled())
        std::this_thread::sleep_for(1ms);
      return 2;
    });
    s.spawn_fn([&polling, boom]() -> caf::expected<int> {
      while (!polling)
        std::this_thread::sleep_for(1ms);
      return boom;
    });
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), boom);
  // The function ran on to its own end and heard why.
  EXPECT_EQ(plain.get(), 1);
  EXPECT_EQ(heard, boom);
  EXPECT_EQ(cancellable.get(), -1);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedTaskTest, TaskBaseFunctionPastItsGraceIsAStragglerNotKilled) {
  std::atomic<bool> release{false};
  scope_report report;
  handle<int> h;
  auto result =
    run(sys,
        [&](scope& s) {
          h = s.spawn_fn({.name = "crunch"}, [&release](task_base*) {
            while (!release) // ignores its cancel until released
              std::this_thread::sleep_for(1ms);
            return 7;
          });
          s.cancel("stop");
          // On the scope's clock, after the grace period (20 ms) ended.
          s.after(100ms, [&release] { release = true; });
        },
        {.scope = {.name = "root", .grace = 20ms}, .report = &report});
  EXPECT_TRUE(result) << render(result.error());
  // The kill waited for the function, which ended on its own.
  EXPECT_EQ(h.get(), 7);
  EXPECT_EQ(report.stragglers, std::vector<std::string>{"root/crunch"});
  EXPECT_TRUE(report.killed.empty());
  EXPECT_EQ(report.status, scope_status::cancelled);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedTaskTest, LimitBoundsConcurrentBlockingTasks) {
  std::atomic<int> now{0}, peak{0}, done{0};
  auto result = run(sys, [&](scope& s) {
    s.set_limit(3);
    for (int i = 0; i < 12; ++i)
      s.spawn_blocking([&](std::stop_token) {
        auto n = ++now;
        auto p = peak.load();
        while (n > p && !peak.compare_exchange_weak(p, n)) {
          // retry
        }
        std::this_thread::sleep_for(3ms);
        --now;
        ++done;
      });
  });
  ASSERT_TRUE(result) << render(result.error());
  EXPECT_EQ(done.load(), 12);
  EXPECT_LE(peak.load(), 3);
  EXPECT_GE(peak.load(), 1);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedTaskTest, NoTasksWaiterNeverMissesAWakeup) {
  auto svc = spawn_scope(sys, {.name = "svc"}, [](scope&) {});
  std::mt19937 rng{7};
  caf::scoped_actor self{sys};
  for (int it = 0; it < 2000; ++it) {
    auto k = static_cast<int>(rng() % 4);
    std::vector<handle<int>> hs;
    for (int i = 0; i < k; ++i) {
      promise<int> done;
      auto req = make_spawn_request({}, [done](task_actor* t) -> caf::behavior {
        if (rng_yield())
          std::this_thread::yield();
        done.resolve(1);
        t->quit();
        return {};
      });
      self->request(svc, caf::infinite, spawn_atom::value, std::move(req))
        .receive([](caf::actor&) {}, [](caf::error&) {});
      hs.push_back(done.get_handle());
    }
    bool answered = false;
    self->request(svc, std::chrono::seconds{10}, no_tasks_atom::value)
      .receive(
        [&](no_tasks_atom) {
          answered = true;
          // No premature wakeup: every task had finished.
          for (auto& h : hs)
            ASSERT_TRUE(h.ready()) << "iteration " << it;
        },
        [&](caf::error& err) {
          FAIL() << "iteration " << it << ": " << render(err);
        });
    ASSERT_TRUE(answered);
  }
  caf::anon_send(svc, cancel_atom::value, "done");
}

TEST_F(ThreadedTaskTest, YieldingLoopIsCancelledByItsScope) {
  std::atomic<int> steps{0};
  auto result = run(sys, [&](scope& s) {
    spawn_yield_loop(s, &steps);
    s.spawn_blocking([&steps](std::stop_token) {
      while (steps.load() < 1000)
        std::this_thread::yield();
      return 0;
    });
    s.fail_after(50ms);
  });
  ASSERT_FALSE(result);
  EXPECT_TRUE(is(result.error(), errc::timeout)) << render(result.error());
  EXPECT_GE(steps.load(), 1000);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedTaskTest, RaceReturnsTheFastestValueAndStopsTheOthers) {
  std::atomic<int> stopped{0};
  auto result = run(
    sys,
    [&](scope& s) {
      std::vector<handle<std::string>> hs;
      for (int i = 0; i < 4; ++i)
        hs.push_back(s.spawn_blocking(
          [i, &stopped](std::stop_token stop) -> caf::expected<std::string> {
            // Mirror i answers after (i + 1) * 40 ms unless stopped.
            for (int t = 0; t < (i + 1) * 40; ++t) {
              if (stop.stop_requested()) {
                ++stopped;
                return make_error(errc::cancelled, "", "lost the race");
              }
              std::this_thread::sleep_for(1ms);
            }
            return "mirror-" + std::to_string(i);
          }));
      return first_success(hs);
    },
    {.scope = {.name = "fetch", .policy = failure_policy::race}});
  ASSERT_TRUE(result) << render(result.error());
  EXPECT_EQ(*result, "mirror-0");
  EXPECT_EQ(stopped.load(), 3);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedTaskTest, TasksBorrowLocalsAtSeveralDepths) {
  int counter = 0; // plain int: every task runs before run() returns
  std::mutex mtx;
  auto bump = [&] {
    std::lock_guard<std::mutex> guard{mtx};
    ++counter;
  };
  auto result = run(sys, [&](scope& s) {
    s.spawn_fn(bump);
    s.spawn_scope({.name = "l1"}, [&](scope& l1) {
      l1.spawn_fn(bump);
      l1.spawn_blocking([&](std::stop_token) { bump(); });
      l1.spawn([&](task_actor* self) -> caf::behavior {
        self->open_scope(
          {.name = "l3"},
          [&](scope& l3) {
            for (int i = 0; i < 3; ++i)
              l3.spawn_fn(bump);
          },
          [self](caf::expected<void> r) {
            self->quit(r ? caf::error{} : r.error());
          });
        bump();
        return {[](finish_atom) {}};
      });
    });
  });
  ASSERT_TRUE(result) << render(result.error());
  EXPECT_EQ(counter, 1 + 2 + 1 + 3);
  EXPECT_EQ(sys.registry().running(), baseline);
}
