// Tests of scaf/supervisor_ref.hpp: a supervisor's children managed one by
// one while it runs (OTP's admin calls), through a reference and by message,
// on CAF's deterministic scheduler, then from plain threads.
#include "scaf/supervisor_ref.hpp"

#include <algorithm>
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

  bool logged(const std::string& event) const {
    return log.index_of(event) >= 0;
  }

  /// How often "b" failed before it was up.
  size_t attempts() const {
    return log.count("failed-to-start:b");
  }

  /// Runs "sup" with `opts` (no backoff, an intensity no loop reaches) over
  /// a, b and c, and makes b fail once it is up and then before it is up
  /// `failing_starts` times in a row: a restart loop, 20 attempts in.
  supervisor_ref start_restart_loop(supervisor_options opts) {
    plan["b"] = {start_mode::up};
    plan["b"].insert(plan["b"].end(), failing_starts, start_mode::fail);
    opts.intensity = 1'000'000;
    opts.period = 1h;
    start(opts, {planned_spec({.name = "a"}), planned_spec({.name = "b"}),
                 planned_spec({.name = "c"})});
    auto ref = sup_ref();
    caf::anon_send(live.at("b"), fail_atom::value, app_error(1, "b broke"));
    EXPECT_TRUE(step_until([&] { return attempts() >= 20; }));
    return ref;
  }

  static constexpr size_t failing_starts = 5'000;
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

// -- restart loops: calls between attempts (OTP's hanging_restart_loop) -------

TEST_F(SupervisorRefTest, EveryCallIsAnsweredBetweenAttemptsOfARestartLoop) {
  // b fails before it is up, again and again, and nothing delays its
  // restarts: each attempt counts, none ends the loop.
  auto ref = start_restart_loop({});
  auto before = attempts();
  // Every kind of call, made while it loops.
  auto which = ref.which_children();
  auto counted = ref.count_children();
  auto one = ref.which_child("b");
  auto spec = ref.get_childspec("a");
  auto checked = ref.check_childspecs({planned_spec({.name = "d"})});
  auto terminated = ref.terminate_child("a");
  auto restarted = ref.restart_child("a");
  auto deleted = ref.delete_child("b");
  auto started = ref.start_child(planned_spec({.name = "d"}));
  auto all_ready = [&] {
    return which.ready() && counted.ready() && one.ready() && spec.ready() &&
           checked.ready() && terminated.ready() && restarted.ready() &&
           deleted.ready() && started.ready();
  };
  ASSERT_TRUE(step_until(all_ready));
  // Answered within a few attempts, while the loop goes on.
  EXPECT_LT(attempts() - before, 10u);
  EXPECT_LT(attempts(), failing_starts);
  auto children = which.get();
  ASSERT_TRUE(children);
  auto& listed = *children;
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[1].name, "b");
  EXPECT_EQ(listed[1].state, child_state::restarting);
  EXPECT_EQ(counted.get()->specs, 3u);
  EXPECT_EQ(one.get()->state, child_state::restarting);
  EXPECT_EQ(spec.get()->options.name, "a");
  EXPECT_TRUE(checked.get()) << render(checked.get().error());
  EXPECT_TRUE(terminated.get());
  ASSERT_TRUE(restarted.get());
  EXPECT_TRUE(*restarted.get());
  EXPECT_EQ(code_of_result(deleted.get().error()), "child_restarting");
  ASSERT_TRUE(started.get());
  EXPECT_TRUE(*started.get());
  // Terminating the looping child ends the loop.
  auto stop_b = ref.terminate_child("b");
  ASSERT_TRUE(step_until([&] { return stop_b.ready(); }));
  EXPECT_TRUE(stop_b.get());
  auto at_stop = attempts();
  run();
  EXPECT_EQ(attempts(), at_stop);
  EXPECT_EQ(states(),
            (strings{"a:running", "b:stopped", "c:running", "d:running"}));
  stop_all();
}

TEST_F(SupervisorRefTest, GroupRestartLoopAnswersCallsBetweenAttempts) {
  auto ref = start_restart_loop({.strategy = restart_strategy::rest_for_one});
  auto before = attempts();
  auto which = ref.which_children();
  auto counted = ref.count_children();
  ASSERT_TRUE(step_until([&] { return which.ready() && counted.ready(); }));
  EXPECT_LT(attempts() - before, 10u);
  auto children = which.get();
  ASSERT_TRUE(children);
  std::vector<std::string> seen;
  for (auto& x : *children)
    seen.push_back(x.name + ":" + to_string(x.state));
  // c was stopped for b's restart and waits for it (OTP: undefined).
  EXPECT_EQ(seen, (strings{"a:running", "b:restarting", "c:stopped"}));
  EXPECT_EQ(counted.get()->active, 1u);
  // Stopping b ends the loop; c, stopped only for b's restart, comes back.
  auto stop_b = ref.terminate_child("b");
  ASSERT_TRUE(step_until([&] { return stop_b.ready(); }));
  auto at_stop = attempts();
  run();
  EXPECT_EQ(attempts(), at_stop);
  EXPECT_EQ(states(), (strings{"a:running", "b:stopped", "c:running"}));
  stop_all();
}

TEST_F(SupervisorRefTest, StopByACallDuringAGroupRetryHoldsBackTheStarts) {
  // b fails before it is up twice; "a" is terminated while the group
  // restart waits for its next attempt: the starts wait for that stop, and
  // then go in order (b up before c starts).
  plan["b"] = {start_mode::up, start_mode::fail, start_mode::fail};
  start({.strategy = restart_strategy::rest_for_one, .intensity = 10},
        {planned_spec({.name = "a"}), planned_spec({.name = "b"}),
         planned_spec({.name = "c"})});
  auto ref = sup_ref();
  caf::anon_send(live.at("b"), fail_atom::value, app_error(1, "b broke"));
  ASSERT_TRUE(step_until([&] { return log.count("failed-to-start:b") == 1; }));
  // Queued while the second attempt starts, run while the group waits.
  auto stopped = ref.terminate_child("a");
  run();
  ASSERT_TRUE(stopped.ready() && stopped.get());
  EXPECT_EQ(states(), (strings{"a:stopped", "b:running", "c:running"}));
  auto after = events_after("failed-to-start:b");
  auto b_up = std::find(after.begin(), after.end(), "at:root/sup/b");
  auto c_up = std::find(after.begin(), after.end(), "at:root/sup/c");
  EXPECT_LT(b_up, c_up);
  EXPECT_EQ(std::count(after.begin(), after.end(), "at:root/sup/c"), 1);
  stop_all();
}

TEST_F(SupervisorRefTest, CallsWhoseStartFailsAtOnceAreEachAnsweredOnce) {
  bool armed = false;
  start({}, {child({.name = "bomb"}, bomb_task, &log, copy_bomb{&armed})});
  auto ref = sup_ref();
  ASSERT_TRUE(done(ref.terminate_child("bomb")));
  armed = true; // its arguments throw when copied: every spawn fails at once
  auto first = ref.restart_child("bomb");
  auto second = ref.restart_child("bomb");
  auto listed = ref.which_children();
  run();
  ASSERT_TRUE(first.ready() && second.ready() && listed.ready());
  for (auto& x : {first.get(), second.get()}) {
    ASSERT_FALSE(x);
    EXPECT_EQ(render(x.error()),
              "scaf::task_exception(root/sup/bomb: copy threw)");
  }
  ASSERT_TRUE(listed.get());
  EXPECT_EQ(states(), strings{"bomb:stopped"});
  EXPECT_FALSE(sup_exit);
  armed = false;
  stop_all();
}

// -- the rest of OTP's calls --------------------------------------------------

TEST_F(SupervisorRefTest, GetChildspecWhichChildAndCheckChildspecs) {
  start({}, {member_spec(&log, &live, {.name = "a", .shutdown = 2s}),
             member_spec(&log, &live,
                         {.name = "t", .restart = restart_type::temporary})});
  auto ref = sup_ref();
  // get_childspec: the spec as given, and it starts a copy of the child.
  auto a = done(ref.get_childspec("a"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->options.name, "a");
  EXPECT_EQ(a->shutdown(), caf::timespan{2s});
  ASSERT_TRUE(a->start);
  auto copy = *a;
  copy.options.name = "a2";
  auto first_a = live.at("a");
  EXPECT_TRUE(done(ref.start_child(copy)));
  EXPECT_TRUE(logged("at:root/sup/a2"));
  live["a"] = first_a; // (the copy registered itself under a's name)
  // A running temporary child's arguments are dropped (OTP too): its spec
  // has no start any more.
  auto t = done(ref.get_childspec("t"));
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->start);
  EXPECT_EQ(code_of_result(done(ref.get_childspec("nope")).error()),
            "no_such_child");
  // which_child: one entry of which_children.
  auto one = done(ref.which_child("a"));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->name, "a");
  EXPECT_EQ(one->state, child_state::running);
  EXPECT_EQ(one->actor, live.at("a"));
  EXPECT_EQ(code_of_result(done(ref.which_child("nope")).error()),
            "no_such_child");
  // check_childspecs: as start_child would check them; nothing starts.
  EXPECT_TRUE(
    done(ref.check_childspecs({member_spec(&log, &live, {.name = "x"}),
                               member_spec(&log, &live, {.name = "y"})})));
  EXPECT_EQ(code_of_result(done(ref.check_childspecs(
                                  {member_spec(&log, &live, {.name = "a"})}))
                             .error()),
            "child_exists");
  EXPECT_EQ(
    render(done(ref.check_childspecs({member_spec(&log, &live, {.name = "x"}),
                                      member_spec(&log, &live, {.name = "x"})}))
             .error()),
    "scaf::invalid_argument(root/sup: two children are named 'x')");
  EXPECT_EQ(code_of_result(done(ref.check_childspecs(
                                  {child({.name = "z"}, child_factory{})}))
                             .error()),
            "invalid_argument");
  EXPECT_FALSE(logged("start:x"));
  EXPECT_EQ(states(), (strings{"a:running", "t:running", "a2:running"}));
  stop_all();
}

TEST_F(SupervisorRefTest, CheckChildspecsNeedsNoSupervisor) {
  auto spec = [&](child_options opts) {
    return member_spec(&log, &live, std::move(opts));
  };
  EXPECT_FALSE(check_childspecs({spec({.name = "a"}), spec({.name = "b"})}));
  EXPECT_EQ(
    render(check_childspecs({spec({.name = "a"}), spec({.name = "a"})})),
    "scaf::invalid_argument(two children are named 'a')");
  EXPECT_TRUE(is(check_childspecs({spec({.name = "a", .shutdown = -1s})}),
                 errc::invalid_argument));
  // Significant children need a supervisor that shuts down by itself.
  auto significant = spec(
    {.name = "s", .restart = restart_type::transient, .significant = true});
  EXPECT_TRUE(is(check_childspecs({significant}), errc::invalid_argument));
  EXPECT_FALSE(check_childspecs({significant}, auto_shutdown::any_significant));
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorRefTest, StartReturnsWhatTheChildSaidWhenItCameUp) {
  start({}, {});
  auto ref = sup_ref();
  auto greeter = [](task_actor* self, int port) -> caf::behavior {
    self->defer_started();
    self->send(self, port);
    return {[self](int x) {
      self->signal_started(caf::make_message(std::string{"listening"}, x));
    }};
  };
  auto started =
    done(ref.start_child_with_info(child({.name = "srv"}, greeter, 8080)));
  ASSERT_TRUE(started) << render(started.error());
  EXPECT_TRUE(started->actor);
  EXPECT_EQ(started->name, "srv");
  ASSERT_TRUE((started->info.match_elements<std::string, int>()));
  EXPECT_EQ(started->info.get_as<std::string>(0), "listening");
  EXPECT_EQ(started->info.get_as<int>(1), 8080);
  // A child that says nothing: empty information.
  auto quiet = done(
    ref.start_child_with_info(member_spec(&log, &live, {.name = "quiet"})));
  ASSERT_TRUE(quiet);
  EXPECT_TRUE(quiet->info.empty());
  stop_all();
}

// -- where scaf followed OTP more closely -------------------------------------

TEST_F(SupervisorRefTest, OnlyTheSupervisorsOwnRestartsCount) {
  start({.intensity = 5}, {member_spec(&log, &live, {.name = "a"})});
  auto ref = sup_ref();
  ASSERT_TRUE(done(ref.terminate_child("a")));
  ASSERT_TRUE(done(ref.restart_child("a")));
  EXPECT_EQ(done(ref.which_child("a"))->restarts, 0u);
  fail("a");
  EXPECT_EQ(done(ref.which_child("a"))->restarts, 1u);
  stop_all();
}

TEST_F(SupervisorRefTest, AlreadyStartedCarriesTheRunningChild) {
  start({}, {member_spec(&log, &live, {.name = "a"}),
             member_spec(&log, &live, {.name = "b"})});
  auto ref = sup_ref();
  auto running = done(ref.start_child(member_spec(&log, &live, {.name = "a"})));
  ASSERT_FALSE(running);
  EXPECT_EQ(render(running.error()),
            "scaf::child_exists(root/sup: child 'a' is already started)");
  EXPECT_EQ(already_started(running.error()), live.at("a"));
  ASSERT_TRUE(done(ref.terminate_child("b")));
  auto present = done(ref.start_child(member_spec(&log, &live, {.name = "b"})));
  ASSERT_FALSE(present);
  EXPECT_TRUE(is(present.error(), errc::child_exists));
  EXPECT_FALSE(already_started(present.error()));
  EXPECT_FALSE(already_started(make_error(errc::no_such_child)));
  stop_all();
}

TEST_F(SupervisorRefTest, ChildThatDeclinesExplicitlyIsStoppedNotRestarted) {
  start({.intensity = 5}, {});
  auto ref = sup_ref();
  auto decliner = [](task_actor* self) -> caf::behavior {
    self->decline_start();
    return {[](int) {}};
  };
  auto declined = done(ref.start_child(child({.name = "d"}, decliner)));
  ASSERT_TRUE(declined) << render(declined.error());
  EXPECT_FALSE(*declined);
  EXPECT_EQ(states(), strings{"d:stopped"});
  // Once up there is nothing to decline: a failure, restarted as one.
  auto late = [](task_actor* self, event_log* events) -> caf::behavior {
    events->add("late:up");
    return {[self](int) { self->decline_start(); }};
  };
  auto up = done(ref.start_child(child({.name = "late"}, late, &log)));
  ASSERT_TRUE(up && *up);
  caf::anon_send(*up, 1);
  run();
  EXPECT_EQ(log.count("late:up"), 2u);
  EXPECT_EQ(done(ref.which_child("late"))->restarts, 1u);
  stop_all();
}

TEST_F(SupervisorRefTest, SupervisorChildrenWaitForTheirChildrenByDefault) {
  // OTP: shutdown defaults to infinity for a supervisor child, 5 s for a
  // worker.
  auto inner = child(
    {.name = "inner"},
    supervisor({}, {member_spec(&log, &live, {.name = "slow", .shutdown = 8s},
                                on_cancel_mode::stubborn)}));
  EXPECT_EQ(inner.shutdown(), caf::timespan::max());
  EXPECT_EQ(member_spec(&log, &live, {.name = "w"}).shutdown(),
            caf::timespan{5s});
  start({}, {inner});
  caf::anon_send(sup, cancel_atom::value, "stop");
  run();
  // 6 s on, the inner supervisor still waits for its stubborn child (a
  // 5 s default would have killed it, and the child with it).
  advance(6s);
  EXPECT_FALSE(sup_exit);
  EXPECT_EQ(states(), strings{"inner:running"});
  advance(3s); // the child's own 8 s end it
  ASSERT_TRUE(sup_exit);
  EXPECT_TRUE(is(*sup_exit, errc::cancelled)) << render(*sup_exit);
  stop_all();
}

TEST_F(SupervisorRefTest,
       ReferenceComesWithoutBlockingAndPlainActorsHearNothing) {
  start({}, {member_spec(&log, &live, {.name = "a"})});
  // From an actor: a handle and a continuation.
  std::vector<std::string> seen;
  size_t plain_received = 0;
  auto plain = sys.spawn([&](caf::event_based_actor* self) -> caf::behavior {
    self->set_default_handler(
      [&](caf::scheduled_actor*,
          caf::message_view&) -> caf::result<caf::message> {
        ++plain_received;
        return caf::sec::unexpected_message;
      });
    return {[](int) {}};
  });
  auto asker = sys.spawn([&](caf::event_based_actor* self) -> caf::behavior {
    supervisor_ref::request(sys, sup).then(
      self, [&, self](const caf::expected<supervisor_ref>& ref) {
        if (!ref) {
          seen.push_back(render(ref.error()));
          return;
        }
        ref->which_children().then(
          self, [&](const caf::expected<std::vector<child_info>>& xs) {
            seen.push_back(xs ? "children " + std::to_string(xs->size())
                              : render(xs.error()));
          });
      });
    supervisor_ref::request(sys, plain)
      .then(self, [&](const caf::expected<supervisor_ref>& ref) {
        seen.push_back(ref ? "a reference?" : render(ref.error()));
      });
    supervisor_ref::request(sys, root).then(
      self, [&](const caf::expected<supervisor_ref>& ref) {
        seen.push_back(ref ? "a reference?" : render(ref.error()));
      });
    return {continuation_handler()};
  });
  run();
  caf::anon_send_exit(asker, caf::exit_reason::user_shutdown);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (strings{"children 1",
                           "scaf::invalid_argument(the actor is no scaf "
                           "supervisor (a local actor that is no scope))",
                           "scaf::invalid_argument(the actor is no scaf "
                           "supervisor (it does not understand "
                           "supervisor_ref_atom))"}));
  // Nothing was sent to the plain actor: CAF had nothing to print.
  EXPECT_EQ(plain_received, 0u);
  caf::anon_send_exit(plain, caf::exit_reason::user_shutdown);
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

TEST_F(SupervisorRefTest, TheNewCallsAreMessagesToo) {
  start({}, {member_spec(&log, &live, {.name = "a"})});
  std::vector<std::string> seen;
  auto on_error = [&](caf::error& err) { seen.push_back(render(err)); };
  sys.spawn([&](caf::event_based_actor* self) {
    self->request(sup, caf::infinite, which_child_atom::value, std::string{"a"})
      .then([&](child_info& x) { seen.push_back("which " + x.name); },
            on_error);
    self
      ->request(sup, caf::infinite, get_childspec_atom::value, std::string{"a"})
      .then([&](child_spec& x) { seen.push_back("spec " + x.options.name); },
            on_error);
    self
      ->request(
        sup, caf::infinite, check_childspecs_atom::value,
        std::vector<child_spec>{member_spec(&log, &live, {.name = "a"})})
      .then([&] { seen.push_back("checked"); }, on_error);
    self
      ->request(sup, caf::infinite, start_child_with_info_atom::value,
                member_spec(&log, &live, {.name = "b"}))
      .then([&](started_child& x) { seen.push_back("started " + x.name); },
            on_error);
  });
  run();
  EXPECT_EQ(seen, (strings{"which a", "spec a",
                           "scaf::child_exists(root/sup: child 'a' is already "
                           "started)",
                           "started b"}));
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
  auto actor = actor_of(sup);
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
  auto actor = actor_of(sup);
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

namespace {

/// Fails in its behavior function, before it is up, every time after its
/// first start: a child caught in a restart loop.
caf::behavior looping_child(task_actor* self,
                            std::shared_ptr<std::atomic<int>> starts) {
  if (starts->fetch_add(1) > 0)
    self->quit(make_error(errc::invalid_argument, self->path(), "no config"));
  return {[self](int) { self->quit(make_error(errc::timeout)); }};
}

} // namespace

// OTP: hanging_restart_loop, on the real scheduler: while a child fails
// before it is up with no backoff, calls from a thread are answered.
TEST_F(ThreadedSupervisorRefTest, CallsAreAnsweredWhileAChildLoopsInRestarts) {
  auto owner = make_scope(sys, {.name = "svc"});
  auto starts = std::make_shared<std::atomic<int>>(0);
  auto spawned = owner.ref().spawn(
    {.name = "sup"},
    supervisor({.intensity = 100'000'000, .period = std::chrono::hours{1}},
               {child({.name = "base"}, idle_child),
                child({.name = "loop"}, looping_child, starts)}));
  auto actor = actor_of(spawned);
  ASSERT_TRUE(actor);
  auto ref = supervisor_ref::of(sys, actor);
  ASSERT_TRUE(ref) << render(ref.error());
  auto first = ref->which_child("loop").wait();
  ASSERT_TRUE(first && first->actor);
  caf::anon_send(first->actor, 1); // its first start ends: the loop begins
  while (starts->load() < 100)
    std::this_thread::sleep_for(1ms);
  // A bound that only a starved call reaches (the loop runs thousands of
  // attempts a second).
  constexpr auto bound = std::chrono::seconds{30};
  for (int round = 0; round < 20; ++round) {
    auto listed = ref->which_children().wait_for(bound);
    ASSERT_TRUE(listed && *listed) << "which_children starved";
    auto counted = ref->count_children().wait_for(bound);
    ASSERT_TRUE(counted && *counted) << "count_children starved";
    EXPECT_EQ((*counted)->specs, 2u);
    auto added =
      ref->start_child(child({.name = "x"}, idle_child)).wait_for(bound);
    ASSERT_TRUE(added && *added) << "start_child starved";
    auto removed = ref->terminate_child("x").wait_for(bound);
    ASSERT_TRUE(removed && *removed) << "terminate_child starved";
    ASSERT_TRUE(ref->delete_child("x").wait_for(bound));
  }
  auto looping = starts->load();
  EXPECT_GT(looping, 100);
  // Stopping the looping child ends the loop.
  ASSERT_TRUE(ref->terminate_child("loop").wait_for(bound));
  auto at_stop = starts->load();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(starts->load(), at_stop);
  owner.ref().cancel("the test is over");
  EXPECT_TRUE(owner.join().wait_for(bound));
}
