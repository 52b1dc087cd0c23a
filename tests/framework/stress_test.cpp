// The guarantees of scaf/scope.hpp again, on CAF's real threaded scheduler
// (scaf's work-stealing policy), with randomized trees. Suites are named
// Stress* so they can be filtered.
#include "scaf/run.hpp"

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "../common/fixture.hpp"
#include "../common/tasks.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

namespace {

using StressTest = threaded_test;

/// Shared by every node of one random tree.
struct tree_probe {
  std::atomic<int> started{0};
  std::atomic<int> destroyed{0};
  std::atomic<int> failures{0};
  std::atomic<bool> root_child_failed{false};
  event_log destroyed_paths;
};

/// A node's state: counts itself and logs its path when destroyed.
struct probed {
  probed() = default;
  ~probed() {
    if (probe != nullptr) {
      probe->destroyed_paths.add(path);
      ++probe->destroyed;
    }
  }
  tree_probe* probe = nullptr;
  std::string path;
};

using probed_task = stateful_task<probed>;

enum class node_kind {
  succeed,
  fail,
  raise,
  inner,
  cooperative,
  bare,
  stubborn,
  job,         // a function task run as a job
  failing_job, // a job returning an error
};

constexpr uint64_t node_kinds = 9;
constexpr uint64_t kind_bits = 15; // the seed's low bits carry the kind

caf::behavior random_node(probed_task* self, tree_probe* probe, int depth,
                          uint64_t seed);

/// Spawns 0-4 random children into `s`; waiting kinds go to the background,
/// so the scope always finishes once its main work is done.
void spawn_random_children(scope& s, tree_probe* probe, int depth,
                           std::mt19937_64& rng, bool is_root) {
  std::uniform_int_distribution<int> fan_out{is_root ? 1 : 0, 4};
  auto n = fan_out(rng);
  for (int i = 0; i < n; ++i) {
    auto seed = rng();
    auto kind = static_cast<node_kind>(seed % node_kinds);
    if (depth == 0 && kind == node_kind::inner)
      kind = node_kind::succeed;
    auto background = kind == node_kind::cooperative ||
                      kind == node_kind::bare || kind == node_kind::stubborn;
    auto fails = kind == node_kind::fail || kind == node_kind::raise ||
                 kind == node_kind::failing_job;
    if (is_root && fails)
      probe->root_child_failed = true;
    if (fails)
      ++probe->failures;
    if (kind == node_kind::job || kind == node_kind::failing_job) {
      // What the function captures stands for its state: counted when
      // created, logged with its path when the job destroys it.
      auto name = "j" + std::to_string(i);
      auto token = std::make_shared<probed>();
      token->probe = probe;
      token->path = s.path() + "/" + name;
      ++probe->started;
      auto code = static_cast<uint8_t>(1 + seed % 200);
      s.spawn_fn(
        {.name = name},
        [token = std::move(token), code,
         fail = kind == node_kind::failing_job]() -> caf::expected<int> {
          if (fail)
            return app_error(code, token->path);
          return 1;
        });
      continue;
    }
    auto opts = spawn_options{{}, background};
    if (!s.spawn(opts, random_node, probe, depth,
                 (seed & ~kind_bits) | static_cast<uint64_t>(kind)))
      ADD_FAILURE() << "spawn into an open scope failed";
  }
}

caf::behavior random_node(probed_task* self, tree_probe* probe, int depth,
                          uint64_t seed) {
  self->state.probe = probe;
  self->state.path = self->path();
  ++probe->started;
  switch (static_cast<node_kind>(seed & kind_bits)) {
  case node_kind::succeed:
    self->quit();
    return {};
  case node_kind::fail:
    self->quit(app_error(static_cast<uint8_t>(1 + seed % 200), self->path()));
    return {};
  case node_kind::raise:
    throw std::runtime_error("raised by " + self->path());
  case node_kind::inner:
    self->open_scope(
      {.name = "sub"},
      [=](scope& s) {
        std::mt19937_64 rng{seed};
        spawn_random_children(s, probe, depth - 1, rng, false);
      },
      [=](caf::expected<void> result) {
        self->quit(result ? caf::error{} : result.error());
      });
    return {[](finish_atom) {}};
  case node_kind::cooperative:
    self->on_cancel([self](const caf::error& why) { self->quit(why); });
    return {[](finish_atom) {}};
  case node_kind::bare:
    return {[](finish_atom) {}};
  case node_kind::stubborn:
    self->on_cancel([](const caf::error&) {}); // runs on: killed at grace end
    return {[](finish_atom) {}};
  case node_kind::job:
  case node_kind::failing_job:
    break; // spawned as function tasks, never as actors
  }
  return {};
}

} // namespace

TEST_F(StressTest, RandomTreesLeaveNoOrphansAndKeepDoneOrder) {
  std::mt19937_64 rng{20261122};
  constexpr int iterations = 120;
  for (int it = 0; it < iterations; ++it) {
    tree_probe probe;
    scope_report report;
    auto tree_seed = rng();
    auto result =
      run(sys,
          [&](scope& s) {
            std::mt19937_64 local{tree_seed};
            spawn_random_children(s, &probe, 3, local, true);
          },
          {.scope = {.name = "root", .grace = 20ms}, .report = &report});
    // No orphans: everything is gone the moment run() returns.
    ASSERT_EQ(sys.registry().running(), baseline) << "iteration " << it;
    ASSERT_EQ(probe.started.load(), probe.destroyed.load())
      << "iteration " << it;
    // Order: a node's state is destroyed after all of its descendants'.
    auto order = probe.destroyed_paths.events();
    for (size_t i = 0; i < order.size(); ++i)
      for (size_t j = i + 1; j < order.size(); ++j)
        ASSERT_NE(order[j].rfind(order[i] + "/", 0), 0u)
          << order[j] << " destroyed after its ancestor " << order[i];
    // Nothing lost: injected failures surface; none means success.
    if (probe.failures == 0) {
      ASSERT_TRUE(result) << render(result.error());
    }
    if (probe.root_child_failed) {
      ASSERT_FALSE(result) << "iteration " << it;
    }
    if (!result) {
      auto code = result.error().category();
      ASSERT_TRUE(code == caf::atom("app") ||
                  is(result.error(), errc::task_exception))
        << render(result.error());
    }
  }
}

TEST_F(StressTest, RunReturnsRootValueAfterAllTasksAndBorrowsLocals) {
  for (int it = 0; it < 50; ++it) {
    std::atomic<int> counter{0};
    auto result = run(sys, [&](scope& s) {
      for (int i = 0; i < 8; ++i)
        s.spawn([&](task_actor* self) -> caf::behavior {
          ++counter;
          self->open_scope(
            {.name = "inner"},
            [&](scope& inner) {
              for (int j = 0; j < 4; ++j)
                inner.spawn([&](task_actor* leaf) -> caf::behavior {
                  ++counter;
                  leaf->quit();
                  return {};
                });
            },
            [self](caf::expected<void> r) {
              self->quit(r ? caf::error{} : r.error());
            });
          return {[](finish_atom) {}};
        });
      return 42;
    });
    ASSERT_TRUE(result) << render(result.error());
    EXPECT_EQ(*result, 42);
    // Borrowing is safe: every task ran and finished before run() returned.
    EXPECT_EQ(counter.load(), 8 + 8 * 4);
    EXPECT_EQ(sys.registry().running(), baseline);
  }
}

TEST_F(StressTest, RunReturnsFirstErrorAndSuppressesTheRest) {
  for (int it = 0; it < 50; ++it) {
    scope_report report;
    auto result = run(sys,
                      [&](scope& s) {
                        s.spawn([](task_actor* self) -> caf::behavior {
                          self->quit(app_error(1, "first"));
                          return {};
                        });
                        // Fails only once cancelled, so its error always comes
                        // second.
                        s.spawn([](task_actor* self) -> caf::behavior {
                          self->on_cancel([self](const caf::error&) {
                            self->quit(app_error(2, "second"));
                          });
                          return {[](finish_atom) {}};
                        });
                        return 1;
                      },
                      {.report = &report});
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error(), app_error(1, "first"));
    ASSERT_EQ(report.suppressed.size(), 1u);
    EXPECT_EQ(report.suppressed[0], app_error(2, "second"));
    EXPECT_EQ(sys.registry().running(), baseline);
  }
}

TEST_F(StressTest,
       CancelByOneMessageFromOutsideAndMonitorSeesWholeSubtreeGone) {
  for (int it = 0; it < 30; ++it) {
    std::atomic<int> alive{0};
    struct counted {
      counted() = default;
      ~counted() {
        if (alive != nullptr)
          --*alive;
      }
      std::atomic<int>* alive = nullptr;
    };
    auto waiting = [&alive](stateful_task<counted>* self) -> caf::behavior {
      self->state.alive = &alive;
      ++alive;
      return {[](finish_atom) {}};
    };
    auto report = std::make_shared<scope_report>();
    auto server = spawn_scope(
      sys, {.name = "server", .grace = 1s},
      [&](scope& s) {
        for (int i = 0; i < 10; ++i)
          s.spawn_bg(waiting);
        s.spawn_scope({.name = "pool"}, [&](scope& pool) {
          for (int i = 0; i < 10; ++i)
            pool.spawn(waiting);
        });
      },
      report);
    {
      caf::scoped_actor client{sys};
      client->monitor(server);
      // Wait until the tree is up, then cancel with one message.
      while (alive.load() < 20)
        std::this_thread::yield();
      caf::anon_send(server, cancel_atom::value, "shutting down");
      client->receive([&](caf::down_msg& msg) {
        EXPECT_EQ(msg.source, server.address());
        EXPECT_EQ(render(msg.reason), "scaf::cancelled(server: shutting down)");
        // The monitor fired only after every descendant had terminated.
        EXPECT_EQ(alive.load(), 0);
      });
    }
    server = nullptr;
    EXPECT_EQ(render(report->reason()),
              "scaf::cancelled(server: shutting down)");
    EXPECT_EQ(sys.registry().running(), baseline);
  }
}

TEST_F(StressTest, HundredThousandChildrenSpawnAndCancel) {
  // Guards the scheduler remedy (scaf/scheduler.hpp): a burst of 100k
  // runnable actors must complete; the timing itself is in bench/.
  constexpr int n = 100'000;
  std::atomic<int> started{0};
  scope_report report;
  auto result =
    run(sys,
        [&](scope& s) {
          for (int i = 0; i < n; ++i)
            s.spawn([&started](task_actor*) -> caf::behavior {
              ++started;
              return {[](finish_atom) {}};
            });
          s.cancel("burst done");
        },
        // Idle tasks without a handler quit at once; a long grace keeps slow
        // sanitizer builds from killing them while the burst is still queued.
        {.scope = {.name = "root", .grace = std::chrono::hours{1}},
         .report = &report});
  // Cancelled, not failed: run returns the body's (void) value.
  ASSERT_TRUE(result) << render(result.error());
  EXPECT_EQ(report.status, scope_status::cancelled);
  EXPECT_EQ(render(report.cancel_reason), "scaf::cancelled(root: burst done)");
  EXPECT_TRUE(report.killed.empty());
  EXPECT_EQ(started.load(), n);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(StressTest, ClockStillCancelsTheTimeoutsOfActorsThatSetThem) {
  // scaf's clock (scaf/scheduler.hpp) skips the timeout cancel of actors that
  // never set a timeout. An actor that did must still have its timeouts
  // cancelled when it quits: CAF's clock holds a strong reference per pending
  // timeout, so a lost cancel would keep the dead actor in memory for an hour.
  auto sink = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    // Never answers: a request to it stays pending.
    return {
      [](fail_atom) -> caf::result<void> { return caf::delegated<void>{}; }};
  });
  std::vector<caf::actor_addr> gone;
  caf::scoped_actor self{sys};
  for (int kind = 0; kind < 3; ++kind) {
    auto hdl =
      sys.spawn([kind, sink](caf::event_based_actor* a) -> caf::behavior {
        if (kind == 1) // a pending request timeout
          a->request(sink, std::chrono::seconds{3600}, fail_atom::value)
            .then([] {}, [](caf::error&) {});
        if (kind == 2) // a receive timeout
          return {[a](finish_atom) { a->quit(); },
                  caf::after(std::chrono::seconds{3600}) >> [] {}};
        return {[a](finish_atom) { a->quit(); }};
      });
    gone.push_back(hdl.address());
    self->monitor(hdl);
    self->send(hdl, finish_atom::value);
    self->receive([](caf::down_msg&) {});
  }
  // The clock thread processes cancels asynchronously: wait for it.
  for (size_t i = 0; i < gone.size(); ++i) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    while (caf::actor_cast<caf::strong_actor_ptr>(gone[i]) &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(1ms);
    EXPECT_FALSE(caf::actor_cast<caf::strong_actor_ptr>(gone[i]))
      << "actor of kind " << i << " is still referenced after it quit";
  }
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}

// -- the protocol's edges, on the real scheduler ------------------------------

namespace {

/// A task that ignores its cancel: it is killed after the grace period.
caf::behavior stubborn_task(task_actor* self, std::atomic<int>* started) {
  ++*started;
  self->on_cancel([](const caf::error&) {}); // runs on: killed at grace end
  return {[](finish_atom) {}};
}

/// Waits until `pred` holds, at most 30 s; false if it never did.
template <class Pred>
bool eventually(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

void await_down(caf::actor_system& sys, const caf::actor& hdl) {
  caf::scoped_actor self{sys};
  self->monitor(hdl);
  self->receive([](caf::down_msg&) {});
}

} // namespace

TEST_F(StressTest, RunReturnsTheValueOfACancelledScope) {
  scope_report report;
  auto idle = [](task_actor*) -> caf::behavior { return {[](finish_atom) {}}; };
  // Cancelled by its own deadline: it moved on and succeeded.
  auto moved_on = run(sys, [&](scope& s) {
    s.spawn(idle);
    s.move_on_after(10ms);
    return 7;
  });
  ASSERT_TRUE(moved_on) << render(moved_on.error());
  EXPECT_EQ(*moved_on, 7);
  // Cancelled outright: still the value, and the report says cancelled.
  auto cancelled = run(sys,
                       [&](scope& s) {
                         s.spawn(idle);
                         s.spawn_scope({.name = "inner"}, [&](scope& in) {
                           in.spawn(idle);
                           in.cancel("inner gives up");
                         });
                         s.cancel("enough");
                         return 8;
                       },
                       {.report = &report});
  ASSERT_TRUE(cancelled) << render(cancelled.error());
  EXPECT_EQ(*cancelled, 8);
  EXPECT_EQ(report.status, scope_status::cancelled);
  EXPECT_EQ(render(report.cancel_reason), "scaf::cancelled(root: enough)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(StressTest,
       BlockingTaskSpawnedIntoACancelledScopeRunsWithStopRequested) {
  std::atomic<bool> stop_seen{false};
  auto result = run(sys, [&](scope& s) {
    s.cancel("shutting down");
    return s.spawn_blocking([&](std::stop_token stop) {
      stop_seen = stop.stop_requested(); // from its first line
      return 3;
    });
  });
  ASSERT_TRUE(result) << render(result.error());
  ASSERT_TRUE(result->ready());
  EXPECT_EQ(result->get(), 3);
  EXPECT_TRUE(stop_seen);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(StressTest, KilledScopeStopsEveryChildAndResolvesEveryHandle) {
  std::atomic<int> up{0};
  std::atomic<bool> stop_seen{false};
  handle<int> blocking, queued, never_ready;
  auto report = std::make_shared<scope_report>();
  auto svc = spawn_scope(
    sys, {.name = "svc", .grace = std::chrono::hours{1}},
    [&](scope& s) {
      s.set_limit(1);
      blocking = s.spawn_blocking([&](std::stop_token stop) {
        ++up;
        while (!stop.stop_requested())
          std::this_thread::sleep_for(1ms);
        stop_seen = true;
        return 1;
      });
      queued = s.spawn_fn([] { return 2; }); // waits for the only slot
      never_ready =
        s.start<int>({.name = "server"},
                     [&](task_actor*, ready_signal<int>) -> caf::behavior {
                       ++up;
                       return {[](finish_atom) {}};
                     });
      s.spawn_scope({.name = "inner"}, [&](scope& in) {
        in.spawn([&](task_actor*) -> caf::behavior {
          ++up;
          return {[](finish_atom) {}};
        });
      });
    },
    report);
  ASSERT_TRUE(eventually([&] { return up.load() == 3; }));
  caf::anon_send_exit(svc, caf::exit_reason::kill);
  await_down(sys, svc);
  // CAF cannot make a killed actor wait for its children; scaf stops them
  // all and resolves every handle.
  for (auto h : {&blocking, &queued, &never_ready})
    ASSERT_TRUE(h->wait_for(std::chrono::seconds{30}));
  EXPECT_TRUE(stop_seen);
  EXPECT_EQ(blocking.get(), 1);
  EXPECT_TRUE(is(queued.get().error(), errc::cancelled))
    << render(queued.get().error());
  EXPECT_TRUE(is(never_ready.get().error(), errc::cancelled))
    << render(never_ready.get().error());
  // Its report says it failed, and why.
  EXPECT_EQ(report->status, scope_status::failed);
  EXPECT_EQ(report->failure, caf::make_error(caf::exit_reason::kill));
  EXPECT_TRUE(eventually([&] { return sys.registry().running() == baseline; }))
    << sys.registry().running() - baseline << " actors left";
}

TEST_F(StressTest, ChainOfTenThousandNestedScopesKeepsItsReportLinear) {
  constexpr int depth = 10'000;
  std::atomic<bool> leaf_up{false};
  auto report = std::make_shared<scope_report>();
  std::function<void(scope&, int)> nest = [&](scope& s, int left) {
    if (left == 0) {
      s.spawn({.name = "leaf"}, [&leaf_up](task_actor*) -> caf::behavior {
        leaf_up = true;
        return {[](finish_atom) {}};
      });
      return;
    }
    s.spawn_scope({.name = "n"},
                  [&nest, left](scope& c) { nest(c, left - 1); });
  };
  auto root = spawn_scope(
    sys, {.name = "root", .record_outcomes = true},
    [&](scope& s) { nest(s, depth); }, report);
  ASSERT_TRUE(eventually([&] { return leaf_up.load(); }));
  caf::anon_send(root, cancel_atom::value, "enough");
  await_down(sys, root);
  EXPECT_EQ(report->status, scope_status::cancelled);
  // One outcome per node, each holding its name only: linear in the depth
  // (full paths would hold depth^2 / 2 elements).
  size_t nodes = 0;
  size_t chars = 0;
  for (auto level = &report->children; !level->empty();
       level = &level->front().children) {
    ASSERT_EQ(level->size(), 1u);
    ++nodes;
    chars += level->front().name.size();
  }
  EXPECT_EQ(nodes, static_cast<size_t>(depth) + 1);
  EXPECT_EQ(chars, static_cast<size_t>(depth) + 4); // "n" each, then "leaf"
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(StressTest, CancelStormWhileAnotherActorSpawnsReachesDone) {
  constexpr int cancels = 100'000;
  constexpr int spawns = 2'000;
  std::atomic<int> started{0};
  auto report = std::make_shared<scope_report>();
  // A first stubborn child keeps the scope alive through the storm.
  auto svc = spawn_scope(
    sys, {.name = "svc", .grace = 300ms},
    [&started](scope& s) { s.spawn(stubborn_task, &started); }, report);
  caf::scoped_actor watcher{sys};
  watcher->monitor(svc);
  std::thread spawner{[&] {
    for (int i = 0; i < spawns; ++i)
      caf::anon_send(svc, spawn_atom::value,
                     make_spawn_request({}, stubborn_task, &started));
  }};
  for (int i = 0; i < cancels; ++i)
    caf::anon_send(svc, cancel_atom::value, "storm");
  spawner.join();
  watcher->receive([](caf::down_msg&) {});
  EXPECT_EQ(report->status, scope_status::cancelled);
  // Every child that started ignored its cancel and was killed once; most
  // were spawned into the cancelled scope. The report lists the latest
  // `record_limit` of them and counts the rest.
  EXPECT_GT(started.load(), 1);
  EXPECT_LE(report->killed.size(), scope_options{}.record_limit);
  EXPECT_EQ(report->killed.size() + report->omitted.killed,
            static_cast<size_t>(started.load()));
  EXPECT_EQ(
    std::set<std::string>(report->killed.begin(), report->killed.end()).size(),
    report->killed.size());
  EXPECT_EQ(sys.registry().running(), baseline + 1); // + watcher
}
