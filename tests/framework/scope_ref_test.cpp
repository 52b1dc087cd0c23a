// Tests of scaf/scope_ref.hpp and of the per-task control of
// scaf/handle.hpp: a scope held from outside its actor, deterministic first,
// then from plain threads and other actors on the real scheduler.
#include "scaf/scope_ref.hpp"

#include <atomic>
#include <future>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include "../common/fixture.hpp"
#include "../common/tasks.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

namespace {

using ScopeRefTest = leak_checked_deterministic_test;
using ThreadedScopeRefTest = leak_checked_threaded_test;

/// A task that waits for `finish_atom` and ignores its cancel until the
/// grace period ends (it defers quitting forever).
caf::behavior stubborn(traced_task* self, event_log* log, std::string name) {
  return worker_with(self, log, std::move(name), on_cancel_mode::stubborn,
                     caf::error{});
}

} // namespace

// -- deterministic: calls, handles, refusals ---------------------------------

TEST_F(ScopeRefTest, ThreadSpawnsBehaviorAndFunctionTasksAndGetsTheirHandles) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  auto hb = ref.spawn(worker, &log, std::string{"b"});
  auto hf = ref.spawn_fn([] { return 6 * 7; });
  auto hc = ref.spawn_cancellable(-1, [] { return 5; });
  run();
  EXPECT_EQ(ref.path(), "svc");
  ASSERT_TRUE(hf.ready());
  EXPECT_EQ(hf.get(), 42);
  EXPECT_EQ(hc.get(), 5);
  ASSERT_TRUE(hb.task());
  EXPECT_FALSE(hb.ready());
  EXPECT_EQ(ref.children().behaviors, 1u);
  EXPECT_EQ(ref.children().functions, 0u);
  caf::anon_send(hb.task(), finish_atom::value);
  run();
  ASSERT_TRUE(hb.ready());
  EXPECT_TRUE(hb.get());
  EXPECT_EQ(ref.children().alive(), 0u);
  auto done = owner.join();
  run();
  ASSERT_TRUE(done.ready());
  EXPECT_EQ(done.get()->status, scope_status::succeeded);
  EXPECT_TRUE(ref.is_finished());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeRefTest, SpawnsThroughAReferenceToAGoneScopeAreRefused) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  run();
  caf::actor held = ref.actor(); // keeps the actor object, not the scope
  ASSERT_TRUE(held);
  owner.join();
  run();
  ASSERT_TRUE(ref.is_finished());
  EXPECT_FALSE(ref.actor());
  EXPECT_TRUE(is(ref.set_limit(2), errc::scope_closed));
  EXPECT_TRUE(is(ref.set_grace(1s), errc::scope_closed));
  auto ran = 0;
  auto hf = ref.spawn_fn([&] { return ++ran; });
  auto hb = ref.spawn(worker, &log, std::string{"late"});
  auto child = ref.open_child({"late"});
  run();
  ASSERT_TRUE(hf.ready());
  EXPECT_TRUE(is(hf.get().error(), errc::scope_closed))
    << render(hf.get().error());
  ASSERT_TRUE(hb.ready());
  EXPECT_TRUE(is(hb.get().error(), errc::scope_closed));
  ASSERT_TRUE(child.done().ready());
  EXPECT_TRUE(is(child.done().get().error(), errc::scope_closed));
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(log.count("start:late"), 0u);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeRefTest, ACallThatACancelOvertookStillRunsBeforeTheScopeFinishes) {
  auto root = make_scope(sys, {"root"});
  auto child = root.ref().open_child({"child"});
  run();
  auto ran = 0;
  // The spawn waits in the child's mailbox; the parent's cancel, sent
  // after it, reaches the child at high priority and overtakes it.
  auto h = child.ref().spawn_fn([&] { return ++ran; });
  root.cancel("shutting down");
  ASSERT_TRUE(sched.prioritize(root.ref().actor()));
  sched.run_once(); // the root cancels the child
  EXPECT_EQ(ran, 0);
  run();
  // The child finished only after the call made before the cancel: its
  // task ran as cleanup work of a cancelled scope, not refused.
  ASSERT_TRUE(h.ready());
  ASSERT_TRUE(h.get()) << render(h.get().error());
  EXPECT_EQ(*h.get(), 1);
  ASSERT_TRUE(child.done().ready());
  EXPECT_EQ(child.done().get()->status, scope_status::cancelled);
  // A call made once the scope has finished is refused.
  auto late = child.ref().spawn_fn([&] { return ++ran; });
  run();
  ASSERT_TRUE(late.ready());
  EXPECT_TRUE(is(late.get().error(), errc::scope_closed));
  EXPECT_EQ(ran, 1);
  EXPECT_TRUE(root.done().ready());
}

TEST_F(ScopeRefTest, ClosedScopeRefusesButKeepsRunningWhatItHas) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  auto a = ref.spawn(worker, &log, std::string{"a"});
  ref.close();
  auto late = ref.spawn_fn([] { return 1; });
  run();
  EXPECT_TRUE(ref.is_closed());
  ASSERT_TRUE(late.ready());
  EXPECT_TRUE(is(late.get().error(), errc::scope_closed));
  EXPECT_FALSE(ref.is_finished());
  caf::anon_send(a.task(), finish_atom::value);
  run();
  EXPECT_TRUE(ref.is_finished());
  EXPECT_EQ(owner.done().get()->status, scope_status::succeeded);
}

TEST_F(ScopeRefTest, BadArgumentsFailAtOnceAndChangeNothing) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  EXPECT_TRUE(is(ref.set_limit(0), errc::invalid_argument));
  EXPECT_TRUE(is(ref.set_grace(-1s), errc::invalid_argument));
  EXPECT_TRUE(is(ref.fail_after(-1ms), errc::invalid_argument));
  EXPECT_TRUE(is(ref.move_on_after(-1ms), errc::invalid_argument));
  auto bad = make_scope(sys, {"bad", -5s});
  run();
  ASSERT_TRUE(bad.done().ready());
  EXPECT_TRUE(is(bad.done().get().error(), errc::invalid_argument));
  EXPECT_FALSE(ref.is_cancelled());
  owner.join();
  run();
  EXPECT_EQ(owner.done().get()->status, scope_status::succeeded);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeRefTest, AnOwnerThatOwnsNothingSaysSo) {
  scope_owner empty;
  EXPECT_FALSE(empty);
  EXPECT_FALSE(empty.ref());
  empty.cancel(); // nothing to cancel
  empty.abort();
  for (auto h : {empty.join(), empty.close(), empty.done()}) {
    ASSERT_TRUE(h.ready());
    EXPECT_TRUE(is(h.get().error(), errc::invalid_argument));
  }
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  auto moved = std::move(owner);
  EXPECT_TRUE(is(owner.join().get().error(), errc::invalid_argument));
  moved.detach();
  EXPECT_TRUE(is(moved.done().get().error(), errc::invalid_argument));
  ref.join();
  run();
  EXPECT_TRUE(ref.is_finished());
}

TEST_F(ScopeRefTest, ReferenceSetsLimitAndDeadlines) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  ASSERT_FALSE(ref.set_limit(1));
  auto first = ref.spawn(worker, &log, std::string{"a"});
  ASSERT_FALSE(ref.fail_after(100ms));
  run();
  EXPECT_FALSE(ref.is_cancelled());
  advance(100ms);
  EXPECT_TRUE(ref.is_cancelled());
  run();
  ASSERT_TRUE(owner.done().ready());
  auto report = *owner.done().get();
  EXPECT_EQ(report.status, scope_status::failed);
  EXPECT_TRUE(is(report.failure, errc::timeout)) << render(report.failure);
  EXPECT_EQ(log.count_prefix("cancel:a:"), 1u);
  EXPECT_TRUE(first.ready());
}

TEST_F(ScopeRefTest, WhenCancelledResolvesWithTheReasonOrSaysItNeverCame) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  auto notice = ref.when_cancelled();
  run();
  EXPECT_FALSE(notice.ready());
  ref.cancel("stop now");
  run();
  ASSERT_TRUE(notice.ready());
  EXPECT_EQ(render(notice.get()->reason), "scaf::cancelled(svc: stop now)");
  auto other = make_scope(sys, {"calm"});
  auto calm = other.ref().when_cancelled();
  other.join();
  run();
  ASSERT_TRUE(calm.ready());
  EXPECT_TRUE(is(calm.get().error(), errc::scope_closed));
}

TEST_F(ScopeRefTest, WhenNoTasksResolvesOnceTheLastTaskIsDone) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  auto a = ref.spawn(worker, &log, std::string{"a"});
  auto idle = ref.when_no_tasks();
  run();
  EXPECT_FALSE(idle.ready());
  caf::anon_send(a.task(), finish_atom::value);
  run();
  EXPECT_TRUE(idle.ready());
  EXPECT_FALSE(ref.is_finished());
  owner.join();
  run();
  EXPECT_TRUE(ref.is_finished());
}

TEST_F(ScopeRefTest, ActorsAskAScopeForItsReferenceWithRefAtom) {
  auto svc = spawn_scope(sys, {"svc"}, [](scope&) {});
  std::optional<scope_ref> got;
  sys.spawn([&](caf::event_based_actor* self) {
    self->request(svc, caf::infinite, ref_atom::value).then([&](scope_ref& r) {
      got = r;
    });
  });
  run();
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(got->path(), "svc");
  auto h = got->spawn_fn([] { return 3; });
  run();
  EXPECT_EQ(h.get(), 3);
  got->cancel("bye");
  run();
  EXPECT_TRUE(got->is_finished());
  EXPECT_EQ(got->done().get()->status, scope_status::cancelled);
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- running code in the scope (scope_ref::call) ------------------------------

TEST_F(ScopeRefTest, CallRunsInTheScopeAndResolvesWithWhatItReturns) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  auto path = ref.call([](scope& s) { return s.path(); });
  auto nothing = ref.call([](scope& s) { s.set_grace(250ms); });
  auto refused = ref.call([](scope& s) -> caf::expected<int> {
    return make_error(errc::invalid_argument, s.path(), "not today");
  });
  // A handle it returns is followed: this one resolves with the task's value.
  auto followed =
    ref.call([](scope& s) { return s.spawn_fn([] { return 6 * 7; }); });
  run();
  EXPECT_EQ(path.get(), caf::expected<std::string>{"svc"});
  EXPECT_TRUE(nothing.get());
  auto grace = ref.call([](scope& s) { return s.grace(); });
  EXPECT_FALSE(grace.ready()); // a call like any other: it runs there
  run();
  EXPECT_EQ(grace.get(), caf::expected<caf::timespan>{250ms});
  EXPECT_EQ(render(refused.get().error()),
            "scaf::invalid_argument(svc: not today)");
  EXPECT_EQ(followed.get(), caf::expected<int>{42});
  owner.join();
  run();
}

TEST_F(ScopeRefTest, AHandleThatACallReturnsControlsItsTask) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  auto waiter = [](task_actor* self, task_result<int>) -> caf::behavior {
    self->on_cancel([self](const caf::error& why) { self->quit(why); });
    return {[](int) {}};
  };
  // Cancelled while the call is on its way, and once the task runs.
  auto early =
    ref.call([&](scope& s) { return s.spawn_with_result<int>({}, waiter); });
  early.cancel(make_error(errc::cancelled, "", "early reason"));
  auto late =
    ref.call([&](scope& s) { return s.spawn_with_result<int>({}, waiter); });
  run();
  ASSERT_FALSE(late.ready());
  EXPECT_TRUE(late.task());
  late.cancel(make_error(errc::cancelled, "", "late reason"));
  run();
  ASSERT_TRUE(early.ready() && late.ready());
  EXPECT_NE(render(early.get().error()).find("early reason"), std::string::npos)
    << render(early.get().error());
  EXPECT_NE(render(late.get().error()).find("late reason"), std::string::npos)
    << render(late.get().error());
  owner.join();
  run();
  EXPECT_EQ(owner.done().get()->status, scope_status::succeeded);
}

TEST_F(ScopeRefTest, CallIntoAGoneScopeIsRefusedAndOneThatThrowsFailsIt) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  auto thrown =
    ref.call([](scope&) -> int { throw std::runtime_error("call broke"); });
  run();
  EXPECT_EQ(render(thrown.get().error()),
            "scaf::task_exception(svc: call broke)");
  ASSERT_TRUE(ref.is_finished());
  EXPECT_EQ(render(ref.done().get()->reason()),
            "scaf::task_exception(svc: call broke)");
  auto late = ref.call([](scope&) { return 1; });
  run();
  EXPECT_TRUE(is(late.get().error(), errc::scope_closed))
    << render(late.get().error());
}

// -- per-task control through handles ----------------------------------------

TEST_F(ScopeRefTest, CancellingOneTaskThroughItsHandleFailsNothing) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  auto a = ref.spawn(worker, &log, std::string{"a"});
  auto b = ref.spawn(worker, &log, std::string{"b"});
  run();
  a.cancel(caf::error{});
  run();
  ASSERT_TRUE(a.ready());
  EXPECT_TRUE(is(a.get().error(), errc::cancelled));
  EXPECT_EQ(log.count("cancel:a:scaf::cancelled(svc/0: cancelled through its "
                      "handle)"),
            1u);
  EXPECT_EQ(log.count_prefix("cancel:b:"), 0u);
  EXPECT_FALSE(ref.is_cancelled());
  EXPECT_EQ(ref.children().behaviors, 1u);
  caf::anon_send(b.task(), finish_atom::value);
  owner.join();
  run();
  auto report = *owner.done().get();
  EXPECT_EQ(report.status, scope_status::succeeded);
  EXPECT_FALSE(report.failure);
  EXPECT_TRUE(report.killed.empty());
}

TEST_F(ScopeRefTest, CancelReasonThroughAHandleIsTheTasksCause) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  auto a = ref.spawn(worker, &log, std::string{"a"});
  run();
  a.cancel(app_error(7, "rebalance"));
  run();
  ASSERT_TRUE(a.ready());
  EXPECT_EQ(cancel_cause(a.get().error()), app_error(7, "rebalance"));
  owner.join();
  run();
  EXPECT_EQ(owner.done().get()->status, scope_status::succeeded);
}

TEST_F(ScopeRefTest, AbortingOneTaskKillsItAtOnceWithoutItsHandler) {
  auto owner = make_scope(sys, {"svc", 10s});
  auto ref = owner.ref();
  auto a = ref.spawn(stubborn, &log, std::string{"a"});
  auto b = ref.spawn(worker, &log, std::string{"b"});
  run();
  a.abort();
  run();
  ASSERT_TRUE(a.ready());
  // Killed, and the handle says so: not cancelled, not a failure.
  EXPECT_EQ(render(a.get().error()),
            "scaf::killed(svc/0: aborted through its handle)");
  EXPECT_TRUE(is_stopped(a.get().error()));
  EXPECT_EQ(log.count_prefix("cancel:a:"), 0u);
  EXPECT_FALSE(ref.is_cancelled());
  caf::anon_send(b.task(), finish_atom::value);
  owner.join();
  run();
  auto report = *owner.done().get();
  EXPECT_EQ(report.status, scope_status::succeeded);
  EXPECT_EQ(report.killed, std::vector<std::string>{"svc/0"});
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeRefTest, CancelledStubbornTaskIsKilledAfterItsGracePeriod) {
  auto owner = make_scope(sys, {"svc", 1s});
  auto ref = owner.ref();
  auto a = ref.spawn(stubborn, &log, std::string{"a"});
  run();
  a.cancel();
  run();
  EXPECT_EQ(log.count_prefix("cancel:a:"), 1u);
  EXPECT_FALSE(a.ready());
  advance(1s);
  ASSERT_TRUE(a.ready());
  EXPECT_EQ(render(a.get().error()),
            "scaf::killed(svc/0: overstayed its grace period)");
  owner.join();
  run();
  EXPECT_EQ(owner.done().get()->killed, std::vector<std::string>{"svc/0"});
}

TEST_F(ScopeRefTest, FunctionTaskCancelledBeforeItRunsNeverRuns) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  auto ran = 0;
  auto h = ref.spawn_fn([&] { return ++ran; });
  h.cancel(); // before the scope has even admitted it
  run();
  ASSERT_TRUE(h.ready());
  EXPECT_TRUE(is(h.get().error(), errc::cancelled)) << render(h.get().error());
  EXPECT_EQ(ran, 0);
  EXPECT_FALSE(ref.is_cancelled());
  owner.join();
  run();
  EXPECT_EQ(owner.done().get()->status, scope_status::succeeded);
}

TEST_F(ScopeRefTest, QueuedTaskCancelledThroughItsHandleNeverRuns) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  ASSERT_FALSE(ref.set_limit(1));
  auto ran = std::vector<int>{};
  auto first = ref.spawn_fn([&] { ran.push_back(1); });
  auto queued = ref.spawn_cancellable(-1, [&] {
    ran.push_back(2);
    return 2;
  });
  auto third = ref.spawn_fn([&] { ran.push_back(3); });
  queued.cancel();
  run();
  EXPECT_EQ(queued.get(), -1);
  EXPECT_EQ(ran, (std::vector<int>{1, 3}));
  EXPECT_TRUE(first.get() && third.get());
  owner.join();
  run();
  EXPECT_EQ(owner.done().get()->status, scope_status::succeeded);
}

TEST_F(ScopeRefTest, HandleOfGivesABehaviorTaskAHandleInsideTheScope) {
  handle<void> h;
  caf::error not_a_child;
  auto svc = spawn_scope(sys, {"svc"}, [&](scope& s) {
    auto t = s.spawn(worker, &log, std::string{"a"});
    h = *s.handle_of(*t);
    auto again = s.handle_of(*t);
    EXPECT_EQ(again->task(), h.task());
    not_a_child = s.handle_of(caf::actor{}).error();
  });
  run();
  EXPECT_TRUE(is(not_a_child, errc::invalid_argument));
  ASSERT_TRUE(h);
  caf::anon_send(h.task(), fail_atom::value, app_error(1, "bad"));
  run();
  ASSERT_TRUE(h.ready());
  EXPECT_EQ(h.get().error(), app_error(1, "bad"));
  caf::anon_send(svc, cancel_atom::value, std::string{"done"});
  run();
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeRefTest, StartedChildHasAnUpHandleAndAnEndHandle) {
  handle<void> up;
  handle<void> end;
  auto svc = spawn_scope(sys, {"svc"}, [&](scope& s) {
    up = s.start({.name = "w"}, task_factory(worker, &log, std::string{"w"}));
    end = *s.handle_of(up.task());
  });
  run();
  ASSERT_TRUE(up.ready());
  EXPECT_TRUE(up.get());
  EXPECT_FALSE(end.ready());
  up.cancel(); // the start handle controls its child too
  run();
  ASSERT_TRUE(end.ready());
  EXPECT_TRUE(is(end.get().error(), errc::cancelled));
  EXPECT_EQ(log.count("cancel:w:scaf::cancelled(svc/w: cancelled through its "
                      "handle)"),
            1u);
  caf::anon_send(svc, cancel_atom::value, std::string{"done"});
}

TEST_F(ScopeRefTest, ChildrenCountsEachKindSeparately) {
  child_counts seen;
  caf::actor svc = spawn_scope(sys, {"svc"}, [&](scope& s) {
    s.spawn(worker, &log, std::string{"a"});
    s.spawn_fn([](task_base* self) { return self->is_cancelled(); });
    s.spawn_fn([] {});
    s.spawn_scope({"nested"}, [&](scope& n) {
      n.spawn(worker, &log, std::string{"inner"});
    });
    auto child = s.open_child({"child"});
    child.detach();
    seen = s.children();
  });
  run();
  EXPECT_EQ(seen.behaviors, 1u);
  EXPECT_EQ(seen.functions, 2u);
  EXPECT_EQ(seen.blocking, 0u);
  EXPECT_EQ(seen.scopes, 2u);
  EXPECT_EQ(seen.alive(), 5u);
  caf::anon_send(svc, cancel_atom::value, std::string{"done"});
  run();
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- threaded: plain threads and other actors --------------------------------

TEST_F(ThreadedScopeRefTest, PlainThreadsSpawnEveryKindIntoAHeldScope) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  std::atomic<int> sum{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([ref, &sum, i] {
      auto f = ref.spawn_fn([i] { return i; });
      auto b = ref.spawn_blocking([i](std::stop_token) { return 10 * i; });
      auto t = ref.spawn_fn([i](task_base*) { return 100 * i; });
      auto c = ref.spawn_blocking_cancellable(
        -1, [i](std::stop_token) { return 1000 * i; });
      sum += *f.wait() + *b.wait() + *t.wait() + *c.wait();
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(sum, 1111 * (0 + 1 + 2 + 3));
  auto report = owner.join().wait();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, scope_status::succeeded);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedScopeRefTest, CancellableYieldsItsFallbackWhileItsFunctionRuns) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  std::atomic<bool> started{false};
  std::atomic<bool> returned{false};
  auto h = ref.spawn_blocking_cancellable(-1, [&](std::stop_token stop) {
    started = true;
    while (!stop.stop_requested())
      std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(20ms);
    returned = true;
    return 5;
  });
  while (!started)
    std::this_thread::sleep_for(1ms);
  h.cancel();
  EXPECT_EQ(h.wait(), -1);
  // The scope still waits for the function.
  auto report = owner.join().wait();
  EXPECT_TRUE(returned);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, scope_status::succeeded);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedScopeRefTest,
       QueuedTaskCancelledThroughItsHandleResolvesAtOnce) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  ASSERT_FALSE(ref.set_limit(1));
  auto holder = ref.spawn_blocking([](std::stop_token stop) {
    while (!stop.stop_requested())
      std::this_thread::sleep_for(1ms);
    return 0;
  });
  std::atomic<int> ran{0};
  auto queued = ref.spawn_cancellable(-1, [&ran] { return ++ran; });
  auto plain = ref.spawn_fn([&ran] { return ++ran; });
  while (ref.children().queued < 2)
    std::this_thread::sleep_for(1ms);
  queued.cancel();
  plain.abort();
  // Both resolve while the holder still holds the only slot.
  auto q = queued.wait_for(30s);
  ASSERT_TRUE(q);
  EXPECT_EQ(*q, -1);
  auto p = plain.wait_for(30s);
  ASSERT_TRUE(p);
  // Aborted, so killed, though it never ran.
  EXPECT_TRUE(is(p->error(), errc::killed)) << render(p->error());
  EXPECT_FALSE(holder.ready());
  EXPECT_EQ(ref.children().queued, 0u);
  holder.cancel();
  owner.join().wait();
  EXPECT_EQ(ran, 0);
}

TEST_F(ThreadedScopeRefTest, ThreadsStartedInsideAnActorMayBlock) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  auto result = std::make_shared<std::promise<caf::expected<int>>>();
  auto fut = result->get_future();
  sys.spawn([ref, result](caf::event_based_actor*) {
    // Named like the worker that starts it, but a plain thread.
    std::thread{[ref, result] {
      result->set_value(ref.spawn_fn([] { return 7; }).wait());
    }}.detach();
  });
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(fut.get(), caf::expected<int>{7});
  owner.join().wait();
}

TEST_F(ThreadedScopeRefTest, OfRefusesActorsThatAreNoScopes) {
  auto deaf = sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
    self->set_default_handler(caf::skip);
    return {[](finish_atom) {}};
  });
  auto r = scope_ref::of(sys, deaf, 50ms);
  ASSERT_FALSE(r);
  EXPECT_TRUE(is(r.error(), errc::invalid_argument)) << render(r.error());
  auto svc = spawn_scope(sys, {"svc"}, [](scope&) {});
  auto ok = scope_ref::of(sys, svc);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->path(), "svc");
  ok->cancel("bye");
  ok->done().wait();
  caf::anon_send_exit(deaf, caf::exit_reason::user_shutdown);
}

TEST_F(ThreadedScopeRefTest, AnActorGetsAReferenceWithoutBlocking) {
  auto svc = spawn_scope(sys, {"svc"}, [](scope& s) { s.keep_open(); });
  std::promise<std::string> seen;
  auto fut = seen.get_future();
  auto result = run(sys, [&](scope& s) {
    s.spawn([&](task_actor* self) -> caf::behavior {
      scope_ref::request(sys, svc).then(
        self, [&, self](const caf::expected<scope_ref>& ref) {
          seen.set_value(ref ? ref->path() : render(ref.error()));
          if (ref)
            ref->cancel("done");
          self->quit();
        });
      return {[](finish_atom) {}};
    });
    // Asked of an actor that is no scope, it says so.
    s.spawn([&](task_actor* self) -> caf::behavior {
      scope_ref::request(sys, caf::actor_cast<caf::actor>(self))
        .then(self, [self](const caf::expected<scope_ref>& ref) {
          if (ref || !is(ref.error(), errc::invalid_argument))
            self->quit(make_error(errc::invalid_argument, "test",
                                  "a task was taken for a scope"));
          else
            self->quit();
        });
      return {[](finish_atom) {}};
    });
  });
  ASSERT_TRUE(result) << render(result.error());
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(fut.get(), "svc");
  caf::scoped_actor self{sys};
  self->wait_for(svc);
}

TEST_F(ThreadedScopeRefTest, StopTokenFunctionTaskSeesItsCancel) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  std::atomic<bool> started{false};
  auto h = ref.spawn_cancellable(-1, [&](std::stop_token stop) {
    started = true;
    while (!stop.stop_requested())
      std::this_thread::sleep_for(1ms);
    return 5;
  });
  while (!started)
    std::this_thread::sleep_for(1ms);
  ref.cancel("enough");
  EXPECT_EQ(h.wait(), -1);
  auto report = owner.done().wait();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, scope_status::cancelled);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedScopeRefTest, AbortingABlockingTaskStopsItAndWaitsForIt) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  std::atomic<bool> started{false};
  auto h = ref.spawn_blocking([&](std::stop_token stop) {
    started = true;
    while (!stop.stop_requested())
      std::this_thread::sleep_for(1ms);
    return 1;
  });
  auto other = ref.spawn_blocking([](std::stop_token) { return 2; });
  while (!started)
    std::this_thread::sleep_for(1ms);
  h.abort();
  EXPECT_EQ(h.wait(), 1); // it produced a value before it ended
  EXPECT_EQ(other.wait(), 2);
  EXPECT_FALSE(ref.is_cancelled());
  auto report = owner.join().wait();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, scope_status::succeeded);
}

TEST_F(ThreadedScopeRefTest, WaitingThreadWakesWhenTheScopeIsCancelled) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  std::optional<caf::expected<cancel_notice>> seen;
  std::thread waiter{[&] { seen = ref.when_cancelled().wait_for(30s); }};
  std::this_thread::sleep_for(10ms);
  ref.cancel(app_error(3, "maintenance"));
  waiter.join();
  ASSERT_TRUE(seen && *seen);
  EXPECT_EQ(cancel_cause((*seen)->reason), app_error(3, "maintenance"));
  owner.done().wait();
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedScopeRefTest, AnotherActorHoldsTheReferenceAndUsesThen) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  auto result = std::make_shared<std::promise<int>>();
  auto fut = result->get_future();
  // A plain CAF actor: `then` posts to it, its behavior runs the posts.
  auto client =
    sys.spawn([ref, result](caf::event_based_actor* self) -> caf::behavior {
      auto h = ref.spawn_fn([] { return 21; });
      // A blocking wait inside an actor fails at once instead of hanging.
      auto refused = h.wait();
      if (refused || !is(refused.error(), errc::would_deadlock)) {
        result->set_value(-1);
        self->quit();
        return {};
      }
      h.then(self, [self, result](caf::expected<int> x) {
        result->set_value(*x * 2);
        self->quit();
      });
      return {[](finish_atom) {}, continuation_handler()};
    });
  (void)client;
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(fut.get(), 42);
}

TEST_F(ThreadedScopeRefTest, AnActorNobodyHoldsStillRunsItsContinuation) {
  auto owner = make_scope(sys, {"svc"});
  auto result = std::make_shared<std::promise<int>>();
  auto fut = result->get_future();
  // Its handle is dropped at once: the pending continuation keeps it alive,
  // as a pending request keeps its sender in CAF.
  sys.spawn([ref = owner.ref(), result](caf::event_based_actor* self) {
    ref.spawn_fn([] { return 21; })
      .then(self, [self, result](caf::expected<int> x) {
        result->set_value(x ? *x * 2 : -1);
        self->quit();
      });
    return caf::behavior{continuation_handler()};
  });
  ASSERT_EQ(fut.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(fut.get(), 42);
  ASSERT_TRUE(owner.join().wait());
}

TEST_F(ThreadedScopeRefTest, BlockingCallsInsideActorsFailFast) {
  std::atomic<int> refused{0};
  std::atomic<int> waited{0};
  auto r = run(sys, [&](scope& s) {
    s.spawn([&](task_actor* self) -> caf::behavior {
      // A behavior task runs on a scheduler thread: it must not wait.
      auto nested = scaf::run(sys, [](scope&) { return 1; });
      if (!nested && is(nested.error(), errc::would_deadlock))
        ++refused;
      self->quit();
      return {};
    });
    s.spawn_fn([&] {
      // `f()` is short work on a scheduler thread: it must not wait.
      auto nested = scaf::run(sys, [](scope&) { return 1; });
      if (!nested && is(nested.error(), errc::would_deadlock))
        ++refused;
    });
    s.spawn_fn([&](std::stop_token) {
      // A function that takes a token runs on scaf's pool: it may wait.
      auto nested = scaf::run(sys, [](scope&) { return 1; });
      if (nested && *nested == 1)
        ++waited;
    });
    s.spawn_blocking([&](std::stop_token) {
      // A blocking task has a thread of its own: it may wait.
      auto nested = scaf::run(sys, [](scope&) { return 1; });
      if (nested && *nested == 1)
        ++waited;
    });
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(refused, 2);
  EXPECT_EQ(waited, 2);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedScopeRefTest,
       EveryKindIsCancelledOrAbortedAloneWithoutAFailure) {
  for (auto abort : {false, true}) {
    SCOPED_TRACE(abort ? "abort" : "cancel");
    scaf::scope_options opts;
    opts.name = "svc";
    opts.grace = 50ms;
    auto owner = make_scope(sys, opts);
    auto ref = owner.ref();
    std::atomic<bool> go{false};
    std::atomic<bool> job_started{false};
    auto behavior = ref.spawn([](task_actor* self) -> caf::behavior {
      self->on_cancel([self](const caf::error& why) { self->quit(why); });
      return {[](finish_atom) {}};
    });
    // A job runs to its end once started: it keeps its value.
    auto job = ref.spawn_fn([&go, &job_started] {
      job_started = true;
      while (!go)
        std::this_thread::sleep_for(1ms);
      return 1;
    });
    auto polling = ref.spawn_fn([](task_base* self) {
      while (!self->is_cancelled())
        std::this_thread::sleep_for(1ms);
      return 2;
    });
    auto blocking = ref.spawn_blocking([](std::stop_token stop) {
      while (!stop.stop_requested())
        std::this_thread::sleep_for(1ms);
      return 3;
    });
    auto cancellable = ref.spawn_cancellable(-4, [](std::stop_token stop) {
      while (!stop.stop_requested())
        std::this_thread::sleep_for(1ms);
      return 4;
    });
    // Running (or at least admitted) before they are stopped.
    while (ref.children().alive() < 5 || !job_started)
      std::this_thread::sleep_for(1ms);
    auto stop = [abort](const auto& h) {
      if (abort)
        h.abort();
      else
        h.cancel();
    };
    stop(behavior);
    stop(job);
    stop(polling);
    stop(blocking);
    stop(cancellable);
    // Aborted, a behavior task is killed; cancelled, it stops on its cancel.
    EXPECT_TRUE(
      is(behavior.wait().error(), abort ? errc::killed : errc::cancelled))
      << render(behavior.wait().error());
    EXPECT_EQ(cancellable.wait(), -4);
    EXPECT_EQ(polling.wait(), 2);
    EXPECT_EQ(blocking.wait(), 3);
    go = true;
    EXPECT_EQ(job.wait(), 1);
    EXPECT_FALSE(ref.is_cancelled());
    auto report = owner.join().wait();
    ASSERT_TRUE(report);
    EXPECT_EQ(report->status, scope_status::succeeded);
    EXPECT_FALSE(report->failure);
  }
}

TEST_F(ThreadedScopeRefTest, HandlesNeverResolveWhileTheirTaskIsCounted) {
  auto owner = make_scope(sys, {"svc"});
  auto ref = owner.ref();
  std::mt19937 rng{20261129};
  auto mismatches = 0;
  for (int i = 0; i < 2000; ++i) {
    child_counts after;
    switch (rng() % 4) {
    case 0:
      ref.spawn_fn([] { return 1; }).wait();
      after = ref.children();
      mismatches += after.functions != 0;
      break;
    case 1:
      ref.spawn_fn([](task_base*) { return 1; }).wait();
      after = ref.children();
      mismatches += after.functions != 0;
      break;
    case 2:
      ref.spawn_blocking([](std::stop_token) { return 1; }).wait();
      after = ref.children();
      mismatches += after.blocking != 0;
      break;
    default: {
      auto h = ref.spawn([](task_actor* self) -> caf::behavior {
        self->quit();
        return {};
      });
      h.wait();
      after = ref.children();
      mismatches += after.behaviors != 0;
    }
    }
  }
  EXPECT_EQ(mismatches, 0);
  owner.join().wait();
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ThreadedScopeRefTest, AReferenceReadsItsOwnWrites) {
  for (int i = 0; i < 100; ++i) {
    auto owner = make_scope(sys, {.name = "svc"});
    auto ref = owner.ref();
    // A call in flight, and a task that keeps the closed scope from
    // finishing before the cancel (a finished scope is not cancelled by
    // asking).
    ref.spawn_fn([](std::stop_token stop) {
      while (!stop.stop_requested())
        std::this_thread::sleep_for(1ms);
      return 1;
    });
    EXPECT_FALSE(ref.is_closed());
    ref.close();
    EXPECT_TRUE(ref.is_closed()); // before the scope has seen the close
    EXPECT_FALSE(ref.is_cancelled());
    ref.cancel("enough");
    EXPECT_TRUE(ref.is_cancelled());
    owner.done().wait();
    EXPECT_TRUE(ref.is_cancelled());
  }
  auto owner = make_scope(sys, {.name = "svc"});
  auto ref = owner.ref();
  ref.abort();
  EXPECT_TRUE(ref.is_cancelled());
  EXPECT_TRUE(ref.is_closed());
  EXPECT_EQ(owner.done().wait()->status, scope_status::cancelled);
  // A scope that is gone is not cancelled by asking.
  auto done = make_scope(sys, {.name = "done"});
  auto gone = done.ref();
  done.join().wait();
  gone.cancel("too late");
  EXPECT_FALSE(gone.is_cancelled());
}
