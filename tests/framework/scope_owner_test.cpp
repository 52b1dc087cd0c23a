// Tests of scaf/scope_owner.hpp: child scopes that live until joined, owned
// by a move-only owner, to any depth; deterministic where order matters,
// then from plain threads.
#include "scaf/scope_owner.hpp"

#include <atomic>
#include <thread>

#include "../common/fixture.hpp"
#include "../common/tasks.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

namespace {

using ScopeOwnerTest = leak_checked_deterministic_test;
using ThreadedScopeOwnerTest = leak_checked_threaded_test;

} // namespace

TEST_F(ScopeOwnerTest, ChildScopesStayOpenUntilJoinedAndFinishChildFirst) {
  auto root = make_scope(sys, {"root"});
  auto child = root.ref().open_child({"child"});
  auto grand = child.ref().open_child({"grand"});
  auto a = root.ref().spawn(worker, &log, std::string{"a"});
  auto b = child.ref().spawn(worker, &log, std::string{"b"});
  auto c = grand.ref().spawn(worker, &log, std::string{"c"});
  run();
  EXPECT_EQ(child.ref().path(), "root/child");
  EXPECT_EQ(grand.ref().path(), "root/child/grand");
  auto observer = observe({{root.ref().actor(), "root"},
                           {child.ref().actor(), "child"},
                           {grand.ref().actor(), "grand"}});
  EXPECT_EQ(root.ref().children().scopes, 1u);
  // Joined parent-first: the root waits for its child scope.
  root.join();
  caf::anon_send(a.task(), finish_atom::value);
  run();
  EXPECT_FALSE(root.done().ready());
  child.join();
  caf::anon_send(b.task(), finish_atom::value);
  run();
  EXPECT_FALSE(child.done().ready());
  // A joined scope still accepts tasks until it finishes.
  auto d = grand.ref().spawn_fn([] { return 4; });
  grand.join();
  caf::anon_send(c.task(), finish_atom::value);
  run();
  EXPECT_EQ(d.get(), 4);
  ASSERT_TRUE(root.done().ready());
  EXPECT_EQ(log.events().back(), "down:root");
  EXPECT_LT(log.index_of("down:grand"), log.index_of("down:child"));
  EXPECT_LT(log.index_of("down:child"), log.index_of("down:root"));
  EXPECT_EQ(grand.done().get()->status, scope_status::succeeded);
  EXPECT_EQ(root.done().get()->status, scope_status::succeeded);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeOwnerTest, ParentCancelReachesEveryChildScopeAndTheirTasks) {
  auto root = make_scope(sys, {"root"});
  auto child = root.ref().open_child({"child"});
  auto grand = child.ref().open_child({"grand"});
  grand.ref().spawn(worker, &log, std::string{"c"});
  child.ref().spawn(worker, &log, std::string{"b"});
  run();
  root.cancel("shutting down");
  run();
  EXPECT_EQ(log.count_prefix("cancel:b:"), 1u);
  EXPECT_EQ(log.count_prefix("cancel:c:"), 1u);
  ASSERT_TRUE(root.done().ready());
  EXPECT_EQ(root.done().get()->status, scope_status::cancelled);
  EXPECT_EQ(child.done().get()->status, scope_status::cancelled);
  EXPECT_EQ(grand.done().get()->status, scope_status::cancelled);
  EXPECT_TRUE(grand.ref().is_cancelled());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeOwnerTest, ChildFailureReachesItsJoinWithSuppressedErrors) {
  auto isolated = scope_options{};
  isolated.policy = failure_policy::isolate;
  isolated.name = "root";
  auto root = make_scope(sys, isolated);
  isolated.name = "child";
  auto child = root.ref().open_child(isolated);
  auto x = child.ref().spawn(worker, &log, std::string{"x"});
  auto y = child.ref().spawn_fn(
    [] { return caf::expected<int>{app_error(2, "first")}; });
  run();
  caf::anon_send(x.task(), fail_atom::value, app_error(1, "second"));
  run();
  auto joined = child.join();
  run();
  ASSERT_TRUE(joined.ready());
  auto report = *joined.get();
  EXPECT_EQ(report.status, scope_status::failed);
  EXPECT_EQ(report.failure, app_error(2, "first"));
  EXPECT_EQ(report.suppressed, std::vector<caf::error>{app_error(1, "second")});
  EXPECT_TRUE(is(y.get().error(), errc::cancelled));
  // The parent fails with the child's failure, and cancels nobody for it.
  EXPECT_FALSE(root.ref().is_cancelled());
  auto root_report = root.join();
  run();
  EXPECT_EQ(root_report.get()->status, scope_status::failed);
  EXPECT_EQ(root_report.get()->failure, app_error(2, "first"));
}

TEST_F(ScopeOwnerTest, AbortingAChildScopeKillsItsTasksAndSparesItsParent) {
  auto root = make_scope(sys, {"root", 10s});
  auto child = root.ref().open_child({"child"});
  child.ref().spawn(worker_with, &log, std::string{"stubborn"},
                    on_cancel_mode::stubborn, caf::error{});
  auto sibling = root.ref().spawn(worker, &log, std::string{"sibling"});
  run();
  child.abort();
  run();
  ASSERT_TRUE(child.done().ready());
  auto report = *child.done().get();
  EXPECT_EQ(report.status, scope_status::cancelled);
  EXPECT_EQ(report.killed, std::vector<std::string>{"root/child/0"});
  EXPECT_EQ(log.count_prefix("cancel:stubborn:"), 0u); // no handler ran
  EXPECT_FALSE(root.ref().is_cancelled());
  EXPECT_FALSE(sibling.ready());
  caf::anon_send(sibling.task(), finish_atom::value);
  root.join();
  run();
  EXPECT_EQ(root.done().get()->status, scope_status::succeeded);
}

TEST_F(ScopeOwnerTest, ClosingAScopeClosesItsChildScopes) {
  auto root = make_scope(sys, {"root"});
  auto child = root.ref().open_child({"child"});
  run();
  root.close();
  run();
  EXPECT_TRUE(child.ref().is_closed());
  auto late = child.ref().spawn_fn([] { return 1; });
  run();
  EXPECT_TRUE(is(late.get().error(), errc::scope_closed));
  ASSERT_TRUE(root.done().ready());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeOwnerTest, DetachedChildScopeStaysInItsParentsTree) {
  auto root = make_scope(sys, {"root"});
  auto r = root.ref();
  scope_ref kept;
  {
    auto child = r.open_child({"child"});
    kept = child.ref();
    child.ref().spawn(worker, &log, std::string{"b"});
    child.detach();
  } // no cancel: detached
  run();
  EXPECT_FALSE(kept.is_cancelled());
  EXPECT_FALSE(kept.is_finished());
  root.join();
  run();
  EXPECT_FALSE(root.done().ready()); // waits for the detached child
  root.cancel("bye");
  run();
  EXPECT_EQ(log.count_prefix("cancel:b:"), 1u);
  EXPECT_TRUE(kept.is_finished());
  EXPECT_TRUE(root.done().ready());
}

TEST_F(ScopeOwnerTest, OpenChildFromTheScopeBodyAndFromATask) {
  scope_owner from_body;
  auto root = make_scope(sys, {"root"});
  auto r = root.ref();
  // From a task of the scope: the task holds the reference.
  std::optional<scope_owner> from_task;
  r.spawn(
    [&from_task](task_actor* self, scope_ref parent) -> caf::behavior {
      from_task.emplace(parent.open_child({"by_task"}));
      self->quit();
      return {};
    },
    r);
  run();
  ASSERT_TRUE(from_task);
  EXPECT_EQ(from_task->ref().path(), "root/by_task");
  auto svc = spawn_scope(
    sys, {"svc"}, [&](scope& s) { from_body = s.open_child({"by_body"}); });
  run();
  EXPECT_EQ(from_body.ref().path(), "svc/by_body");
  from_task->join();
  from_body.join();
  root.join();
  caf::anon_send(svc, join_atom::value);
  run();
  EXPECT_TRUE(root.done().ready());
  EXPECT_TRUE(from_body.done().ready());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedScopeOwnerTest, DestroyingAnOwnerCancelsAndAwaitsItsSubtree) {
  auto root = make_scope(sys, {"root"});
  std::atomic<bool> stopped{false};
  handle<int> blocker;
  scope_ref child_ref;
  {
    auto child = root.ref().open_child({"child"});
    child_ref = child.ref();
    auto grand = child.ref().open_child({"grand"});
    blocker = grand.ref().spawn_blocking([&](std::stop_token stop) {
      while (!stop.stop_requested())
        std::this_thread::sleep_for(1ms);
      std::this_thread::sleep_for(20ms);
      stopped = true;
      return 1;
    });
    grand.detach(); // its parent (child) still owns it through the tree
  } // ~scope_owner: cancels "child", waits for its whole subtree
  EXPECT_TRUE(stopped);
  EXPECT_TRUE(blocker.ready());
  EXPECT_TRUE(child_ref.is_finished());
  EXPECT_EQ(child_ref.done().wait()->status, scope_status::cancelled);
  EXPECT_FALSE(root.ref().is_cancelled());
  auto report = root.join().wait();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, scope_status::succeeded);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedScopeOwnerTest, ManyThreadsOpenChildScopesAndJoinThem) {
  auto root = make_scope(sys, {"root"});
  auto r = root.ref();
  std::atomic<int> values{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([r, &values] {
      for (int j = 0; j < 25; ++j) {
        auto child = r.open_child();
        auto grand = child.ref().open_child();
        auto h1 = child.ref().spawn_fn([] { return 1; });
        auto h2 = grand.ref().spawn_blocking([](std::stop_token) { return 2; });
        // A task of the grandchild spawns into the child, through a
        // reference it was handed (a blocking task may wait).
        auto h3 =
          grand.ref().spawn_blocking([cr = child.ref()](std::stop_token) {
            return *cr.spawn_fn([] { return 4; }).wait();
          });
        if (j % 2 == 0) {
          grand.join().wait(); // child-first
          child.join().wait();
        } else {
          child.join(); // parent-first: it waits for grand
          grand.join();
          child.done().wait();
        }
        values += *h1.wait() + *h2.wait() + *h3.wait();
      }
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(values, 4 * 25 * 7);
  auto report = root.join().wait();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, scope_status::succeeded);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedScopeOwnerTest,
       OwnerDestroyedInsideAnActorCancelsWithoutWaiting) {
  auto root = make_scope(sys, {"root"});
  auto r = root.ref();
  auto done = r.spawn_fn([r] {
    auto child = r.open_child({"short"});
    auto blocker = child.ref().spawn_blocking([](std::stop_token stop) {
      while (!stop.stop_requested())
        std::this_thread::sleep_for(1ms);
    });
    return child.ref();
  }); // the owner went out of scope on a scheduler thread
  auto child = done.wait();
  ASSERT_TRUE(child);
  auto report = child->done().wait();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, scope_status::cancelled);
  root.join().wait();
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- a child scope opened into a cancelled scope ------------------------------

TEST_F(ScopeOwnerTest, ChildOpenedInACancelledParentStaysOpenForItsOwner) {
  auto root = cancelled_scope("root", 10s);
  auto child = root.ref().open_child({.name = "cleanup"});
  run();
  // Born cancelled, yet usable while its owner holds it: whatever the
  // delay, spawns through it run as cleanup work, starting cancelled.
  advance(1s);
  EXPECT_FALSE(child.done().ready());
  auto a = child.ref().spawn(worker, &log, std::string{"a"});
  auto f = child.ref().spawn_fn([] { return 7; });
  run();
  EXPECT_EQ(log.count("start:a"), 1u);
  EXPECT_EQ(log.count_prefix("cancel:a:"), 1u);
  EXPECT_EQ(f.get(), 7);
  EXPECT_FALSE(child.done().ready());
  child.join(); // the owner lets go
  run();
  ASSERT_TRUE(child.done().ready());
  EXPECT_EQ(child.done().get()->status, scope_status::cancelled);
  // The parent's grace period still bounds it: the stubborn task is killed.
  advance(10s);
  ASSERT_TRUE(root.done().ready());
  EXPECT_EQ(root.done().get()->killed, std::vector<std::string>{"root/0"});
}

TEST_F(ScopeOwnerTest, ChildHeldForItsOwnerIsStillForcedByItsParent) {
  auto root = cancelled_scope("root", 1s);
  auto child = root.ref().open_child({.name = "cleanup"});
  run();
  EXPECT_FALSE(child.done().ready());
  advance(1s); // the root's grace period ends: it aborts what is left
  ASSERT_TRUE(child.done().ready());
  EXPECT_TRUE(root.done().ready());
  auto late = child.ref().spawn_fn([] { return 1; });
  EXPECT_TRUE(is(late.wait().error(), errc::scope_closed));
}

TEST_F(ThreadedScopeOwnerTest,
       ChildOpenedInACancelledParentIsUsableWhateverTheDelay) {
  // The sweep of the issue: open a child scope through a reference of a
  // cancelled parent, wait, then spawn through its owner.
  for (auto delay : {0us, 10us, 1000us, 100000us}) {
    SCOPED_TRACE(std::to_string(delay.count()) + " us");
    for (int i = 0; i < 50; ++i) {
      auto root = make_scope(sys, {.name = "root", .grace = 30s});
      std::atomic<bool> release{false};
      auto keeper = root.ref().spawn_blocking([&](std::stop_token) {
        while (!release)
          std::this_thread::sleep_for(100us);
      });
      root.cancel("shutting down");
      while (!root.ref().is_cancelled())
        std::this_thread::sleep_for(10us);
      auto child = root.ref().open_child({.name = "cleanup"});
      if (delay.count() > 0)
        std::this_thread::sleep_for(delay);
      auto h = child.ref().spawn_fn([] { return 1; });
      ASSERT_EQ(h.wait(), 1);
      auto report = child.join().wait();
      ASSERT_TRUE(report);
      EXPECT_EQ(report->status, scope_status::cancelled);
      release = true;
      root.done().wait();
    }
  }
}
