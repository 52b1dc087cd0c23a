// The node protocol of scaf/scope.hpp and scaf/task.hpp, on CAF's
// deterministic scheduler: every message ordering here is exact.
#include "scaf/scope.hpp"

#include <memory>

#include "../common/fixture.hpp"
#include "../common/tasks.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

namespace {

class ScopeTest : public deterministic_test {
protected:
  /// Opens a top-level scope that joins after `body` (finishes when its main
  /// children are done) and reports into `report`.
  template <class F>
  caf::actor open(F body, std::string name = "root",
                  failure_policy policy = failure_policy::errgroup) {
    scope_options opts;
    opts.name = std::move(name);
    opts.grace = 1s;
    opts.policy = policy;
    return spawn_scope(
      sys, opts,
      [body = std::move(body)](scope& s) mutable {
        body(s);
        s.join();
      },
      report);
  }

  std::shared_ptr<scope_report> report = std::make_shared<scope_report>();
};

} // namespace

// -- success, failure, exceptions ---------------------------------------------

TEST_F(ScopeTest, QuittingNormallyIsSuccess) {
  caf::actor a, b;
  auto root = open([&](scope& s) {
    a = *s.spawn(worker, &log, "a");
    b = *s.spawn(worker, &log, "b");
  });
  run();
  auto obs = observe({{a, "a"}, {b, "b"}, {root, "root"}});
  run();
  caf::anon_send(a, finish_atom::value);
  caf::anon_send(b, finish_atom::value);
  run();
  EXPECT_FALSE(report->result) << render(report->result);
  EXPECT_TRUE(report->suppressed.empty());
  EXPECT_TRUE(report->killed.empty());
  EXPECT_EQ(log.count("down:root"), 1u);
  EXPECT_LT(log.index_of("down:a"), log.index_of("down:root"));
  EXPECT_LT(log.index_of("down:b"), log.index_of("down:root"));
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, FirstErrorWinsCancelsSiblingsAndLaterErrorsAreSuppressed) {
  caf::actor a, b, c;
  auto e1 = app_error(1, "first");
  auto e2 = app_error(2, "second");
  auto root = open([&](scope& s) {
    a = *s.spawn(worker, &log, "a");
    b = *s.spawn(worker_with, &log, "b", on_cancel_mode::fail, e2);
    c = *s.spawn(worker_with, &log, "c", on_cancel_mode::log_and_quit, caf::error{});
  });
  auto obs = observe({{root, "root"}});
  run();
  caf::anon_send(a, fail_atom::value, e1);
  run();
  EXPECT_EQ(report->result, e1);
  ASSERT_EQ(report->suppressed.size(), 1u);
  EXPECT_EQ(report->suppressed[0], e2);
  // Siblings heard a cancel that names where it came from.
  auto expected_cancel = "cancel:c:scaf::cancelled(root: root/0 failed: "
                         + render(e1) + ")";
  EXPECT_GE(log.index_of(expected_cancel), 0) << log.events().size();
  EXPECT_EQ(log.count("down:root"), 1u);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, ExceptionBecomesTaskExceptionCarryingWhat) {
  caf::actor a;
  auto root = open([&](scope& s) { a = *s.spawn(worker, &log, "a"); });
  run();
  caf::anon_send(a, throw_atom::value);
  run();
  ASSERT_TRUE(is(report->result, errc::task_exception))
    << render(report->result);
  EXPECT_EQ(render(report->result), "scaf::task_exception(root/0: boom in a)");
  EXPECT_EQ(log.count("~a"), 1u);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, ExceptionInTaskInitBecomesTaskException) {
  auto root = open([&](scope& s) {
    s.spawn({.name = "bad"}, [](task_actor*) -> caf::behavior {
      throw std::logic_error("bad init");
    });
  });
  run();
  EXPECT_EQ(render(report->result), "scaf::task_exception(root/bad: bad init)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, BodyReturningErrorFailsScope) {
  caf::actor a;
  scope_report rep;
  auto r = std::make_shared<scope_report>();
  spawn_scope(
    sys, {.name = "svc"},
    [&](scope& s) -> caf::expected<int> {
      a = *s.spawn(worker, &log, "a");
      s.join();
      return app_error(7, "body failed");
    },
    r);
  run();
  EXPECT_EQ(r->result, app_error(7, "body failed"));
  EXPECT_GE(log.index_of("cancel:a:scaf::cancelled(svc: svc failed: "
                         + render(app_error(7, "body failed")) + ")"),
            0);
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- order of done signals ------------------------------------------------------

TEST_F(ScopeTest, DoneFlowsUpChildStateDestroyedBeforeParentSeesDone) {
  caf::actor outer, inner_scope, leaf;
  auto root = open([&](scope& s) {
    outer = *s.spawn(
      {.name = "outer"}, [&](traced_task* self) -> caf::behavior {
        self->state.log = &log;
        self->state.name = "outer";
        inner_scope = self->open_scope({.name = "inner"}, [&](scope& in) {
          leaf = *in.spawn(worker, &log, "leaf");
        });
        return {[=](finish_atom) { self->quit(); }};
      });
  });
  run();
  auto obs = observe({{outer, "outer"},
                      {inner_scope, "inner"},
                      {leaf, "leaf"},
                      {root, "root"}});
  run();
  // The outer task quits while its scope still runs: the scope is cancelled
  // and the task waits for it.
  caf::anon_send(outer, finish_atom::value);
  run();
  auto events = log.events();
  auto at = [&](const std::string& e) { return log.index_of(e); };
  ASSERT_GE(at("down:root"), 0);
  EXPECT_LT(at("~leaf"), at("down:leaf"));
  EXPECT_LT(at("down:leaf"), at("down:inner"));
  EXPECT_LT(at("down:inner"), at("~outer"));
  EXPECT_LT(at("~outer"), at("down:outer"));
  EXPECT_LT(at("down:outer"), at("down:root"));
  EXPECT_GE(at("cancel:leaf:scaf::cancelled(root/outer: owner task quit)"), 0);
  EXPECT_FALSE(report->result) << render(report->result);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, EachChildReportsDoneExactlyOnce) {
  const std::vector<std::string> names{"k0", "k1", "k2", "k3", "k4"};
  std::vector<caf::actor> kids;
  auto root = open([&](scope& s) {
    for (auto& name : names)
      kids.push_back(*s.spawn(worker, &log, name));
  });
  run();
  std::vector<std::pair<caf::actor, std::string>> targets;
  for (size_t i = 0; i < kids.size(); ++i)
    targets.emplace_back(kids[i], names[i]);
  targets.emplace_back(root, "root");
  auto obs = observe(targets);
  run();
  // Finish two, cancel the rest from outside: every child is done once.
  caf::anon_send(kids[0], finish_atom::value);
  caf::anon_send(kids[3], finish_atom::value);
  run();
  caf::anon_send(root, cancel_atom::value, "enough");
  caf::anon_send(root, cancel_atom::value, "enough again");
  run();
  for (auto& name : names) {
    EXPECT_EQ(log.count("down:" + name), 1u);
    EXPECT_EQ(log.count("~" + name), 1u);
  }
  EXPECT_EQ(log.count("down:root"), 1u);
  EXPECT_EQ(render(report->result), "scaf::cancelled(root: enough)");
}

// -- cancel ---------------------------------------------------------------------

TEST_F(ScopeTest, CancelFromOutsideReachesEveryDescendantWithItsReason) {
  caf::actor root_task, nested, leaf_a, leaf_b;
  auto root = open([&](scope& s) {
    root_task = *s.spawn({.name = "svc"}, [&](task_actor* self) -> caf::behavior {
      nested = self->open_scope({.name = "pool"}, [&](scope& pool) {
        leaf_a = *pool.spawn(worker, &log, "a");
        leaf_b = *pool.spawn(worker_with, &log, "b", on_cancel_mode::none, caf::error{});
      });
      return {[](finish_atom) {}};
    });
  });
  run();
  auto obs = observe({{leaf_a, "a"},
                      {leaf_b, "b"},
                      {nested, "pool"},
                      {root_task, "svc"},
                      {root, "root"}});
  run();
  caf::anon_send(root, cancel_atom::value, "shutting down");
  run();
  EXPECT_GE(log.index_of("cancel:a:scaf::cancelled(root: shutting down)"), 0);
  EXPECT_EQ(render(report->result), "scaf::cancelled(root: shutting down)");
  EXPECT_TRUE(report->suppressed.empty());
  EXPECT_TRUE(report->killed.empty());
  EXPECT_LT(log.index_of("down:a"), log.index_of("down:pool"));
  EXPECT_LT(log.index_of("down:b"), log.index_of("down:pool"));
  EXPECT_LT(log.index_of("down:pool"), log.index_of("down:svc"));
  EXPECT_LT(log.index_of("down:svc"), log.index_of("down:root"));
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, ExitMessageCancelsLikeCancelAtom) {
  caf::actor a;
  auto root = open([&](scope& s) { a = *s.spawn(worker, &log, "a"); });
  run();
  caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  run();
  EXPECT_EQ(report->result, caf::make_error(caf::exit_reason::user_shutdown));
  EXPECT_EQ(log.count("start:a"), 1u);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, TaskWithoutCancelHandlerQuitsAtOnce) {
  caf::actor a;
  auto root = open([&](scope& s) {
    a = *s.spawn(worker_with, &log, "a", on_cancel_mode::none, caf::error{});
  });
  run();
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  EXPECT_EQ(log.count("~a"), 1u);
  EXPECT_TRUE(report->killed.empty());
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- grace, then force ------------------------------------------------------------

TEST_F(ScopeTest, StubbornTaskIsKilledAfterGraceAndNamed) {
  caf::actor polite, stubborn;
  auto root = open([&](scope& s) {
    polite = *s.spawn(worker, &log, "polite");
    stubborn = *s.spawn({.name = "stubborn"}, worker_with, &log, "stubborn", on_cancel_mode::stubborn, caf::error{});
  });
  run();
  auto obs = observe({{stubborn, "stubborn"}, {root, "root"}});
  run();
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  // The polite one is gone, the stubborn one is still running: no done yet.
  EXPECT_EQ(log.count("~polite"), 1u);
  EXPECT_EQ(log.count("~stubborn"), 0u);
  EXPECT_EQ(log.count("down:root"), 0u);
  advance(999ms);
  EXPECT_EQ(log.count("down:root"), 0u);
  advance(1ms);
  EXPECT_EQ(log.count("~stubborn"), 1u);
  EXPECT_LT(log.index_of("down:stubborn"), log.index_of("down:root"));
  ASSERT_EQ(report->killed.size(), 1u);
  EXPECT_EQ(report->killed[0], "root/stubborn");
  EXPECT_EQ(render(report->result), "scaf::cancelled(root: stop)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, NestedScopeIsAbortedNotKilledSoOrderHolds) {
  caf::actor child_scope, stubborn;
  auto root = open([&](scope& s) {
    child_scope = *s.spawn_scope({.name = "inner", .grace = 1h}, [&](scope& in) {
      stubborn = *in.spawn({.name = "mule"}, worker_with, &log, "mule", on_cancel_mode::stubborn, caf::error{});
    });
  });
  run();
  auto obs = observe({{stubborn, "mule"}, {child_scope, "inner"}, {root, "root"}});
  run();
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  advance(1s); // root's grace ends; inner's (1 h) has not
  EXPECT_LT(log.index_of("down:mule"), log.index_of("down:inner"));
  EXPECT_LT(log.index_of("down:inner"), log.index_of("down:root"));
  // The root did not kill the scope; the aborted scope killed its task.
  EXPECT_TRUE(report->killed.empty());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, NestedScopesForceTheirChildrenAtTheEarlierOfTheirGraceAndTheParents) {
  // A nested scope's own grace ends first (100 ms): it kills on its own
  // schedule. Another's ends after the root's (1 h against 1 s): the root
  // aborts it at 1 s, with no timer of its own needed.
  caf::actor quick, slow;
  auto root = open([&](scope& s) {
    s.spawn_scope({.name = "quick", .grace = 100ms}, [&](scope& in) {
      quick = *in.spawn({.name = "mule"}, worker_with, &log, "quick-mule",
                        on_cancel_mode::stubborn, caf::error{});
    });
    s.spawn_scope({.name = "slow", .grace = 1h}, [&](scope& in) {
      slow = *in.spawn({.name = "mule"}, worker_with, &log, "slow-mule",
                       on_cancel_mode::stubborn, caf::error{});
    });
  });
  run();
  auto obs = observe({{quick, "quick"}, {slow, "slow"}, {root, "root"}});
  run();
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  advance(99ms);
  EXPECT_EQ(log.count("down:quick"), 0u);
  advance(1ms);
  EXPECT_EQ(log.count("down:quick"), 1u);
  advance(899ms);
  EXPECT_EQ(log.count("down:slow"), 0u);
  advance(1ms);
  EXPECT_EQ(log.count("down:slow"), 1u);
  EXPECT_EQ(log.count("down:root"), 1u);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, ForcedTaskIsKilledOnlyAfterTheScopeItOpened) {
  caf::actor owner, nested, leaf;
  auto root = open([&](scope& s) {
    owner = *s.spawn({.name = "owner"}, [&](traced_task* self) -> caf::behavior {
      self->state.log = &log;
      self->state.name = "owner";
      // Ignores cancel beyond logging: it will be killed.
      self->on_cancel([=](const caf::error&) { self->defer_quit(); });
      nested = self->open_scope({.name = "sub", .grace = 1h}, [&](scope& sub) {
        leaf = *sub.spawn(worker_with, &log, "leaf", on_cancel_mode::stubborn, caf::error{});
      });
      return {[](finish_atom) {}};
    });
  });
  run();
  auto obs = observe({{owner, "owner"}, {nested, "sub"}, {leaf, "leaf"},
                      {root, "root"}});
  run();
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  advance(1s);
  ASSERT_GE(log.index_of("down:root"), 0);
  // Force goes bottom-up: the nested scope is aborted (killing its leaf)
  // and only then is its owner killed, so done signals keep their order.
  EXPECT_LT(log.index_of("down:leaf"), log.index_of("down:sub"));
  EXPECT_LT(log.index_of("down:sub"), log.index_of("~owner"));
  EXPECT_LT(log.index_of("~owner"), log.index_of("down:owner"));
  EXPECT_LT(log.index_of("down:owner"), log.index_of("down:root"));
  ASSERT_EQ(report->killed.size(), 1u);
  EXPECT_EQ(report->killed[0], "root/owner");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, AbortKillsAtOnceIgnoringGrace) {
  caf::actor stubborn;
  auto root = open([&](scope& s) {
    stubborn = *s.spawn({.name = "mule"}, worker_with, &log, "mule", on_cancel_mode::stubborn, caf::error{});
  });
  run();
  caf::anon_send(root, abort_atom::value);
  run();
  EXPECT_EQ(log.count("~mule"), 1u);
  EXPECT_EQ(log.count_prefix("cancel:mule:"), 0u); // killed, not asked
  ASSERT_EQ(report->killed.size(), 1u);
  EXPECT_EQ(report->killed[0], "root/mule");
  EXPECT_EQ(render(report->result), "scaf::cancelled(root: aborted)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- closed means closed ----------------------------------------------------------

TEST_F(ScopeTest, SpawnOnClosedScopeFailsAndRunsNothing) {
  caf::expected<caf::actor> late{caf::actor{}};
  caf::actor a;
  auto root = open([&](scope& s) {
    a = *s.spawn(worker, &log, "a");
    s.close();
    late = s.spawn(worker, &log, "late");
  });
  run();
  ASSERT_FALSE(late);
  EXPECT_EQ(render(late.error()), "scaf::scope_closed(root: the scope is closed)");
  EXPECT_EQ(log.count("start:late"), 0u);
  caf::anon_send(a, finish_atom::value);
  run();
  EXPECT_FALSE(report->result);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, SpawnRequestOnAbortedScopeFailsWithScopeClosed) {
  caf::actor stubborn;
  auto root = open([&](scope& s) {
    stubborn = *s.spawn(worker_with, &log, "mule", on_cancel_mode::stubborn,
                        caf::error{});
  });
  run();
  // One sender, so the scope sees the abort first and the request right
  // after it, while the killed task has not even run yet.
  auto answer = std::make_shared<caf::error>();
  auto client = sys.spawn([&, answer](caf::event_based_actor* self) {
    self->send(root, abort_atom::value);
    self->request(root, caf::infinite, spawn_atom::value,
                  make_spawn_request({.name = "late"}, worker, &log,
                                     std::string{"late"}))
      .then([](caf::actor&) {}, [answer](caf::error& err) { *answer = err; });
  });
  run();
  EXPECT_EQ(render(*answer), "scaf::scope_closed(root: the scope is closed)");
  EXPECT_EQ(log.count("start:late"), 0u);
  EXPECT_EQ(log.count("~mule"), 1u);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, SpawnInFinishedScopeFailsWithScopeClosed) {
  // The blocking helper maps "the scope is gone" to scope_closed as well.
  // Uses a second, threaded system: spawn_in blocks.
  caf::actor_system_config threaded_cfg;
  scaf::init(threaded_cfg);
  threaded_cfg.set("logger.console", caf::atom("none"));
  caf::actor_system threaded{threaded_cfg};
  auto r = std::make_shared<scope_report>();
  auto svc = spawn_scope(threaded, {.name = "svc"},
                         [](scope& s) { s.close(); }, r);
  {
    caf::scoped_actor waiter{threaded};
    waiter->monitor(svc);
    waiter->receive([](caf::down_msg&) {});
  }
  auto late = spawn_in(threaded, svc, {.name = "late"}, worker, &log,
                       std::string{"late"});
  ASSERT_FALSE(late);
  EXPECT_TRUE(is(late.error(), errc::scope_closed)) << render(late.error());
  EXPECT_EQ(log.count("start:late"), 0u);
}

TEST_F(ScopeTest, CancelledScopeStillAcceptsChildrenThatStartCancelled) {
  caf::actor a;
  auto root = open([&](scope& s) {
    // When cancelled, `a` asks its scope for a cleanup task; the cleanup task
    // starts cancelled and its cancel handler runs at once.
    a = *s.spawn({.name = "a"}, [&](task_actor* self) -> caf::behavior {
      self->on_cancel([=, &log = this->log](const caf::error&) {
        self->defer_quit();
        auto scope_hdl = caf::actor_cast<caf::actor>(self->parent_scope());
        self->request(scope_hdl, caf::infinite, spawn_atom::value,
                      make_spawn_request({.name = "cleanup"}, worker, &log,
                                         std::string{"cleanup"}))
          .then([=](caf::actor&) { self->quit(); },
                [=](caf::error& err) { self->quit(err); });
      });
      return {[](finish_atom) {}};
    });
  });
  run();
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  EXPECT_EQ(log.count("start:cleanup"), 1u);
  EXPECT_GE(log.index_of("cancel:cleanup:scaf::cancelled(root: stop)"), 0);
  EXPECT_LT(log.index_of("start:cleanup"),
            log.index_of("cancel:cleanup:scaf::cancelled(root: stop)"));
  EXPECT_EQ(render(report->result), "scaf::cancelled(root: stop)");
  EXPECT_TRUE(report->killed.empty());
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- nesting and policies -----------------------------------------------------------

TEST_F(ScopeTest, ErrorThreeScopesDeepReachesTheTop) {
  caf::actor deep;
  auto err = app_error(3, "deep");
  auto root = open([&](scope& s) {
    s.spawn_scope({.name = "l1"}, [&](scope& l1) {
      l1.spawn_scope({.name = "l2"}, [&](scope& l2) {
        l2.spawn({.name = "t"}, [&](task_actor* self) -> caf::behavior {
          self->open_scope({.name = "l3"}, [&](scope& l3) {
            deep = *l3.spawn(worker, &log, "deep");
          });
          return {[](finish_atom) {}};
        });
      });
    });
    s.spawn(worker, &log, "sibling");
  });
  run();
  caf::anon_send(deep, fail_atom::value, err);
  run();
  EXPECT_EQ(report->result, err);
  EXPECT_GE(log.index_of("cancel:sibling:scaf::cancelled(root: root/l1 failed: "
                         + render(err) + ")"),
            0);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, IsolatePolicyDoesNotCancelSiblings) {
  caf::actor a, b;
  auto err = app_error(4, "lonely");
  auto root = open(
    [&](scope& s) {
      a = *s.spawn(worker, &log, "a");
      b = *s.spawn(worker, &log, "b");
    },
    "sup", failure_policy::isolate);
  run();
  caf::anon_send(a, fail_atom::value, err);
  run();
  EXPECT_EQ(log.count("~b"), 0u);
  EXPECT_EQ(log.count_prefix("cancel:b:"), 0u);
  caf::anon_send(b, finish_atom::value);
  run();
  EXPECT_EQ(report->result, err);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, BackgroundTasksAreCancelledWhenMainTasksAreDone) {
  caf::actor main_task;
  auto root = open([&](scope& s) {
    main_task = *s.spawn(worker, &log, "main");
    s.spawn_bg(worker, &log, "bg");
  });
  run();
  EXPECT_EQ(log.count("~bg"), 0u);
  caf::anon_send(main_task, finish_atom::value);
  run();
  EXPECT_GE(log.index_of("cancel:bg:scaf::cancelled(root: main tasks done)"), 0);
  EXPECT_FALSE(report->result) << render(report->result);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, ServiceScopeRunsUntilCancelled) {
  auto r = std::make_shared<scope_report>();
  caf::actor a;
  auto svc = spawn_scope(
    sys, {.name = "server"},
    [&](scope& s) { a = *s.spawn(worker, &log, "a"); }, r);
  auto obs = observe({{svc, "server"}});
  run();
  caf::anon_send(a, finish_atom::value);
  run();
  // No main work left, but a service scope is not joined: still up.
  EXPECT_EQ(log.count("down:server"), 0u);
  caf::anon_send(svc, cancel_atom::value, "shutting down");
  run();
  EXPECT_EQ(log.count("down:server"), 1u);
  EXPECT_EQ(render(r->result), "scaf::cancelled(server: shutting down)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, StatefulTaskStateIsConstructedFromSelfWhenItCanBe) {
  struct with_self {
    explicit with_self(stateful_task<with_self>* ptr) : self(ptr) {}
    stateful_task<with_self>* self;
  };
  bool saw_self = false;
  auto root = open([&](scope& s) {
    s.spawn([&](stateful_task<with_self>* self) -> caf::behavior {
      saw_self = self->state.self == self;
      self->quit();
      return {};
    });
  });
  run();
  EXPECT_TRUE(saw_self);
  EXPECT_FALSE(report->result);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, OutcomesRenderAsATreeThatSaysWhereTheCancelCameFrom) {
  caf::actor flaky;
  auto err = app_error(6, "disk full");
  auto r = std::make_shared<scope_report>();
  spawn_scope(
    sys, {.name = "root", .grace = 1s, .record_outcomes = true},
    [&](scope& s) {
      flaky = *s.spawn({.name = "flaky"}, worker, &log, "flaky");
      s.spawn({.name = "mule"}, worker_with, &log, "mule",
              on_cancel_mode::stubborn, caf::error{});
      s.spawn_scope({.name = "index"}, [&](scope& idx) {
        idx.spawn(worker, &log, "i0");
      });
      s.join();
    },
    r);
  run();
  caf::anon_send(flaky, fail_atom::value, err);
  run();
  advance(1s);
  auto why = "scaf::cancelled(root: root/flaky failed: " + render(err) + ")";
  EXPECT_EQ(render_tree(*r, "root"),
            "root: failed: " + render(err) + "\n"
            "|- root/flaky: failed: " + render(err) + "\n"
            "|- root/index: cancelled: " + why + "\n"
            "|  `- root/index/0: cancelled: " + why + "\n"
            "`- root/mule: killed: caf::exit_reason::kill\n");
}

// -- errors -------------------------------------------------------------------------

TEST_F(ScopeTest, ErrorsRenderReadably) {
  auto err = make_error(errc::cancelled, "root/db", "shutting down");
  EXPECT_EQ(render(err), "scaf::cancelled(root/db: shutting down)");
  EXPECT_EQ(sys.render(err), "scaf::cancelled(root/db: shutting down)");
  EXPECT_EQ(render(make_error(errc::scope_closed)), "scaf::scope_closed");
  EXPECT_EQ(render(caf::make_error(caf::exit_reason::kill)),
            "caf::exit_reason::kill");
  EXPECT_EQ(code_of(err), errc::cancelled);
  EXPECT_EQ(code_of(caf::make_error(caf::sec::runtime_error)), errc::none);
}
