// Supervisors (scaf/supervisor.hpp): restart strategies, restart types,
// intensity, backoff and ordered shutdown, on CAF's deterministic scheduler
// (exact orders and times) and on the real scheduler under restart storms.
#include "scaf/supervisor.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include "supervisor_fixture.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

// -- restart strategies -------------------------------------------------------

TEST_F(SupervisorTest, OneForOneRestartsOnlyTheChildThatFailed) {
  start({.strategy = restart_strategy::one_for_one, .intensity = 5}, abc());
  EXPECT_EQ(lifecycle(log.events()),
            (strings{"start:a", "start:b", "start:c"}));
  log.add("--");
  fail("b");
  EXPECT_EQ(lifecycle(events_after("--")), (strings{"~b", "start:b"}));
  // b's second start, at the same path: a path names a place in the tree.
  EXPECT_EQ(log.count("at:root/sup/b"), 2u);
  EXPECT_FALSE(report->reason());
  caf::anon_send(root, cancel_atom::value, "done");
  run();
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest, LiveTreeShowsHowOftenEachChildWasRestarted) {
  start({.strategy = restart_strategy::one_for_one, .intensity = 5}, abc());
  fail("b");
  fail("b");
  fail("c");
  std::optional<tree_node> tree;
  sys.spawn([&](caf::event_based_actor* self) {
    self->request(sup, caf::infinite, tree_atom::value).then([&](tree_node& x) {
      tree = std::move(x);
    });
  });
  run();
  ASSERT_TRUE(tree);
  std::map<std::string, size_t> restarts;
  for (auto& child : tree->children)
    restarts[child.name] = child.restarts;
  EXPECT_EQ(restarts,
            (std::map<std::string, size_t>{{"a", 0}, {"b", 2}, {"c", 1}}));
  EXPECT_NE(to_text(*tree).find("  b  task  running  0 ms  restarted 2x\n"),
            std::string::npos)
    << to_text(*tree);
  EXPECT_EQ(nlohmann::json::parse(to_json(*tree))["children"][1]["restarts"],
            2);
  caf::anon_send(root, cancel_atom::value, "done");
  run();
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest,
       OneForAllStopsTheOthersInReverseOrderThenStartsAllInOrder) {
  start({.strategy = restart_strategy::one_for_all, .intensity = 5}, abc());
  log.add("--");
  fail("b");
  EXPECT_EQ(lifecycle(events_after("--")),
            (strings{"~b", "cancel:c", "~c", "cancel:a", "~a", "start:a",
                     "start:b", "start:c"}));
  EXPECT_EQ(log.count("cancel:c:scaf::cancelled(root/sup: restarting its "
                      "children)"),
            1u);
  EXPECT_FALSE(report->reason());
  caf::anon_send(root, cancel_atom::value, "done");
  run();
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest,
       RestForOneRestartsTheFailedChildAndTheOnesStartedAfterIt) {
  start({.strategy = restart_strategy::rest_for_one, .intensity = 5}, abc());
  log.add("--");
  fail("b");
  EXPECT_EQ(lifecycle(events_after("--")),
            (strings{"~b", "cancel:c", "~c", "start:b", "start:c"}));
  log.add("-- a");
  fail("a");
  EXPECT_EQ(lifecycle(events_after("-- a")),
            (strings{"~a", "cancel:c", "~c", "cancel:b", "~b", "start:a",
                     "start:b", "start:c"}));
  caf::anon_send(root, cancel_atom::value, "done");
  run();
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- restart types ------------------------------------------------------------

TEST_F(SupervisorTest, RestartTypesDecideWhoComesBack) {
  start({.intensity = 10},
        {member_spec(&log, &live, {.name = "perm"}),
         member_spec(&log, &live,
                     {.name = "trans", .restart = restart_type::transient}),
         member_spec(&log, &live,
                     {.name = "temp", .restart = restart_type::temporary})});
  finish("perm");  // permanent: back even after success
  finish("trans"); // transient: success is the end
  fail("temp");    // temporary: never back
  EXPECT_EQ(log.count("start:perm"), 2u);
  EXPECT_EQ(log.count("start:trans"), 1u);
  EXPECT_EQ(log.count("start:temp"), 1u);
  EXPECT_FALSE(report->reason());
  caf::anon_send(root, cancel_atom::value, "done");
  run();
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest, TransientChildComesBackAfterAFailure) {
  start({.intensity = 10},
        {member_spec(&log, &live,
                     {.name = "trans", .restart = restart_type::transient})});
  fail("trans");
  EXPECT_EQ(log.count("start:trans"), 2u);
  caf::anon_send(root, cancel_atom::value, "done");
  run();
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- intensity and backoff ----------------------------------------------------

TEST_F(SupervisorTest,
       TooManyRestartsStopEverythingInReverseAndFailTheSupervisor) {
  start(
    {.strategy = restart_strategy::one_for_one, .intensity = 2, .period = 5s},
    abc());
  auto obs = observe({{live.at("a"), "a"}, {sup, "sup"}, {root, "root"}});
  fail("b", 1);
  fail("b", 2);
  log.add("--");
  fail("b", 3); // the third restart within 5 s is one too many
  EXPECT_EQ(lifecycle(events_after("--")),
            (strings{"~b", "cancel:c", "~c", "cancel:a", "~a"}));
  EXPECT_EQ(log.count("start:b"), 3u);
  ASSERT_TRUE(is(report->reason(), errc::restart_limit))
    << render(report->reason());
  EXPECT_EQ(render(report->reason()),
            "scaf::restart_limit(root/sup: b ended with " +
              render(app_error(3, "b broke")) +
              "; restarting it would make 3 restarts within 5000 ms, more "
              "than the intensity 2)");
  EXPECT_LT(log.index_of("down:a"), log.index_of("down:sup"));
  EXPECT_LT(log.index_of("down:sup"), log.index_of("down:root"));
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest,
       ChildThatCannotBeSpawnedAtStartFailsTheSupervisorsStart) {
  bool armed = false;
  auto specs = abc();
  specs.insert(specs.begin() + 1,
               child({.name = "bomb"}, bomb_task, &log, copy_bomb{&armed}));
  armed = true; // from now on every spawn of "bomb" throws
  start(
    {.strategy = restart_strategy::one_for_one, .intensity = 5, .period = 5s},
    specs);
  // a was up; it is stopped, b and c never start, and the supervisor fails
  // naming the bomb and its error (OTP: failed_to_start_child), with no
  // restart.
  EXPECT_EQ(lifecycle(log.events()), (strings{"start:a", "cancel:a", "~a"}));
  ASSERT_TRUE(sup_exit);
  EXPECT_EQ(render(*sup_exit),
            "scaf::start_failed(root/sup: child 'bomb' failed to start: "
            "scaf::task_exception(root/sup/bomb: copy threw))");
  EXPECT_EQ(render(cause_of(*sup_exit)),
            "scaf::task_exception(root/sup/bomb: copy threw)");
  stop_all();
}

TEST_F(SupervisorTest, ChildThatCannotBeRespawnedUsesUpTheIntensity) {
  bool armed = false;
  auto specs = abc();
  specs.push_back(child({.name = "bomb"}, bomb_task, &log, copy_bomb{&armed}));
  start(
    {.strategy = restart_strategy::one_for_all, .intensity = 1, .period = 5s},
    specs);
  armed = true; // from now on every spawn of "bomb" throws
  log.add("--");
  fail("a"); // the group restart's spawn of the bomb fails: one restart more
  EXPECT_EQ(log.count("start:a"), 2u);
  ASSERT_TRUE(sup_exit) << testing::PrintToString(log.events());
  EXPECT_EQ(render(*sup_exit),
            "scaf::restart_limit(root/sup: bomb ended with "
            "scaf::task_exception(root/sup/bomb: copy threw); restarting it "
            "would make 2 restarts within 5000 ms, more than the intensity "
            "1)");
  stop_all();
}

TEST_F(SupervisorTest,
       InitialStartFailureStopsTheStartedChildrenInReverseAndFailsWithIt) {
  plan["c"] = {start_mode::fail};
  start({.intensity = 10},
        {planned_spec({.name = "a"}), planned_spec({.name = "b"}),
         planned_spec({.name = "c"}), planned_spec({.name = "d"})});
  EXPECT_EQ(lifecycle(log.events()), (strings{"start:a", "start:b", "cancel:b",
                                              "~b", "cancel:a", "~a"}));
  EXPECT_EQ(log.count("failed-to-start:c"), 1u); // never retried
  EXPECT_EQ(log.count("at:root/sup/d"), 0u);
  ASSERT_TRUE(sup_exit);
  EXPECT_TRUE(is(*sup_exit, errc::start_failed)) << render(*sup_exit);
  EXPECT_EQ(cause_of(*sup_exit), app_error(9, "c could not start"));
  stop_all();
}

TEST_F(SupervisorTest, ChildEndingWellBeforeItIsUpDeclinesAndIsNotRestarted) {
  plan["b"] = {start_mode::decline};
  plan["t"] = {start_mode::decline};
  start({.intensity = 10},
        {planned_spec({.name = "a"}), planned_spec({.name = "b"}),
         planned_spec({.name = "t", .restart = restart_type::temporary}),
         planned_spec({.name = "c"})});
  // OTP's ignore: the start goes on; b is kept as stopped, the temporary t
  // is forgotten, and neither is restarted.
  EXPECT_EQ(lifecycle(log.events()), (strings{"start:a", "start:c"}));
  EXPECT_EQ(states(), (strings{"a:running", "b:stopped", "c:running"}));
  EXPECT_FALSE(sup_exit);
  advance(10s);
  EXPECT_EQ(log.count("declined:b"), 1u);
  // It can be started again by hand.
  auto again = sup_ref().restart_child("b");
  run();
  ASSERT_TRUE(again.ready());
  EXPECT_TRUE(again.get() && *again.get()) << render(again.get().error());
  EXPECT_EQ(states(), (strings{"a:running", "b:running", "c:running"}));
  stop_all();
}

TEST_F(SupervisorTest, RestartsSpreadOverMoreThanThePeriodAreForgiven) {
  start({.intensity = 1, .period = 5s}, abc());
  for (int i = 0; i < 4; ++i) {
    fail("b");
    advance(5s);
  }
  EXPECT_EQ(log.count("start:b"), 5u);
  EXPECT_FALSE(report->reason()) << render(report->reason());
  caf::anon_send(root, cancel_atom::value, "done");
  run();
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest, BackoffDelaysRestartsAndDoublesForEachRestartOfAChild) {
  start(
    {.intensity = 10, .period = 10s, .backoff = 100ms, .max_backoff = 150ms},
    abc());
  fail("b");
  advance(99ms);
  EXPECT_EQ(log.count("start:b"), 1u);
  advance(1ms);
  EXPECT_EQ(log.count("start:b"), 2u);
  fail("b"); // b's second restart: 200 ms, capped at 150 ms
  advance(149ms);
  EXPECT_EQ(log.count("start:b"), 2u);
  advance(1ms);
  EXPECT_EQ(log.count("start:b"), 3u);
  caf::anon_send(root, cancel_atom::value, "done");
  run();
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest, OneForOneChildrenWaitForTheirOwnBackoffsTogether) {
  start({.intensity = 10, .period = 10s, .backoff = 100ms}, abc());
  fail("b"); // b comes back after 100 ms
  advance(50ms);
  fail("c"); // c's own backoff runs meanwhile, not after b's
  advance(50ms);
  EXPECT_EQ(log.count("start:b"), 2u);
  EXPECT_EQ(log.count("start:c"), 1u);
  EXPECT_EQ(states(), (strings{"a:running", "b:running", "c:restarting"}));
  advance(49ms);
  EXPECT_EQ(log.count("start:c"), 1u);
  advance(1ms);
  EXPECT_EQ(log.count("start:c"), 2u);
  EXPECT_LT(nth_index(log, "start:b", 2), nth_index(log, "start:c", 2));
  caf::anon_send(root, cancel_atom::value, "done");
  run();
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- shutdown -----------------------------------------------------------------

TEST_F(SupervisorTest, ShutdownStopsOneChildAtATimeInReverseWithItsOwnTimeout) {
  start({}, {member_spec(&log, &live, {.name = "a"}),
             member_spec(&log, &live, {.name = "b", .shutdown = 100ms},
                         on_cancel_mode::stubborn),
             member_spec(&log, &live, {.name = "c", .shutdown = 200ms},
                         on_cancel_mode::stubborn)});
  auto obs = observe({{sup, "sup"}, {root, "root"}});
  run();
  caf::anon_send(root, cancel_atom::value, "maintenance");
  run();
  EXPECT_EQ(log.count_prefix("cancel:c:"), 1u);
  EXPECT_EQ(log.count_prefix("cancel:b:"), 0u); // waits for c
  advance(199ms);
  EXPECT_EQ(log.count("~c"), 0u);
  advance(1ms); // c's 200 ms: killed
  EXPECT_EQ(log.count("~c"), 1u);
  EXPECT_EQ(log.count_prefix("cancel:b:"), 1u);
  EXPECT_EQ(log.count_prefix("cancel:a:"), 0u);
  advance(100ms); // b's 100 ms: killed, then a stops at once
  EXPECT_EQ(lifecycle(log.events()),
            (strings{"start:a", "start:b", "start:c", "cancel:c", "~c",
                     "cancel:b", "~b", "cancel:a", "~a"}));
  EXPECT_LT(log.index_of("~a"), log.index_of("down:sup"));
  EXPECT_LT(log.index_of("down:sup"), log.index_of("down:root"));
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: maintenance)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest, ZeroShutdownKillsTheChildWithoutACancel) {
  start({}, {member_spec(&log, &live, {.name = "a"}),
             member_spec(&log, &live, {.name = "brutal", .shutdown = 0s})});
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  EXPECT_EQ(log.count_prefix("cancel:brutal:"), 0u);
  EXPECT_EQ(log.count("~brutal"), 1u);
  EXPECT_LT(log.index_of("~brutal"), log.index_of("~a"));
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest, OneMessageFromAnywhereCancelsTheSupervisor) {
  start({}, abc());
  caf::anon_send(sup, cancel_atom::value, "maintenance");
  run();
  EXPECT_EQ(lifecycle(events_after("start:c")),
            (strings{"cancel:c", "~c", "cancel:b", "~b", "cancel:a", "~a"}));
  EXPECT_EQ(log.count("cancel:a:scaf::cancelled(root/sup: maintenance)"), 1u);
  // Cancelling the supervisor is not a failure of its scope, which keeps
  // running until it is cancelled itself.
  EXPECT_FALSE(report->reason()) << render(report->reason());
  caf::anon_send(root, cancel_atom::value, "done");
  run();
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: done)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest, RestartsAndGiveUpsAreLoggedWithPathCountAndReason) {
  std::ostringstream out;
  auto& lg = logger();
  auto level = lg.level();
  lg.sinks().push_back(std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  lg.set_level(spdlog::level::info);
  start({.intensity = 1, .period = 10s}, abc());
  fail("b");
  fail("b");
  lg.sinks().pop_back();
  lg.set_level(level);
  auto text = out.str();
  EXPECT_NE(text.find("root/sup/b: restarting (1 of at most 1 within 10000 "
                      "ms): ended with error(1, 'app'"),
            std::string::npos)
    << text;
  EXPECT_NE(text.find("root/sup: giving up: scaf::restart_limit(root/sup: b "
                      "ended with"),
            std::string::npos)
    << text;
}

TEST_F(SupervisorTest, InvalidSpecsFailTheSupervisorBeforeAnythingStarts) {
  start({}, {member_spec(&log, &live, {.name = "a"}),
             member_spec(&log, &live, {.name = "a"})});
  EXPECT_EQ(log.count_prefix("start:"), 0u);
  EXPECT_EQ(render(report->reason()),
            "scaf::invalid_argument(root/sup: two children are named 'a')");
  // The same name rules as a scope's children (scaf/names.hpp).
  start({}, {member_spec(&log, &live, {.name = "a/b"})});
  EXPECT_EQ(log.count_prefix("start:"), 0u);
  EXPECT_EQ(render(report->reason()),
            "scaf::invalid_argument(root/sup: the child name 'a/b' contains "
            "'/', which separates the elements of a path)");
  start({.period = 0s}, abc());
  EXPECT_EQ(log.count_prefix("start:"), 0u);
  EXPECT_EQ(render(report->reason()),
            "scaf::invalid_argument(root/sup: the restart period must be "
            "positive)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest, CancelDuringABackoffRestartsNothing) {
  start({.intensity = 10, .period = 10s, .backoff = 100ms}, abc());
  fail("b");
  advance(50ms);
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  advance(100ms);
  EXPECT_EQ(log.count("start:b"), 1u);
  EXPECT_EQ(lifecycle(events_after("~b")),
            (strings{"cancel:c", "~c", "cancel:a", "~a"}));
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: stop)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest, AbortedParentScopeStopsEverythingWithoutRestarts) {
  start({.strategy = restart_strategy::one_for_all, .intensity = 10}, abc());
  caf::anon_send(root, abort_atom::value);
  run();
  EXPECT_EQ(log.count("start:a"), 1u);
  EXPECT_EQ(log.count("start:b"), 1u);
  EXPECT_EQ(log.count("start:c"), 1u);
  EXPECT_EQ(log.count("~a") + log.count("~b") + log.count("~c"), 3u);
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: aborted)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest, ChildFailingBeforeItIsUpHoldsBackTheOnesAfterIt) {
  plan["b"] = {start_mode::up, start_mode::fail};
  start({.strategy = restart_strategy::rest_for_one, .intensity = 5},
        {planned_spec({.name = "a"}), planned_spec({.name = "b"}),
         planned_spec({.name = "c"})});
  log.add("--");
  fail("a"); // restarts a, b and c; b's second start fails
  // c depends on b: it starts again only once b is up, after b's retry.
  EXPECT_EQ(log.count("failed-to-start:b"), 1u);
  EXPECT_EQ(log.count("at:root/sup/b"), 2u); // its first and third start
  EXPECT_EQ(log.count("at:root/sup/c"), 2u);
  EXPECT_LT(log.index_of("failed-to-start:b"),
            nth_index(log, "at:root/sup/b", 2));
  EXPECT_LT(nth_index(log, "at:root/sup/b", 2),
            nth_index(log, "at:root/sup/c", 2));
  EXPECT_FALSE(sup_exit);
  stop_all();
}

TEST_F(SupervisorTest, NestedSupervisorIsUpOnlyOnceAllItsChildrenAre) {
  start({}, {child({.name = "inner"},
                   supervisor({}, {member_spec(&log, &live, {.name = "x"}),
                                   member_spec(&log, &live, {.name = "y"})})),
             member_spec(&log, &live, {.name = "z"})});
  EXPECT_EQ(lifecycle(log.events()),
            (strings{"start:x", "start:y", "start:z"}));
  caf::anon_send(root, cancel_atom::value, "done");
  run();
  EXPECT_EQ(lifecycle(events_after("start:z")),
            (strings{"cancel:z", "~z", "cancel:y", "~y", "cancel:x", "~x"}));
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorTest, SupervisorsNest) {
  start({.strategy = restart_strategy::one_for_one, .intensity = 5},
        {member_spec(&log, &live, {.name = "a"}),
         child({.name = "inner"},
               supervisor(
                 {.strategy = restart_strategy::one_for_all, .intensity = 0},
                 {member_spec(&log, &live, {.name = "x"}),
                  member_spec(&log, &live, {.name = "y"})}))});
  EXPECT_EQ(log.count("at:root/sup/inner/x"), 1u);
  // The inner supervisor gives up at the first failure; the outer restarts
  // it, and with it x and y.
  fail("y");
  EXPECT_EQ(log.count("at:root/sup/inner/x"), 2u);
  EXPECT_EQ(log.count("at:root/sup/inner/y"), 2u);
  EXPECT_EQ(log.count("start:a"), 1u);
  EXPECT_FALSE(report->reason()) << render(report->reason());
  caf::anon_send(root, cancel_atom::value, "done");
  run();
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- a supervisor's own initialisation ----------------------------------------

TEST_F(SupervisorTest, InitRunsAtEveryStartOfTheSupervisor) {
  int inits = 0;
  auto inner =
    supervisor([&](scope&) -> caf::expected<std::optional<supervisor_spec>> {
      ++inits;
      return supervisor_spec{{.intensity = 0},
                             {member_spec(&log, &live, {.name = "x"})}};
    });
  start({.intensity = 5}, {child({.name = "inner"}, inner)});
  EXPECT_EQ(inits, 1);
  fail("x"); // inner gives up; its parent restarts it, and it inits again
  EXPECT_EQ(inits, 2);
  EXPECT_EQ(log.count("start:x"), 2u);
  stop_all();
}

TEST_F(SupervisorTest, SupervisorWhoseInitDeclinesIsStoppedNotRestarted) {
  auto declines =
    supervisor([](scope&) -> caf::expected<std::optional<supervisor_spec>> {
      return std::nullopt;
    });
  start({.intensity = 5}, {child({.name = "inner"}, declines),
                           member_spec(&log, &live, {.name = "a"})});
  EXPECT_EQ(states(), (strings{"inner:stopped", "a:running"}));
  EXPECT_FALSE(sup_exit);
  stop_all();
}

TEST_F(SupervisorTest, SupervisorWhoseInitFailsFailsItsParentsStart) {
  auto fails =
    supervisor([](scope& s) -> caf::expected<std::optional<supervisor_spec>> {
      return make_error(errc::invalid_argument, s.path(), "no config");
    });
  start({.intensity = 5}, {member_spec(&log, &live, {.name = "a"}),
                           child({.name = "inner"}, fails)});
  ASSERT_TRUE(sup_exit);
  EXPECT_EQ(render(*sup_exit),
            "scaf::start_failed(root/sup: child 'inner' failed to start: "
            "scaf::invalid_argument(root/sup/inner: no config))");
  EXPECT_EQ(lifecycle(log.events()), (strings{"start:a", "cancel:a", "~a"}));
  stop_all();
}

// -- significant children and auto shutdown ----------------------------------

TEST_F(SupervisorTest, SignificantChildEndingWellEndsTheSupervisorInReverse) {
  start(
    {.shutdown_when = auto_shutdown::any_significant},
    {member_spec(&log, &live, {.name = "a"}),
     member_spec(
       &log, &live,
       {.name = "b", .restart = restart_type::transient, .significant = true}),
     member_spec(&log, &live, {.name = "c"})});
  log.add("--");
  finish("b");
  EXPECT_EQ(lifecycle(events_after("--")),
            (strings{"~b", "cancel:c", "~c", "cancel:a", "~a"}));
  // It ended by itself, successfully: its parent goes on.
  ASSERT_TRUE(sup_exit);
  EXPECT_FALSE(*sup_exit) << render(*sup_exit);
  stop_all();
  EXPECT_EQ(report->status, scope_status::cancelled);
}

TEST_F(SupervisorTest, FailingSignificantTransientChildIsRestartedNotAnEnd) {
  start(
    {.intensity = 5, .shutdown_when = auto_shutdown::any_significant},
    {member_spec(
       &log, &live,
       {.name = "b", .restart = restart_type::transient, .significant = true}),
     member_spec(&log, &live, {.name = "c"})});
  fail("b");
  EXPECT_EQ(log.count("start:b"), 2u);
  EXPECT_FALSE(sup_exit);
  // Stopped through the supervisor, it ends nothing either.
  auto stopped = sup_ref().terminate_child("b");
  run();
  EXPECT_TRUE(stopped.get());
  EXPECT_FALSE(sup_exit);
  EXPECT_EQ(states(), (strings{"b:stopped", "c:running"}));
  stop_all();
}

TEST_F(SupervisorTest, AllSignificantWaitsForTheLastSignificantChild) {
  child_options significant{
    .name = {}, .restart = restart_type::temporary, .significant = true};
  auto x = significant;
  x.name = "x";
  auto y = significant;
  y.name = "y";
  start({.shutdown_when = auto_shutdown::all_significant},
        {member_spec(&log, &live, x), member_spec(&log, &live, y),
         member_spec(&log, &live, {.name = "z"})});
  // A temporary child's end counts, whatever its reason.
  fail("x");
  EXPECT_FALSE(sup_exit);
  EXPECT_EQ(states(), (strings{"y:running", "z:running"}));
  finish("y");
  ASSERT_TRUE(sup_exit);
  EXPECT_FALSE(*sup_exit) << render(*sup_exit);
  EXPECT_EQ(log.count("~z"), 1u);
  stop_all();
}

TEST_F(SupervisorTest,
       SignificantChildrenThatCannotEndTheirSupervisorAreRefused) {
  auto significant_permanent =
    member_spec(&log, &live, {.name = "p", .significant = true});
  start({.shutdown_when = auto_shutdown::any_significant},
        {significant_permanent});
  ASSERT_TRUE(sup_exit);
  EXPECT_EQ(render(*sup_exit),
            "scaf::invalid_argument(root/sup: child 'p' is significant and "
            "permanent: only a transient or temporary child can end its "
            "supervisor)");
  stop_all();
  sup_exit.reset();
  start({}, {member_spec(&log, &live,
                         {.name = "t",
                          .restart = restart_type::transient,
                          .significant = true})});
  ASSERT_TRUE(sup_exit);
  EXPECT_TRUE(is(*sup_exit, errc::invalid_argument)) << render(*sup_exit);
  EXPECT_EQ(log.count("start:t"), 0u);
  stop_all();
}

// -- giving up, seen from a parent supervisor ---------------------------------

TEST_F(SupervisorTest, TransientSupervisorThatGaveUpIsNotRestartedByItsParent) {
  auto inner =
    supervisor({.intensity = 0}, {member_spec(&log, &live, {.name = "x"})});
  start({.intensity = 5},
        {child({.name = "inner", .restart = restart_type::transient}, inner),
         member_spec(&log, &live, {.name = "a"})});
  fail("x"); // inner gives up at once: for its parent, a normal end
  EXPECT_EQ(log.count("start:x"), 1u);
  EXPECT_EQ(states(), (strings{"inner:stopped", "a:running"}));
  EXPECT_FALSE(sup_exit);
  stop_all();
}

TEST_F(SupervisorTest, SignificantSupervisorGivingUpEndsItsParentToo) {
  auto inner =
    supervisor({.intensity = 0}, {member_spec(&log, &live, {.name = "x"})});
  start({.intensity = 5, .shutdown_when = auto_shutdown::any_significant},
        {member_spec(&log, &live, {.name = "a"}),
         child({.name = "inner",
                .restart = restart_type::transient,
                .significant = true},
               inner)});
  fail("x");
  ASSERT_TRUE(sup_exit);
  EXPECT_FALSE(*sup_exit) << render(*sup_exit);
  EXPECT_EQ(log.count("~a"), 1u);
  stop_all();
}

// -- backoff ------------------------------------------------------------------

TEST_F(SupervisorTest, BackoffStartsOverOnceTheChildRanLongEnough) {
  start({.intensity = 10,
         .period = 10s,
         .backoff = 100ms,
         .max_backoff = 1s,
         .backoff_reset = 2s},
        abc());
  fail("b");
  advance(100ms); // first: 100 ms
  fail("b");
  advance(199ms); // second: 200 ms
  EXPECT_EQ(log.count("start:b"), 2u);
  advance(1ms);
  EXPECT_EQ(log.count("start:b"), 3u);
  advance(2s); // b has run for 2 s: the next delay is 100 ms again
  fail("b");
  advance(99ms);
  EXPECT_EQ(log.count("start:b"), 3u);
  advance(1ms);
  EXPECT_EQ(log.count("start:b"), 4u);
  stop_all();
}

TEST_F(SupervisorTest, JitterAddsUpToItsFractionOfTheDelay) {
  start({.intensity = 100,
         .period = 10s,
         .backoff = 100ms,
         .max_backoff = 100ms,
         .backoff_jitter = 0.5},
        abc());
  size_t on_time = 0; // restarts with less than 1 ms of jitter
  for (size_t i = 2; i <= 20; ++i) {
    fail("b");
    advance(99ms);
    EXPECT_EQ(log.count("start:b"), i - 1);
    advance(1ms);
    if (log.count("start:b") == i)
      ++on_time;
    advance(50ms); // 150 ms: the delay plus half of it at most
    EXPECT_EQ(log.count("start:b"), i);
  }
  // Jitter there is: 19 delays all within 1% of 100 ms would be a 0.02^19
  // coincidence.
  EXPECT_LT(on_time, 19u);
  stop_all();
}

// -- on the real scheduler ----------------------------------------------------

namespace {

using SupervisorStressTest = threaded_test;

/// Crashes right after it is up; counts its starts.
caf::behavior crasher(task_actor* self, std::atomic<int>* starts) {
  ++*starts;
  self->send(self, fail_atom::value, app_error(7, "crash"));
  return {[self](fail_atom, caf::error& err) { self->quit(std::move(err)); }};
}

} // namespace

TEST_F(SupervisorStressTest,
       ChildrenStartOneAfterAnotherEachOnceThePreviousIsUp) {
  // OTP's start order: a child starts only once the one before it is up, so
  // later children may depend on earlier ones.
  for (int it = 0; it < 20; ++it) {
    event_log log;
    live_map live;
    std::vector<child_spec> specs;
    for (auto name : {"a", "b", "c", "d", "e"})
      specs.push_back(member_spec(&log, &live, {.name = name}));
    auto svc = spawn_scope(sys, {.name = "svc"}, [&](scope& s) {
      s.spawn({.name = "sup"}, supervisor({}, specs));
    });
    {
      caf::scoped_actor self{sys};
      self->monitor(svc);
      // Up when e is up: wait for its start, then cancel.
      while (log.count("start:e") == 0)
        std::this_thread::sleep_for(1ms);
      caf::anon_send(svc, cancel_atom::value, "seen enough");
      self->receive([](caf::down_msg&) {});
    }
    auto starts = log.events();
    starts.erase(std::remove_if(starts.begin(), starts.end(),
                                [](const std::string& e) {
                                  return e.rfind("start:", 0) != 0;
                                }),
                 starts.end());
    ASSERT_EQ(starts,
              (strings{"start:a", "start:b", "start:c", "start:d", "start:e"}))
      << "iteration " << it;
    live.clear();
    ASSERT_EQ(sys.registry().running(), baseline) << "iteration " << it;
  }
}

TEST_F(SupervisorStressTest, ChildThatEndsAsSoonAsItIsUpWasStartedNotFailed) {
  // The child comes up and ends in one step, on another thread, maybe before
  // its supervisor has gone on from spawning it: that is a crash of a
  // started child (restarted until the intensity runs out), never a failed
  // start (which would fail the supervisor with the child's own error).
  // Each of the 10 first starts is a chance for the race: before the fix
  // about one iteration in 200 failed here (2 cores, release build).
  constexpr int children = 10;
  for (int it = 0; it < 500; ++it) {
    std::atomic<int> starts{0};
    auto up_then_gone = [&starts](task_actor* self) -> caf::behavior {
      ++starts;
      self->defer_started();
      self->signal_started();
      self->quit(app_error(7, "gone"));
      return {[](finish_atom) {}};
    };
    std::vector<child_spec> specs;
    for (int i = 0; i < children; ++i) {
      auto name = std::string{"c"};
      name += std::to_string(i);
      specs.push_back(child({.name = std::move(name)}, up_then_gone));
    }
    auto result = run(sys, [&](scope& s) {
      s.spawn({.name = "sup"},
              supervisor({.intensity = children, .period = 1h}, specs));
    });
    ASSERT_FALSE(result);
    ASSERT_TRUE(is(result.error(), errc::restart_limit))
      << "iteration " << it << ": " << render(result.error());
    ASSERT_GT(starts.load(), children) << "iteration " << it;
  }
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorStressTest, RestartStormEndsAtTheIntensityWithNothingLeft) {
  std::atomic<int> starts{0};
  auto result = run(sys, [&](scope& s) {
    s.spawn({.name = "sup"},
            supervisor(
              {.strategy = restart_strategy::one_for_all,
               .intensity = 500,
               .period = 1h},
              {child({.name = "crasher"}, crasher, &starts),
               child({.name = "bystander"}, [](task_actor*) -> caf::behavior {
                 return {[](finish_atom) {}};
               })}));
  });
  ASSERT_FALSE(result);
  EXPECT_TRUE(is(result.error(), errc::restart_limit))
    << render(result.error());
  EXPECT_EQ(starts.load(), 501);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(SupervisorStressTest,
       RandomFailuresInNestedSupervisorsLeaveNothingBehind) {
  // Every third start of a flaky child fails at once; cancels land at random
  // moments: during starts, restarts, backoffs and stop sequences.
  std::mt19937 rng{2026};
  for (int it = 0; it < 30; ++it) {
    std::atomic<int> alive{0};
    std::atomic<int> starts{0};
    auto flaky = [&alive, &starts](task_actor* self) -> caf::behavior {
      ++alive;
      self->attach_functor([&alive] { --alive; });
      if (starts++ % 3 == 0)
        self->quit(app_error(1, "flaky"));
      return {[](finish_atom) {}};
    };
    auto pick = [&rng] { return static_cast<restart_strategy>(rng() % 3); };
    std::vector<child_spec> inner;
    for (char name : {'w', 'x', 'y', 'z'})
      inner.push_back(child({.name = std::string(1, name)}, flaky));
    auto inner_opts =
      supervisor_options{.strategy = pick(),
                         .intensity = 50,
                         .backoff = std::chrono::microseconds{rng() % 500}};
    auto outer_opts = supervisor_options{.strategy = pick(), .intensity = 20};
    auto svc = spawn_scope(sys, {.name = "svc", .grace = 10s}, [&](scope& s) {
      s.spawn({.name = "sup"},
              supervisor(outer_opts, {child({.name = "solo"}, flaky),
                                      child({.name = "inner"},
                                            supervisor(inner_opts, inner)),
                                      child({.name = "last"}, flaky)}));
    });
    std::this_thread::sleep_for(std::chrono::microseconds{rng() % 3000});
    {
      caf::scoped_actor self{sys};
      self->monitor(svc);
      caf::anon_send(svc, cancel_atom::value, "iteration over");
      self->receive([](caf::down_msg&) {});
    }
    ASSERT_EQ(sys.registry().running(), baseline) << "iteration " << it;
    ASSERT_EQ(alive.load(), 0) << "iteration " << it;
  }
}
