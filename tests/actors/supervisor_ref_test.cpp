// Tests of scaf/supervisor_ref.hpp: a supervisor's children managed one by
// one while it runs (OTP's admin calls), through a reference and by message,
// on CAF's deterministic scheduler, then from plain threads.
#include "scaf/supervisor_ref.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "supervisor_fixture.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

namespace {

class SupervisorRefTest : public SupervisorTest {
protected:
  /// Runs the call's handle to its end and returns the result.
  template <class T>
  caf::expected<T> done(handle<T> h) {
    run();
    if (!h.ready())
      return make_error(errc::timeout, "test", "the call did not resolve");
    return h.get();
  }

  supervisor_counts counts() {
    auto x = done(sup_ref().count_children());
    return x ? *x : supervisor_counts{};
  }
};

/// "w<i>" (built in steps: GCC 12 warns falsely on `"w" + to_string(i)`).
std::string worker_name(int i) {
  std::string result = "w";
  result += std::to_string(i);
  return result;
}

std::string code_of_result(const caf::error& err) {
  return to_string(code_of(err));
}

} // namespace

// -- OTP's child_adm, case by case --------------------------------------------

TEST_F(SupervisorRefTest, AdminCallsOnAStaticChildAnswerAsOtpDoes) {
  start({.intensity = 5}, {member_spec(&log, &live, {.name = "a"})});
  auto ref = sup_ref();
  ASSERT_TRUE(ref);
  // Starting a child under a name in use: already started.
  auto twice = done(ref.start_child(member_spec(&log, &live, {.name = "a"})));
  ASSERT_FALSE(twice);
  EXPECT_EQ(render(twice.error()),
            "scaf::child_exists(root/sup: child 'a' is already started)");
  EXPECT_EQ(code_of_result(done(ref.terminate_child("nope")).error()),
            "no_such_child");
  // Terminating: the child stops (with its cancel), and is kept as stopped.
  EXPECT_TRUE(done(ref.terminate_child("a")));
  EXPECT_EQ(log.count("~a"), 1u);
  EXPECT_EQ(states(), (strings{"a:stopped"}));
  auto c = counts();
  EXPECT_EQ(c.specs, 1u);
  EXPECT_EQ(c.active, 0u);
  EXPECT_EQ(c.workers, 1u);
  EXPECT_TRUE(done(ref.terminate_child("a"))); // again: fine
  // Present but stopped: already present.
  EXPECT_EQ(
    render(
      done(ref.start_child(member_spec(&log, &live, {.name = "a"}))).error()),
    "scaf::child_exists(root/sup: child 'a' is already present)");
  // Restarting it brings it back; a running one cannot be restarted.
  auto again = done(ref.restart_child("a"));
  ASSERT_TRUE(again && *again);
  EXPECT_EQ(*again, live.at("a"));
  EXPECT_EQ(code_of_result(done(ref.restart_child("a")).error()),
            "child_running");
  EXPECT_EQ(code_of_result(done(ref.restart_child("nope")).error()),
            "no_such_child");
  EXPECT_EQ(code_of_result(done(ref.delete_child("a")).error()),
            "child_running");
  EXPECT_EQ(code_of_result(done(ref.delete_child("nope")).error()),
            "no_such_child");
  // Deleting a stopped child forgets it.
  EXPECT_TRUE(done(ref.terminate_child("a")));
  EXPECT_TRUE(done(ref.delete_child("a")));
  EXPECT_EQ(code_of_result(done(ref.restart_child("a")).error()),
            "no_such_child");
  c = counts();
  EXPECT_EQ(c.specs, 0u);
  EXPECT_EQ(c.active, 0u);
  EXPECT_FALSE(sup_exit);
  stop_all();
}

TEST_F(SupervisorRefTest, TerminatedTemporaryChildIsForgotten) {
  start({}, {member_spec(&log, &live,
                         {.name = "t", .restart = restart_type::temporary})});
  auto ref = sup_ref();
  EXPECT_TRUE(done(ref.terminate_child("t")));
  EXPECT_EQ(states(), strings{});
  // Its spec can be started again.
  EXPECT_TRUE(done(ref.start_child(member_spec(
    &log, &live, {.name = "t", .restart = restart_type::temporary}))));
  EXPECT_EQ(states(), (strings{"t:running"}));
  stop_all();
}

TEST_F(SupervisorRefTest,
       StartedChildThatFailsToStartIsForgottenAndNotRetried) {
  start({.intensity = 5}, {member_spec(&log, &live, {.name = "a"})});
  auto ref = sup_ref();
  plan["n"] = {start_mode::fail, start_mode::fail};
  auto failed = done(ref.start_child(planned_spec({.name = "n"})));
  ASSERT_FALSE(failed);
  EXPECT_EQ(render(failed.error()), render(app_error(9, "n could not start")));
  EXPECT_EQ(log.count("failed-to-start:n"), 1u);
  EXPECT_EQ(states(), (strings{"a:running"}));
  EXPECT_FALSE(sup_exit); // the supervisor is fine
  stop_all();
}

TEST_F(SupervisorRefTest, RestartedChildThatFailsStaysStoppedWithTheError) {
  start({.intensity = 5}, {planned_spec({.name = "a"})});
  auto ref = sup_ref();
  EXPECT_TRUE(done(ref.terminate_child("a")));
  plan["a"] = {start_mode::fail};
  auto failed = done(ref.restart_child("a"));
  ASSERT_FALSE(failed);
  EXPECT_EQ(render(failed.error()), render(app_error(9, "a could not start")));
  EXPECT_EQ(states(), (strings{"a:stopped"}));
  EXPECT_TRUE(done(ref.restart_child("a")));
  EXPECT_EQ(states(), (strings{"a:running"}));
  stop_all();
}

TEST_F(SupervisorRefTest, StartedChildThatDeclinesHasNoActor) {
  start({}, {});
  auto ref = sup_ref();
  plan["p"] = {start_mode::decline};
  plan["t"] = {start_mode::decline};
  auto p = done(ref.start_child(planned_spec({.name = "p"})));
  ASSERT_TRUE(p);
  EXPECT_FALSE(*p); // OTP's {ok, undefined}
  auto t = done(ref.start_child(
    planned_spec({.name = "t", .restart = restart_type::temporary})));
  ASSERT_TRUE(t);
  EXPECT_FALSE(*t);
  // The permanent one is kept, stopped; the temporary one is not.
  EXPECT_EQ(states(), (strings{"p:stopped"}));
  stop_all();
}

TEST_F(SupervisorRefTest, ChildrenAddedLaterTakePartInTheStrategyInStartOrder) {
  start({.strategy = restart_strategy::rest_for_one, .intensity = 5},
        {member_spec(&log, &live, {.name = "a"}),
         member_spec(&log, &live, {.name = "b"})});
  auto ref = sup_ref();
  EXPECT_TRUE(done(ref.start_child(member_spec(&log, &live, {.name = "c"}))));
  EXPECT_TRUE(done(ref.start_child(member_spec(&log, &live, {.name = "d"}))));
  log.add("--");
  fail("b");
  EXPECT_EQ(lifecycle(events_after("--")),
            (strings{"~b", "cancel:d", "~d", "cancel:c", "~c", "start:b",
                     "start:c", "start:d"}));
  // And the shutdown stops them in reverse start order.
  log.add("==");
  stop_all();
  EXPECT_EQ(lifecycle(events_after("==")),
            (strings{"cancel:d", "~d", "cancel:c", "~c", "cancel:b", "~b",
                     "cancel:a", "~a"}));
}

TEST_F(SupervisorRefTest, CallsAreServedWhileAChildWaitsForItsRestart) {
  start({.intensity = 10, .backoff = 1s, .max_backoff = 1s},
        {member_spec(&log, &live, {.name = "a"}),
         member_spec(&log, &live, {.name = "b"})});
  auto ref = sup_ref();
  fail("b"); // b waits 1 s for its restart
  EXPECT_EQ(states(), (strings{"a:running", "b:restarting"}));
  EXPECT_EQ(code_of_result(done(ref.restart_child("b")).error()),
            "child_restarting");
  EXPECT_EQ(code_of_result(done(ref.delete_child("b")).error()),
            "child_restarting");
  EXPECT_EQ(counts().active, 1u);
  // Terminated meanwhile, it is not restarted when the backoff ends.
  EXPECT_TRUE(done(ref.terminate_child("b")));
  advance(1s);
  EXPECT_EQ(log.count("start:b"), 1u);
  EXPECT_EQ(states(), (strings{"a:running", "b:stopped"}));
  EXPECT_TRUE(done(ref.restart_child("b")));
  EXPECT_EQ(log.count("start:b"), 2u);
  stop_all();
}

TEST_F(SupervisorRefTest, RestartLoopThatNeverSucceedsCanStillBeCancelled) {
  plan["b"] = {start_mode::up};
  for (int i = 0; i < 100; ++i)
    plan["b"].push_back(start_mode::fail);
  start({.intensity = 1000, .period = 1s, .backoff = 10ms, .max_backoff = 10ms},
        {planned_spec({.name = "a"}), planned_spec({.name = "b"})});
  fail("b");
  for (int i = 0; i < 4; ++i)
    advance(10ms); // a few failed attempts, 10 ms apart
  EXPECT_GE(log.count("failed-to-start:b"), 3u);
  stop_all();
  ASSERT_TRUE(sup_exit);
  EXPECT_TRUE(is(*sup_exit, errc::cancelled)) << render(*sup_exit);
}

TEST_F(SupervisorRefTest, CallsToASupervisorThatShutDownAreRefused) {
  start({}, {member_spec(&log, &live, {.name = "a"})});
  auto ref = sup_ref();
  stop_all();
  EXPECT_EQ(code_of_result(done(ref.which_children()).error()), "scope_closed");
  EXPECT_EQ(
    code_of_result(
      done(ref.start_child(member_spec(&log, &live, {.name = "b"}))).error()),
    "scope_closed");
  EXPECT_EQ(code_of_result(done(supervisor_ref{}.which_children()).error()),
            "invalid_argument");
}

TEST_F(SupervisorRefTest, CountsStayConsistentWithAThousandChildren) {
  start({}, {});
  auto ref = sup_ref();
  std::vector<handle<caf::actor>> started;
  for (int i = 0; i < 1000; ++i)
    started.push_back(
      ref.start_child(member_spec(&log, &live,
                                  {.name = worker_name(i),
                                   .restart = restart_type::temporary,
                                   .shutdown = 0s})));
  run();
  for (auto& h : started)
    ASSERT_TRUE(h.ready() && h.get());
  auto c = counts();
  EXPECT_EQ(c.specs, 1000u);
  EXPECT_EQ(c.active, 1000u);
  EXPECT_EQ(c.workers, 1000u);
  EXPECT_EQ(c.supervisors, 0u);
  EXPECT_EQ(done(ref.which_children())->size(), 1000u);
  for (int i = 0; i < 500; ++i)
    caf::anon_send(live.at(worker_name(i)), finish_atom::value);
  run();
  c = counts();
  EXPECT_EQ(c.specs, 500u);
  EXPECT_EQ(c.active, 500u);
  stop_all();
}

// -- calls in flight (found by probing as a user) -----------------------------

TEST_F(SupervisorRefTest, CallsMadeInARowSeeWhatTheCallsBeforeThemDid) {
  start({}, {member_spec(&log, &live, {.name = "a"}),
             member_spec(&log, &live, {.name = "b"})});
  auto ref = sup_ref();
  // Not waited for one by one: each still runs after the one before.
  auto stopped = ref.terminate_child("a");
  auto listed = ref.which_children();
  auto again = ref.restart_child("a");
  auto deleted = ref.delete_child("b");
  run();
  EXPECT_TRUE(stopped.get());
  auto children = listed.get();
  ASSERT_TRUE(children);
  EXPECT_EQ(children->front().state, child_state::stopped);
  ASSERT_TRUE(again.get()) << render(again.get().error());
  EXPECT_EQ(code_of_result(deleted.get().error()), "child_running");
  stop_all();
}

TEST_F(SupervisorRefTest, CancelWhileACallWaitsForItsTurnStillStopsEveryChild) {
  start({}, {member_spec(&log, &live, {.name = "a"}),
             member_spec(&log, &live, {.name = "b"})});
  auto ref = sup_ref();
  plan["slow"] = {start_mode::slow};
  auto slow = ref.start_child(planned_spec({.name = "slow"}));
  run(); // slow is starting: the supervisor is in the middle of a start
  auto stopped = ref.terminate_child("a"); // waits for its turn
  run();
  EXPECT_FALSE(stopped.ready());
  log.add("--");
  caf::anon_send(sup, cancel_atom::value, "stop");
  run();
  EXPECT_EQ(
    lifecycle(events_after("--")),
    (strings{"cancel:slow", "~slow", "cancel:b", "~b", "cancel:a", "~a"}));
  ASSERT_TRUE(sup_exit);
  EXPECT_TRUE(is(*sup_exit, errc::cancelled)) << render(*sup_exit);
  EXPECT_TRUE(stopped.get());
  EXPECT_EQ(code_of_result(slow.get().error()), "scope_closed");
  stop_all();
}

TEST_F(SupervisorRefTest, CallsWaitingForTheirTurnWhenItIsKilledAreRefused) {
  start({}, {member_spec(&log, &live, {.name = "a"})});
  auto ref = sup_ref();
  plan["slow"] = {start_mode::slow};
  auto slow = ref.start_child(planned_spec({.name = "slow"}));
  run(); // the supervisor is in the middle of a start: calls wait
  auto listed = ref.which_children();
  std::optional<std::string> by_message;
  sys.spawn([&](caf::event_based_actor* self) {
    self->request(sup, caf::infinite, count_children_atom::value)
      .then([&](supervisor_counts&) { by_message = "counts"; },
            [&](caf::error& err) { by_message = code_of_result(err); });
  });
  run();
  EXPECT_FALSE(listed.ready());
  EXPECT_FALSE(by_message);
  caf::anon_send_exit(sup, caf::exit_reason::kill);
  run();
  ASSERT_TRUE(listed.ready());
  EXPECT_EQ(code_of_result(listed.get().error()), "scope_closed");
  EXPECT_EQ(by_message, "scope_closed");
  EXPECT_EQ(code_of_result(slow.get().error()), "scope_closed");
  stop_all();
}

TEST_F(SupervisorRefTest, GracePeriodIsTheSumOfTheCurrentChildrensShutdowns) {
  start({}, {member_spec(&log, &live, {.name = "a", .shutdown = 2s})});
  auto ref = sup_ref();
  auto grace = [&] {
    auto x = done(ref.scope().call([](scope& s) { return s.grace(); }));
    return x ? *x : caf::timespan{-1};
  };
  EXPECT_EQ(grace(), caf::timespan{2s});
  for (int i = 0; i < 10; ++i) {
    auto name = worker_name(i);
    EXPECT_TRUE(done(ref.start_child(member_spec(
      &log, &live,
      {.name = name, .restart = restart_type::temporary, .shutdown = 1s}))));
    EXPECT_EQ(grace(), caf::timespan{3s});
    EXPECT_TRUE(done(ref.terminate_child(name))); // forgotten: temporary
    EXPECT_EQ(grace(), caf::timespan{2s});
  }
  stop_all();
}

// -- by message, for CAF actors -----------------------------------------------

TEST_F(SupervisorRefTest, CafActorManagesChildrenByMessage) {
  start({}, {member_spec(&log, &live, {.name = "a"})});
  std::vector<std::string> seen;
  sys.spawn([&](caf::event_based_actor* self) {
    self
      ->request(sup, caf::infinite, start_child_atom::value,
                member_spec(&log, &live, {.name = "b"}))
      .then([&, self](caf::actor& b) {
        seen.push_back(b ? "started b" : "no actor");
        self->request(sup, caf::infinite, which_children_atom::value)
          .then([&, self](std::vector<child_info>& xs) {
            for (auto& x : xs)
              seen.push_back(x.name + ":" + to_string(x.state));
            self
              ->request(sup, caf::infinite, terminate_child_atom::value,
                        std::string{"a"})
              .then([&, self] {
                seen.push_back("terminated a");
                self->request(sup, caf::infinite, count_children_atom::value)
                  .then([&](supervisor_counts& c) {
                    seen.push_back("active " + std::to_string(c.active));
                  });
              });
          });
      });
  });
  run();
  EXPECT_EQ(seen, (strings{"started b", "a:running", "b:running",
                           "terminated a", "active 1"}));
  stop_all();
}

// -- from plain threads -------------------------------------------------------

namespace {

using ThreadedSupervisorRefTest = leak_checked_threaded_test;

caf::behavior idle_child(task_actor*) {
  return {[](int x) { return x; }};
}

} // namespace

TEST_F(ThreadedSupervisorRefTest, ThreadFindsASupervisorAndManagesItsChildren) {
  auto owner = make_scope(sys, {.name = "svc"});
  auto sup = owner.ref().spawn(
    {.name = "sup"}, supervisor({}, {child({.name = "a"}, idle_child)}));
  // The behavior task's handle has its actor once the scope spawned it.
  caf::actor actor;
  for (int i = 0; i < 1000 && !actor; ++i) {
    actor = sup.task();
    if (!actor)
      std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(actor);
  auto ref = supervisor_ref::of(sys, actor);
  ASSERT_TRUE(ref) << render(ref.error());
  auto b = ref->start_child(child({.name = "b"}, idle_child)).wait();
  ASSERT_TRUE(b && *b);
  auto names = ref->which_children().wait();
  ASSERT_TRUE(names);
  ASSERT_EQ(names->size(), 2u);
  EXPECT_EQ((*names)[1].name, "b");
  EXPECT_EQ(ref->scope().path(), "svc/sup");
  // A scope that is no supervisor says so.
  auto plain = supervisor_ref::of(sys, owner.ref().actor());
  ASSERT_FALSE(plain);
  EXPECT_TRUE(is(plain.error(), errc::invalid_argument))
    << render(plain.error());
  owner.ref().cancel("the test is over");
  EXPECT_TRUE(owner.join().wait());
}

TEST_F(ThreadedSupervisorRefTest, ThreadsManageChildrenAtOnceAndACancelEndsIt) {
  auto owner = make_scope(sys, {.name = "svc"});
  auto sup = owner.ref().spawn(
    {.name = "sup"}, supervisor({}, {child({.name = "base"}, idle_child)}));
  caf::actor actor;
  for (int i = 0; i < 1000 && !actor; ++i) {
    actor = sup.task();
    if (!actor)
      std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(actor);
  auto ref = supervisor_ref::of(sys, actor);
  ASSERT_TRUE(ref) << render(ref.error());
  // Each call must resolve: a bound that only a hang reaches.
  constexpr auto bound = std::chrono::seconds{30};
  std::atomic<int> unresolved{0};
  std::atomic<int> unexpected{0};
  std::atomic<bool> stop{false};
  auto churn = [&](int t, int rounds) {
    for (int i = 0; (rounds < 0 || i < rounds) && !stop; ++i) {
      auto name = worker_name(t * 100000 + i);
      auto up =
        ref->start_child(child({.name = name}, idle_child)).wait_for(bound);
      if (!up) {
        ++unresolved;
        return;
      }
      if (!*up) {
        // Only the shutdown may refuse.
        if (!is(up->error(), errc::scope_closed))
          ++unexpected;
        return;
      }
      auto down = ref->terminate_child(name).wait_for(bound);
      if (!down)
        ++unresolved;
      else if (!*down && !is(down->error(), errc::scope_closed))
        ++unexpected;
    }
  };
  // Four threads at once, 50 rounds each: every child they added is kept,
  // stopped (permanent), and only "base" runs.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back(churn, t, 50);
  for (auto& th : threads)
    th.join();
  threads.clear();
  auto counts = ref->count_children().wait();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->specs, 201u);
  EXPECT_EQ(counts->active, 1u);
  // Again, with a cancel in the middle: the supervisor ends.
  for (int t = 4; t < 8; ++t)
    threads.emplace_back(churn, t, -1);
  std::this_thread::sleep_for(50ms);
  ref->scope().cancel("the test is over");
  EXPECT_TRUE(sup.wait_for(bound)) << "the supervisor did not end";
  stop = true;
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(unresolved.load(), 0);
  EXPECT_EQ(unexpected.load(), 0);
  owner.ref().cancel("the test is over");
  EXPECT_TRUE(owner.join().wait());
}
