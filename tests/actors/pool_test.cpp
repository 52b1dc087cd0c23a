// Tests of scaf/pool.hpp: worker pools (OTP's simple_one_for_one), written
// case by case from OTP's supervisor_SUITE, on CAF's deterministic scheduler,
// then with ten thousand workers on the real one.
#include "scaf/pool.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "supervisor_fixture.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

namespace {

/// A pool worker for `job`, whose starts follow `plan[job]` as `planned`.
caf::behavior pooled(traced_task* self, event_log* log, live_map* live,
                     start_plan* plan, std::string job) {
  return planned(self, log, live, std::move(job), plan);
}

/// A pool worker that logs "cancel:<name>" and quits `delay` after its
/// cancel; never, if `delay` is `caf::timespan::max()`.
caf::behavior slow_to_stop(traced_task* self, event_log* log, std::string name,
                           caf::timespan delay) {
  self->state.log = log;
  self->state.name = name;
  self->on_cancel([=](const caf::error&) {
    log->add("cancel:" + name);
    if (delay != caf::timespan::max())
      self->delayed_send(self, delay, finish_atom::value);
  });
  return {[=](finish_atom) { self->quit(); }};
}

/// "j<i>" (built in steps: GCC 12 warns falsely on `"j" + to_string(i)`).
std::string job(int i) {
  std::string result = "j";
  result += std::to_string(i);
  return result;
}

class PoolTest : public SupervisorTest {
protected:
  /// Runs a pool "sup" of `pooled` workers named "w-N".
  void start_pool(supervisor_options opts, child_options workers = {}) {
    if (workers.name.empty())
      workers.name = "w";
    start(pool(std::move(opts), worker<std::string>(std::move(workers), pooled,
                                                    &log, &live, &plan)));
  }

  pool_ref<std::string> workers() {
    auto ref = pool_ref<std::string>::of(sup_ref());
    EXPECT_TRUE(ref) << render(ref.error());
    return ref ? *ref : pool_ref<std::string>{};
  }

  /// Runs the call's handle to its end and returns the result.
  template <class T>
  caf::expected<T> done(handle<T> h) {
    run();
    if (!h.ready())
      return make_error(errc::timeout, "test", "the call did not resolve");
    return h.get();
  }

  caf::expected<caf::actor> start_worker(std::string job) {
    return done(workers().start_child(std::move(job)));
  }

  /// The counts as "specs/active/supervisors/workers".
  std::string counts() {
    auto x = done(sup_ref().count_children());
    if (!x)
      return render(x.error());
    return std::to_string(x->specs) + "/" + std::to_string(x->active) + "/" +
           std::to_string(x->supervisors) + "/" + std::to_string(x->workers);
  }

  /// The pool's end, rendered; "running" while it runs.
  std::string pool_end() {
    return sup_exit ? render_end(*sup_exit) : "running";
  }

  bool logged(const std::string& event) const {
    return log.index_of(event) >= 0;
  }

  static std::string render_end(const caf::error& x) {
    return x ? render(x) : "success";
  }
};

// -- starting workers
// ----------------------------------------------------------

// OTP: child_adm_simple (start), simple_one_for_one.
TEST_F(PoolTest, PoolStartsEmptyAndEachWorkerRunsWithItsOwnArguments) {
  start_pool({});
  EXPECT_EQ(counts(), "1/0/0/0");
  EXPECT_EQ(states(), strings{});
  auto a = start_worker("a");
  auto b = start_worker("b");
  ASSERT_TRUE(a && *a);
  ASSERT_TRUE(b && *b);
  EXPECT_EQ(*a, live.at("a"));
  EXPECT_EQ(*b, live.at("b"));
  EXPECT_EQ(lifecycle(log.events()), (strings{"start:a", "start:b"}));
  EXPECT_TRUE(logged("at:root/sup/w-1"));
  EXPECT_TRUE(logged("at:root/sup/w-2"));
  EXPECT_EQ(states(), (strings{"w-1:running", "w-2:running"}));
  EXPECT_EQ(counts(), "1/2/0/2");
  stop_all();
}

// OTP: simple_one_for_one, simple_one_for_one_extra.
TEST_F(PoolTest, WorkerIsRestartedOnItsOwnWithItsArgumentsWithinTheIntensity) {
  start_pool({.intensity = 2});
  ASSERT_TRUE(start_worker("a"));
  ASSERT_TRUE(start_worker("b"));
  auto first_a = live.at("a");
  auto b = live.at("b");
  fail("a");
  // Only a came back, with its argument and its name.
  EXPECT_NE(live.at("a"), first_a);
  EXPECT_EQ(live.at("b"), b);
  EXPECT_GT(nth_index(log, "at:root/sup/w-1", 2), 0);
  EXPECT_EQ(log.count_prefix("cancel:b:"), 0u);
  EXPECT_EQ(counts(), "1/2/0/2");
  auto children = done(sup_ref().which_children());
  ASSERT_TRUE(children);
  ASSERT_EQ(children->size(), 2u);
  EXPECT_EQ((*children)[0].restarts, 1u);
  EXPECT_EQ((*children)[1].restarts, 0u);
  // Restarts of all workers count toward the pool's intensity.
  fail("b");
  fail("a");
  EXPECT_TRUE(sup_exit && is(*sup_exit, errc::restart_limit)) << pool_end();
  // (Its failure failed "root" as well: nothing is left.)
  EXPECT_EQ(sys.registry().running(), baseline);
  stop_all();
}

// OTP: sup_start_child_returns_error_simple.
TEST_F(PoolTest, WorkerThatFailsToStartGivesItsErrorAndIsNotKept) {
  start_pool({});
  plan["x"] = {start_mode::fail};
  auto x = start_worker("x");
  ASSERT_FALSE(x);
  EXPECT_EQ(render(x.error()), render(app_error(9, "x could not start")));
  EXPECT_EQ(counts(), "1/0/0/0");
  EXPECT_EQ(pool_end(), "running");
  stop_all();
}

// OTP: sup_start_ignore_*_start_child_simple,
// simple_one_for_one_restart_ignore.
TEST_F(PoolTest, WorkerThatDeclinesIsForgottenAtStartAndAtRestart) {
  start_pool({.intensity = 5});
  plan["x"] = {start_mode::decline};
  auto x = start_worker("x");
  ASSERT_TRUE(x);
  EXPECT_FALSE(*x);
  EXPECT_EQ(counts(), "1/0/0/0");
  plan["y"] = {start_mode::up, start_mode::decline};
  ASSERT_TRUE(start_worker("y"));
  EXPECT_EQ(counts(), "1/1/0/1");
  fail("y");
  EXPECT_TRUE(logged("declined:y"));
  EXPECT_EQ(states(), strings{});
  EXPECT_EQ(counts(), "1/0/0/0");
  EXPECT_EQ(pool_end(), "running");
  stop_all();
}

// OTP: simple_one_for_one_escalation.
TEST_F(PoolTest, WorkerWhoseRestartsKeepFailingEscalates) {
  start_pool({.intensity = 4});
  ASSERT_TRUE(start_worker("a"));
  ASSERT_TRUE(start_worker("b"));
  plan["a"] = {start_mode::fail, start_mode::fail, start_mode::fail,
               start_mode::fail, start_mode::fail};
  fail("a");
  // Each failed attempt counted: the crash and three failed restarts are
  // allowed, the fourth failed restart is one too many.
  EXPECT_EQ(log.count_prefix("failed-to-start:a"), 4u);
  ASSERT_TRUE(sup_exit && is(*sup_exit, errc::restart_limit)) << pool_end();
  EXPECT_TRUE(logged("~b"));
  stop_all();
}

// -- admin calls
// -----------------------------------------------------------------

// OTP: child_adm_simple, which_children_simple_one_for_one.
TEST_F(PoolTest, WorkersAreStoppedByActorOrByTheirName) {
  start_pool({});
  auto a = start_worker("a");
  ASSERT_TRUE(a && *a);
  ASSERT_TRUE(done(workers().terminate_child(*a)));
  EXPECT_TRUE(logged("~a"));
  EXPECT_EQ(counts(), "1/0/0/0");
  // Again, now that it has ended: fine, as in OTP.
  EXPECT_TRUE(done(workers().terminate_child(*a)));
  // A running actor that is none of the pool's workers is left alone.
  auto stranger = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](finish_atom) {}};
  });
  auto refused = done(workers().terminate_child(stranger));
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), errc::no_such_child))
    << render(refused.error());
  auto empty = done(workers().terminate_child(caf::actor{}));
  ASSERT_FALSE(empty);
  EXPECT_EQ(render(empty.error()),
            "scaf::invalid_argument(root/sup: an empty actor is no worker)");
  caf::anon_send_exit(stranger, caf::exit_reason::user_shutdown);
  // A worker's name is an id that outlives its restarts: terminate_child
  // takes it (OTP: {error, simple_one_for_one}, for lack of one).
  ASSERT_TRUE(start_worker("b"));
  ASSERT_TRUE(start_worker("c"));
  ASSERT_TRUE(done(sup_ref().terminate_child("w-2")));
  EXPECT_TRUE(logged("~b"));
  auto unknown = done(sup_ref().terminate_child("w-2"));
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(is(unknown.error(), errc::no_such_child))
    << render(unknown.error());
  // Restarting or deleting one by name still refuses, as in OTP.
  auto deleted = done(sup_ref().delete_child("w-3"));
  ASSERT_FALSE(deleted);
  EXPECT_TRUE(is(deleted.error(), errc::invalid_argument));
  auto restarted = done(sup_ref().restart_child("w-3"));
  ASSERT_FALSE(restarted);
  EXPECT_TRUE(is(restarted.error(), errc::invalid_argument));
  auto spec =
    done(sup_ref().start_child(member_spec(&log, &live, {.name = "s"})));
  ASSERT_FALSE(spec);
  EXPECT_EQ(render(spec.error()),
            "scaf::invalid_argument(root/sup: a pool starts workers from its "
            "template, with arguments)");
  EXPECT_EQ(states(), strings{"w-3:running"});
  stop_all();
}

// OTP: hanging_restart_loop_simple, count_restarting_children.
TEST_F(PoolTest, WorkersWaitingToRestartCountAsWorkersAndStopByTheirLastActor) {
  start_pool({.intensity = 10, .backoff = 1s});
  for (auto job : {"a", "b", "c"})
    ASSERT_TRUE(start_worker(job));
  auto old_a = live.at("a");
  fail("a");
  fail("b");
  EXPECT_EQ(states(),
            (strings{"w-1:restarting", "w-2:restarting", "w-3:running"}));
  EXPECT_EQ(counts(), "1/1/0/3");
  ASSERT_TRUE(done(workers().terminate_child(old_a)));
  EXPECT_EQ(states(), (strings{"w-2:restarting", "w-3:running"}));
  advance(1s);
  advance(2s);
  EXPECT_EQ(states(), (strings{"w-2:running", "w-3:running"}));
  EXPECT_EQ(counts(), "1/2/0/2");
  EXPECT_EQ(nth_index(log, "start:a", 2), -1);
  stop_all();
}

TEST_F(PoolTest, WorkersBackOffEachOnTheirOwnAndStartsAreNotHeldBack) {
  start_pool({.intensity = 10, .backoff = 500ms, .max_backoff = 1s});
  for (auto job : {"a", "b", "c"})
    ASSERT_TRUE(start_worker(job));
  fail("a");
  advance(20ms);
  fail("b");
  advance(20ms);
  fail("c");
  // A new worker starts at once, whatever the others wait for.
  ASSERT_TRUE(start_worker("e"));
  EXPECT_EQ(log.count("start:e"), 1u);
  advance(460ms); // 500 ms after a's crash
  EXPECT_EQ(log.count("start:a"), 2u);
  EXPECT_EQ(log.count("start:b"), 1u);
  advance(20ms);
  EXPECT_EQ(log.count("start:b"), 2u);
  EXPECT_EQ(log.count("start:c"), 1u);
  advance(20ms);
  EXPECT_EQ(log.count("start:c"), 2u);
  stop_all();
}

// OTP: count_children, count_children_supervisor.
TEST_F(PoolTest, CountsStayConsistentWithAThousandWorkers) {
  start_pool({}, {.name = "w", .restart = restart_type::temporary});
  std::vector<handle<caf::actor>> started;
  for (int i = 0; i < 1000; ++i)
    started.push_back(workers().start_child(job(i)));
  run();
  for (auto& h : started)
    ASSERT_TRUE(h.ready() && h.get());
  EXPECT_EQ(counts(), "1/1000/0/1000");
  EXPECT_EQ(counts(), "1/1000/0/1000");
  auto children = done(sup_ref().which_children());
  ASSERT_TRUE(children);
  ASSERT_EQ(children->size(), 1000u);
  EXPECT_EQ(children->back().name, "w-1000");
  for (auto& [name, actor] : live)
    caf::anon_send(actor, finish_atom::value);
  run();
  EXPECT_EQ(counts(), "1/0/0/0");
  EXPECT_EQ(pool_end(), "running");
  stop_all();
}

TEST_F(PoolTest, PoolOfScopesCountsItsWorkersAsSupervisors) {
  start(pool({}, worker_spec<int>{{.name = "s"},
                                  [](int) { return supervisor({}, {}); }}));
  auto ref = pool_ref<int>::of(sup_ref());
  ASSERT_TRUE(ref);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(done(ref->start_child(i)));
  EXPECT_EQ(counts(), "1/3/3/0");
  // The pool's one shutdown time (5 s unset), though each worker is a scope.
  auto spec = done(sup_ref().get_childspec("s-1"));
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->shutdown(), caf::timespan{5s});
  stop_all();
}

// -- shutdown
// ------------------------------------------------------------------

// OTP: simple_one_for_one_shutdown, sup_stop_timeout_dynamic.
TEST_F(PoolTest, StoppingThePoolStopsEveryWorkerAtOnceWithOneShutdownTime) {
  start(pool({}, worker<std::string, caf::timespan>(
                   {.name = "w", .shutdown = 2s}, slow_to_stop, &log)));
  auto ref = pool_ref<std::string, caf::timespan>::of(sup_ref());
  ASSERT_TRUE(ref);
  for (auto [name, delay] :
       {std::pair{"a", caf::timespan{1s}}, std::pair{"b", caf::timespan{1s}},
        std::pair{"c", caf::timespan::max()}})
    ASSERT_TRUE(done(ref->start_child(name, delay)));
  caf::anon_send(sup, cancel_atom::value, "stop");
  run();
  // All told at once (newest first), before any has stopped.
  EXPECT_EQ(log.events(), (strings{"cancel:c", "cancel:b", "cancel:a"}));
  advance(1s);
  EXPECT_TRUE(logged("~a"));
  EXPECT_TRUE(logged("~b"));
  EXPECT_FALSE(logged("~c"));
  EXPECT_EQ(pool_end(), "running");
  // c overstays the one shared shutdown time (2 s from the cancel, not from
  // the others' ends) and is killed.
  advance(1s);
  EXPECT_TRUE(logged("~c"));
  ASSERT_TRUE(sup_exit);
  EXPECT_TRUE(is(*sup_exit, errc::cancelled)) << pool_end();
  stop_all();
}

// OTP: sup_stop_brutal_kill_dynamic.
TEST_F(PoolTest, BrutalKillPoolKillsEveryWorkerWithoutACancel) {
  start_pool({}, {.name = "w", .shutdown = 0s});
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(start_worker(job(i)));
  caf::anon_send(sup, cancel_atom::value, "stop");
  run();
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(logged("~j" + std::to_string(i)));
  EXPECT_EQ(lifecycle(events_after("start:j9")).size(), 10u); // only "~"
  EXPECT_EQ(log.count_prefix("cancel:"), 0u);
  ASSERT_TRUE(sup_exit);
  EXPECT_TRUE(is(*sup_exit, errc::cancelled)) << pool_end();
  stop_all();
}

TEST_F(PoolTest, LiveTreeShowsSupervisorsAndPoolsByKind) {
  start(
    supervisor({}, {child({.name = "pool"},
                          pool({}, worker<std::string>({.name = "w"}, pooled,
                                                       &log, &live, &plan)))}));
  auto children = done(sup_ref().which_children());
  ASSERT_TRUE(children && children->size() == 1);
  supervisor_ref ref;
  sys.spawn([&](caf::event_based_actor* self) {
    self
      ->request((*children)[0].actor, caf::infinite, supervisor_ref_atom::value)
      .then([&](supervisor_ref& x) { ref = x; });
  });
  run();
  auto inner = pool_ref<std::string>::of(ref);
  ASSERT_TRUE(inner);
  ASSERT_TRUE(done(inner->start_child("a")));
  auto tree = done(sup_ref().scope().tree());
  ASSERT_TRUE(tree);
  EXPECT_EQ(tree->kind, "supervisor");
  ASSERT_EQ(tree->children.size(), 1u);
  EXPECT_EQ(tree->children[0].kind, "pool");
  ASSERT_EQ(tree->children[0].children.size(), 1u);
  EXPECT_EQ(tree->children[0].children[0].path, "root/sup/pool/w-1");
  EXPECT_EQ(tree->children[0].children[0].kind, "task");
  stop_all();
}

// -- specs and references
// ----------------------------------------------------------

TEST_F(PoolTest, InvalidPoolsAreRefusedBeforeAnythingStarts) {
  auto refused = [&](child_factory factory) {
    sup_exit.reset();
    sup = nullptr;
    start(std::move(factory));
    return sup_exit ? render(*sup_exit) : "<accepted>";
  };
  auto spec = [&](child_options opts = {}) {
    return worker<std::string>(std::move(opts), pooled, &log, &live, &plan);
  };
  EXPECT_EQ(
    refused(pool({.strategy = restart_strategy::one_for_all}, spec())),
    "scaf::invalid_argument(root/sup: a pool restarts each worker on its "
    "own: its strategy must be one_for_one)");
  EXPECT_EQ(
    refused(pool({.shutdown_when = auto_shutdown::any_significant}, spec())),
    "scaf::invalid_argument(root/sup: a pool never shuts down by itself: "
    "its shutdown_when must be auto_shutdown::never)");
  EXPECT_EQ(
    refused(pool({}, spec({.name = "",
                           .restart = restart_type::transient,
                           .significant = true}))),
    "scaf::invalid_argument(root/sup: child 'worker-1' is significant, but "
    "the supervisor never shuts down by itself (auto_shutdown::never))");
  EXPECT_NE(refused(pool({}, spec({.name = "a/b"}))).find("invalid_argument"),
            std::string::npos);
  EXPECT_EQ(
    refused(pool({}, worker_spec<int>{})),
    "scaf::invalid_argument(root/sup: the pool's worker template has no "
    "start function)");
  EXPECT_EQ(
    refused(pool({.period = 0s}, spec())),
    "scaf::invalid_argument(root/sup: the restart period must be positive)");
  EXPECT_TRUE(log.events().empty());
}

TEST_F(PoolTest, PoolRefNeedsAPoolWhoseWorkersTakeItsArguments) {
  start_pool({});
  auto other = pool_ref<int>::of(sup_ref());
  ASSERT_FALSE(other);
  EXPECT_EQ(render(other.error()),
            "scaf::invalid_argument(root/sup: the pool's workers take other "
            "arguments)");
  auto none = pool_ref<std::string>{}.start_child("a");
  EXPECT_TRUE(none.ready());
  ASSERT_FALSE(none.get());
  EXPECT_TRUE(is(none.get().error(), errc::invalid_argument));
  stop_all();
  // A supervisor that is no pool.
  sup_exit.reset();
  start({}, abc());
  auto not_pool = pool_ref<std::string>::of(sup_ref());
  ASSERT_FALSE(not_pool);
  EXPECT_EQ(render(not_pool.error()),
            "scaf::invalid_argument(root/sup: the supervisor is no pool)");
  // Its children are found by name, never by actor (OTP: not_found).
  auto by_actor = done(sup_ref().terminate_child(live.at("a")));
  ASSERT_FALSE(by_actor);
  EXPECT_TRUE(is(by_actor.error(), errc::no_such_child))
    << render(by_actor.error());
  EXPECT_EQ(states(), (strings{"a:running", "b:running", "c:running"}));
  stop_all();
}

// OTP: hanging_restart_loop_simple. Two workers that fail before they are up,
// with no backoff: calls are answered between their attempts, and each is
// stopped by the actor its start returned or by its name.
TEST_F(PoolTest, LoopingWorkersAnswerCallsAndStopByFirstActorOrName) {
  constexpr size_t failing_starts = 5'000;
  for (auto job : {"a", "b"}) {
    plan[job] = {start_mode::up};
    plan[job].insert(plan[job].end(), failing_starts, start_mode::fail);
  }
  start_pool({.intensity = 1'000'000, .period = 1h});
  auto ref = workers();
  auto a = start_worker("a");
  auto b = start_worker("b");
  ASSERT_TRUE(a && *a && b && *b);
  auto attempts = [&] {
    return log.count("failed-to-start:a") + log.count("failed-to-start:b");
  };
  caf::anon_send(live.at("a"), fail_atom::value, app_error(1, "a broke"));
  caf::anon_send(live.at("b"), fail_atom::value, app_error(1, "b broke"));
  ASSERT_TRUE(step_until([&] { return attempts() >= 40; }));
  auto before = attempts();
  auto counted = ref.count_children();
  auto listed = ref.which_children();
  auto c = ref.start_child("c");
  ASSERT_TRUE(
    step_until([&] { return counted.ready() && listed.ready() && c.ready(); }));
  EXPECT_LT(attempts() - before, 20u);
  ASSERT_TRUE(counted.get());
  EXPECT_EQ(counted.get()->workers, 2u);
  ASSERT_TRUE(c.get() && *c.get());
  // The actor a's start returned is long gone; it still stops a.
  auto stop_a = ref.terminate_child(*a);
  auto stop_b = ref.terminate_child(std::string{"w-2"});
  ASSERT_TRUE(step_until([&] { return stop_a.ready() && stop_b.ready(); }));
  EXPECT_TRUE(stop_a.get());
  EXPECT_TRUE(stop_b.get());
  auto at_stop = attempts();
  run();
  EXPECT_EQ(attempts(), at_stop);
  EXPECT_LT(at_stop, 2 * failing_starts);
  EXPECT_EQ(states(), strings{"w-3:running"});
  stop_all();
}

TEST_F(PoolTest, StartWithInfoGivesTheWorkersNameAndWhatItSaid) {
  auto announcing = [](task_actor* self, std::string job) -> caf::behavior {
    self->signal_started(caf::make_message(job + " ready"));
    return {[](finish_atom) {}};
  };
  start(pool({}, worker<std::string>({.name = "w"}, announcing)));
  auto ref = pool_ref<std::string>::of(sup_ref());
  ASSERT_TRUE(ref);
  auto x = done(ref->start_child_with_info("a"));
  ASSERT_TRUE(x) << render(x.error());
  EXPECT_TRUE(x->actor);
  EXPECT_EQ(x->name, "w-1");
  ASSERT_TRUE(x->info.match_elements<std::string>());
  EXPECT_EQ(x->info.get_as<std::string>(0), "a ready");
  // The name finds it: which_child, terminate_child.
  EXPECT_EQ(done(sup_ref().which_child("w-1"))->actor, x->actor);
  EXPECT_TRUE(done(ref->terminate_child(x->name)));
  EXPECT_EQ(states(), strings{});
  stop_all();
}

// OTP drops a temporary child's arguments once it runs: a pool of
// short-lived workers holds nothing it would not need again.
TEST_F(PoolTest, TemporaryWorkersDropTheirArgumentsOnceUp) {
  auto holder = [](task_actor*, std::shared_ptr<int>) -> caf::behavior {
    return {[](finish_atom) {}};
  };
  start(pool({}, worker<std::shared_ptr<int>>(
                   {.name = "w", .restart = restart_type::temporary}, holder)));
  auto ref = pool_ref<std::shared_ptr<int>>::of(sup_ref());
  ASSERT_TRUE(ref);
  auto arg = std::make_shared<int>(7);
  ASSERT_TRUE(done(ref->start_child(arg)));
  // Held by the test only: the pool's spec of the running worker no longer
  // holds its arguments (the task did not keep them either).
  auto spec = done(sup_ref().get_childspec("w-1"));
  ASSERT_TRUE(spec);
  EXPECT_FALSE(spec->start);
  EXPECT_EQ(arg.use_count(), 1);
  EXPECT_EQ(states(), strings{"w-1:running"});
  stop_all();
}

// The calls as messages, for CAF actors.
TEST_F(PoolTest, CafActorStartsAndStopsWorkersByMessage) {
  start_pool({});
  std::vector<std::string> answers;
  auto on_error = [&](caf::error& err) { answers.push_back(render(err)); };
  auto start_with = [&](caf::message args) {
    sys.spawn([&, args](caf::event_based_actor* self) {
      self->request(sup, caf::infinite, start_child_atom::value, args)
        .then([&](caf::actor& x) { answers.push_back(x ? "actor" : "none"); },
              on_error);
    });
    run();
  };
  start_with(caf::make_message(std::string{"a"}));
  start_with(caf::make_message(42));
  sys.spawn([&](caf::event_based_actor* self) {
    self->request(sup, caf::infinite, terminate_child_atom::value, live.at("a"))
      .then([&] { answers.push_back("ok"); }, on_error);
  });
  run();
  EXPECT_EQ(answers,
            (strings{"actor",
                     "scaf::invalid_argument(root/sup: the arguments are "
                     "not the ones the pool's workers take)",
                     "ok"}));
  EXPECT_TRUE(logged("~a"));
  stop_all();
}

TEST_F(PoolTest, CallOfTheWrongShapeIsRefusedSayingWhichShapeItTakes) {
  start_pool({});
  std::vector<std::string> answers;
  sys.spawn([&](caf::event_based_actor* self) {
    // The worker's argument, not wrapped in caf::make_message.
    self->request(sup, caf::infinite, start_child_atom::value, std::string{"a"})
      .then([&](caf::actor&) { answers.push_back("started?"); },
            [&](caf::error& err) { answers.push_back(render(err)); });
    self->request(sup, caf::infinite, which_child_atom::value, 42)
      .then([&](child_info&) { answers.push_back("found?"); },
            [&](caf::error& err) { answers.push_back(render(err)); });
  });
  run();
  EXPECT_EQ(answers,
            (strings{"scaf::invalid_argument(root/sup: the call takes "
                     "(start_child_atom, scaf::child_spec), or for a pool "
                     "(start_child_atom, caf::make_message(args...)), not "
                     "(\'supstart\', \"a\"))",
                     "scaf::invalid_argument(root/sup: the call takes "
                     "(which_child_atom, std::string name), not "
                     "(\'supchild\', 42))"}));
  EXPECT_EQ(states(), strings{});
  stop_all();
}

// -- ten thousand workers on the real scheduler
// -------------------------------------

class ThreadedPoolTest : public leak_checked_threaded_test {};

caf::behavior idle_worker(task_actor*, int) {
  return {[](finish_atom) {}};
}

TEST_F(ThreadedPoolTest, TenThousandWorkersStartThenStopTogether) {
  constexpr int workers = 10'000;
  auto owner = make_scope(sys, {.name = "svc"});
  auto spawned = owner.ref().spawn(
    {.name = "pool"},
    pool({}, worker<int>({.name = "w", .shutdown = 30s}, idle_worker)));
  auto actor = actor_of(spawned);
  ASSERT_TRUE(actor);
  auto ref = pool_ref<int>::of(sys, actor);
  ASSERT_TRUE(ref) << render(ref.error());
  std::vector<handle<caf::actor>> started;
  started.reserve(workers);
  for (int i = 0; i < workers; ++i)
    started.push_back(ref->start_child(i));
  for (auto& h : started) {
    auto x = h.wait_for(60s);
    ASSERT_TRUE(x && *x && **x);
  }
  auto counts = ref->count_children().wait();
  ASSERT_TRUE(counts);
  EXPECT_EQ(counts->active, static_cast<size_t>(workers));
  EXPECT_EQ(counts->workers, static_cast<size_t>(workers));
  EXPECT_EQ(sys.registry().running(), baseline + 2 + workers);
  owner.ref().cancel("the test is over");
  auto end = owner.join().wait();
  EXPECT_TRUE(end);
  auto report = ref->scope().done().wait_for(30s);
  EXPECT_TRUE(report && *report);
}

} // namespace

caf::behavior looping_worker(task_actor* self,
                             std::shared_ptr<std::atomic<int>> starts, int) {
  if (starts->fetch_add(1) > 0)
    self->quit(make_error(errc::invalid_argument, self->path(), "no config"));
  return {[self](finish_atom) { self->quit(make_error(errc::timeout)); }};
}

// OTP: hanging_restart_loop_simple, on the real scheduler: two workers loop
// in restarts; calls are answered, and each stops by its first actor.
TEST_F(ThreadedPoolTest, LoopingWorkersStopByTheActorTheirStartReturned) {
  auto owner = make_scope(sys, {.name = "svc"});
  auto starts_a = std::make_shared<std::atomic<int>>(0);
  auto starts_b = std::make_shared<std::atomic<int>>(0);
  auto spawned = owner.ref().spawn(
    {.name = "pool"},
    pool({.intensity = 100'000'000, .period = std::chrono::hours{1}},
         worker<std::shared_ptr<std::atomic<int>>, int>({.name = "w"},
                                                        looping_worker)));
  auto actor = actor_of(spawned);
  ASSERT_TRUE(actor);
  auto ref = pool_ref<std::shared_ptr<std::atomic<int>>, int>::of(sys, actor);
  ASSERT_TRUE(ref) << render(ref.error());
  auto a = ref->start_child(starts_a, 1).wait();
  auto b = ref->start_child(starts_b, 2).wait();
  ASSERT_TRUE(a && *a && b && *b);
  caf::anon_send(*a, finish_atom::value);
  caf::anon_send(*b, finish_atom::value);
  while (starts_a->load() < 100 || starts_b->load() < 100)
    std::this_thread::sleep_for(1ms);
  constexpr auto bound = std::chrono::seconds{30};
  for (int round = 0; round < 20; ++round) {
    auto counted = ref->count_children().wait_for(bound);
    ASSERT_TRUE(counted && *counted) << "count_children starved";
    EXPECT_EQ((*counted)->workers, 2u);
  }
  ASSERT_TRUE(ref->terminate_child(*a).wait_for(bound));
  ASSERT_TRUE(ref->terminate_child(*b).wait_for(bound));
  auto at_stop = starts_a->load() + starts_b->load();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(starts_a->load() + starts_b->load(), at_stop);
  auto left = ref->which_children().wait_for(bound);
  ASSERT_TRUE(left && *left);
  EXPECT_TRUE((*left)->empty());
  owner.ref().cancel("the test is over");
  EXPECT_TRUE(owner.join().wait_for(bound));
}
