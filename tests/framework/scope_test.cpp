// The node protocol of scaf/scope.hpp and scaf/task.hpp, on CAF's
// deterministic scheduler: every message ordering here is exact.
#include "scaf/scope.hpp"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

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
  EXPECT_FALSE(report->reason()) << render(report->reason());
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
    c = *s.spawn(worker_with, &log, "c", on_cancel_mode::log_and_quit,
                 caf::error{});
  });
  auto obs = observe({{root, "root"}});
  run();
  caf::anon_send(a, fail_atom::value, e1);
  run();
  EXPECT_EQ(report->reason(), e1);
  ASSERT_EQ(report->suppressed.size(), 1u);
  EXPECT_EQ(report->suppressed[0], e2);
  // Siblings heard a cancel that names where it came from.
  auto expected_cancel =
    "cancel:c:scaf::cancelled(root: root/0 failed: " + render(e1) + ")";
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
  ASSERT_TRUE(is(report->reason(), errc::task_exception))
    << render(report->reason());
  EXPECT_EQ(render(report->reason()),
            "scaf::task_exception(root/0: boom in a)");
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
  EXPECT_EQ(render(report->reason()),
            "scaf::task_exception(root/bad: bad init)");
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
  EXPECT_EQ(r->reason(), app_error(7, "body failed"));
  EXPECT_GE(log.index_of("cancel:a:scaf::cancelled(svc: svc failed: " +
                         render(app_error(7, "body failed")) + ")"),
            0);
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- order of done signals ----------------------------------------------------

TEST_F(ScopeTest, DoneFlowsUpChildStateDestroyedBeforeParentSeesDone) {
  caf::actor outer, inner_scope, leaf;
  auto root = open([&](scope& s) {
    outer =
      *s.spawn({.name = "outer"}, [&](traced_task* self) -> caf::behavior {
        self->state.log = &log;
        self->state.name = "outer";
        inner_scope = self->open_scope({.name = "inner"}, [&](scope& in) {
          leaf = *in.spawn(worker, &log, "leaf");
        });
        return {[=](finish_atom) { self->quit(); }};
      });
  });
  run();
  auto obs = observe(
    {{outer, "outer"}, {inner_scope, "inner"}, {leaf, "leaf"}, {root, "root"}});
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
  EXPECT_FALSE(report->reason()) << render(report->reason());
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
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: enough)");
}

// -- cancel -------------------------------------------------------------------

TEST_F(ScopeTest, CancelFromOutsideReachesEveryDescendantWithItsReason) {
  caf::actor root_task, nested, leaf_a, leaf_b;
  auto root = open([&](scope& s) {
    root_task =
      *s.spawn({.name = "svc"}, [&](task_actor* self) -> caf::behavior {
        nested = self->open_scope({.name = "pool"}, [&](scope& pool) {
          leaf_a = *pool.spawn(worker, &log, "a");
          leaf_b = *pool.spawn(worker_with, &log, "b", on_cancel_mode::none,
                               caf::error{});
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
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: shutting down)");
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
  // Cancelled, not failed; the cancel carries the exit reason as its cause.
  EXPECT_EQ(report->status, scope_status::cancelled);
  EXPECT_EQ(cancel_cause(report->cancel_reason),
            caf::make_error(caf::exit_reason::user_shutdown));
  EXPECT_EQ(render(report->cancel_reason),
            "scaf::cancelled(root: caf::exit_reason::user_shutdown)");
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

// -- grace, then force --------------------------------------------------------

TEST_F(ScopeTest, StubbornTaskIsKilledAfterGraceAndNamed) {
  caf::actor polite, stubborn;
  auto root = open([&](scope& s) {
    polite = *s.spawn(worker, &log, "polite");
    stubborn = *s.spawn({.name = "stubborn"}, worker_with, &log, "stubborn",
                        on_cancel_mode::stubborn, caf::error{});
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
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: stop)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, NestedScopeIsAbortedNotKilledSoOrderHolds) {
  caf::actor child_scope, stubborn;
  auto root = open([&](scope& s) {
    child_scope =
      *s.spawn_scope({.name = "inner", .grace = 1h}, [&](scope& in) {
        stubborn = *in.spawn({.name = "mule"}, worker_with, &log, "mule",
                             on_cancel_mode::stubborn, caf::error{});
      });
  });
  run();
  auto obs =
    observe({{stubborn, "mule"}, {child_scope, "inner"}, {root, "root"}});
  run();
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  advance(1s); // root's grace ends; inner's (1 h) has not
  EXPECT_LT(log.index_of("down:mule"), log.index_of("down:inner"));
  EXPECT_LT(log.index_of("down:inner"), log.index_of("down:root"));
  // The root did not kill the scope; the aborted scope killed its task, and
  // the root's report names that kill with its real path.
  EXPECT_EQ(report->killed, std::vector<std::string>{"root/inner/mule"});
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest,
       NestedScopesForceTheirChildrenAtTheEarlierOfTheirGraceAndTheParents) {
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
    owner =
      *s.spawn({.name = "owner"}, [&](traced_task* self) -> caf::behavior {
        self->state.log = &log;
        self->state.name = "owner";
        // Ignores cancel beyond logging: it will be killed.
        self->on_cancel([](const caf::error&) {});
        nested =
          self->open_scope({.name = "sub", .grace = 1h}, [&](scope& sub) {
            leaf = *sub.spawn(worker_with, &log, "leaf",
                              on_cancel_mode::stubborn, caf::error{});
          });
        return {[](finish_atom) {}};
      });
  });
  run();
  auto obs = observe(
    {{owner, "owner"}, {nested, "sub"}, {leaf, "leaf"}, {root, "root"}});
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
  // The aborted scope killed its leaf, then the root killed the owner.
  EXPECT_EQ(report->killed,
            (std::vector<std::string>{"root/owner/sub/0", "root/owner"}));
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, AbortKillsAtOnceIgnoringGrace) {
  caf::actor stubborn;
  auto root = open([&](scope& s) {
    stubborn = *s.spawn({.name = "mule"}, worker_with, &log, "mule",
                        on_cancel_mode::stubborn, caf::error{});
  });
  run();
  caf::anon_send(root, abort_atom::value);
  run();
  EXPECT_EQ(log.count("~mule"), 1u);
  EXPECT_EQ(log.count_prefix("cancel:mule:"), 0u); // killed, not asked
  ASSERT_EQ(report->killed.size(), 1u);
  EXPECT_EQ(report->killed[0], "root/mule");
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: aborted)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, TasksThatQuitOnTheCancelBeforeAnAbortsKillAreNoStragglers) {
  // The root's abort reaches "inner" as a cancel, then as an abort: its
  // tasks, without cancel handlers, quit on the cancel before the kill
  // arrives. They ended on their cancel, with no grace period to overstay.
  auto root = open([&](scope& s) {
    s.spawn_scope({.name = "inner"}, [&](scope& in) {
      in.spawn({.name = "a"}, worker_with, &log, "a", on_cancel_mode::none,
               caf::error{});
      in.spawn({.name = "b"}, worker_with, &log, "b", on_cancel_mode::none,
               caf::error{});
    });
  });
  run();
  caf::anon_send(root, abort_atom::value);
  run();
  EXPECT_EQ(report->stragglers, std::vector<std::string>{});
  EXPECT_EQ(report->killed, std::vector<std::string>{});
  EXPECT_EQ(log.count("~a") + log.count("~b"), 2u);
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: aborted)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- closed means closed ------------------------------------------------------

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
  EXPECT_EQ(render(late.error()),
            "scaf::scope_closed(root: the scope is closed)");
  EXPECT_EQ(log.count("start:late"), 0u);
  caf::anon_send(a, finish_atom::value);
  run();
  EXPECT_FALSE(report->reason());
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
    self
      ->request(
        root, caf::infinite, spawn_atom::value,
        make_spawn_request({.name = "late"}, worker, &log, std::string{"late"}))
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
  auto svc = spawn_scope(
    threaded, {.name = "svc"}, [](scope& s) { s.close(); }, r);
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
        auto scope_hdl = caf::actor_cast<caf::actor>(self->parent_scope());
        self
          ->request(scope_hdl, caf::infinite, spawn_atom::value,
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
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: stop)");
  EXPECT_TRUE(report->killed.empty());
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- nesting and policies -----------------------------------------------------

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
  EXPECT_EQ(report->reason(), err);
  EXPECT_GE(
    log.index_of("cancel:sibling:scaf::cancelled(root: root/l1 failed: " +
                 render(err) + ")"),
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
  EXPECT_EQ(report->reason(), err);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, ServiceScopeAnswersEachRequestWithItsChildsResult) {
  using add_atom = caf::atom_constant<caf::atom("add")>;
  using wait_atom = caf::atom_constant<caf::atom("wait")>;
  auto root = spawn_scope(
    sys, {.name = "calc", .grace = 1s, .policy = failure_policy::isolate},
    [](scope& s) {
      s.serve_requests(
        [](scope& self, add_atom, int x, int y) {
          return self.spawn_with_result<int>(
            {}, [x, y](task_actor* t, task_result<int> result) {
              if (x < 0) {
                t->quit(app_error(2, "negative"));
              } else {
                result(x + y);
                t->quit();
              }
              return caf::behavior{};
            });
        },
        // A request whose child never answers: only a cancel ends it.
        [](scope& self, wait_atom) {
          return self.spawn_with_result<int>(
            {}, [](task_actor*, task_result<int>) {
              return caf::behavior{[](wait_atom) {}};
            });
        });
    },
    report);
  run();
  auto client = sys.spawn([&](caf::event_based_actor* self) {
    auto ask = [&, self](std::string name, caf::message msg) {
      self->request(root, caf::infinite, std::move(msg))
        .then(
          [&, name](int sum) { log.add(name + " " + std::to_string(sum)); },
          [&, name](caf::error& err) { log.add(name + " " + render(err)); });
    };
    ask("sum", caf::make_message(add_atom::value, 2, 3));
    ask("bad", caf::make_message(add_atom::value, -1, 0));
    ask("pending", caf::make_message(wait_atom::value));
  });
  run();
  EXPECT_EQ(log.count("sum 5"), 1u);
  EXPECT_EQ(log.count("bad " + render(app_error(2, "negative"))), 1u);
  EXPECT_EQ(log.count_prefix("pending "), 0u) << "the scope is open";
  caf::anon_send(root, cancel_atom::value, "closing");
  run();
  EXPECT_EQ(log.count_prefix("pending scaf::cancelled("), 1u);
  EXPECT_EQ(report->status, scope_status::failed) << "a child failed";
  EXPECT_EQ(render(report->cancel_reason), "scaf::cancelled(calc: closing)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, ALongLivedScopeKeepsABoundedRecordOfItsFailures) {
  auto spawn_failing = [](scope& s, int from, int to) {
    for (int i = from; i < to; ++i)
      s.spawn([i](task_actor* self) -> caf::behavior {
        self->quit(app_error(1, "request " + std::to_string(i)));
        return {};
      });
  };
  auto root = spawn_scope(
    sys,
    {.name = "service", .policy = failure_policy::isolate, .record_limit = 5},
    [&](scope& s) {
      spawn_failing(s, 0, 500);
      // A nested scope bounds its own list; what it left out counts above.
      s.spawn_scope({.name = "inner", .record_limit = 2},
                    [&](scope& inner) { spawn_failing(inner, 500, 1000); });
      s.join();
    },
    report);
  run();
  EXPECT_EQ(report->status, scope_status::failed);
  EXPECT_EQ(render(report->failure), render(app_error(1, "request 0")));
  ASSERT_EQ(report->suppressed.size(), 5u);
  // Every failure but the first is counted, kept or not: 499 of its own,
  // inner's own failure, and inner's 499 suppressed ones, of which inner
  // kept 2 and counted 497.
  EXPECT_EQ(report->omitted.suppressed + report->suppressed.size(), 999u);
  EXPECT_GE(report->omitted.suppressed, 497u);
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
  EXPECT_GE(log.index_of("cancel:bg:scaf::cancelled(root: main tasks done)"),
            0);
  EXPECT_FALSE(report->reason()) << render(report->reason());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, ServiceScopeRunsUntilCancelled) {
  auto r = std::make_shared<scope_report>();
  caf::actor a;
  auto svc = spawn_scope(
    sys, {.name = "server"}, [&](scope& s) { a = *s.spawn(worker, &log, "a"); },
    r);
  auto obs = observe({{svc, "server"}});
  run();
  caf::anon_send(a, finish_atom::value);
  run();
  // No main work left, but a service scope is not joined: still up.
  EXPECT_EQ(log.count("down:server"), 0u);
  caf::anon_send(svc, cancel_atom::value, "shutting down");
  run();
  EXPECT_EQ(log.count("down:server"), 1u);
  EXPECT_EQ(render(r->reason()), "scaf::cancelled(server: shutting down)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, StatefulTaskStateIsConstructedFromSelfWhenItCanBe) {
  struct with_self {
    explicit with_self(stateful_task<with_self>* ptr) : self(ptr) {
    }
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
  EXPECT_FALSE(report->reason());
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
      s.spawn_scope({.name = "index"},
                    [&](scope& idx) { idx.spawn(worker, &log, "i0"); });
      s.join();
    },
    r);
  run();
  caf::anon_send(flaky, fail_atom::value, err);
  run();
  advance(1s);
  auto why = "scaf::cancelled(root: root/flaky failed: " + render(err) + ")";
  EXPECT_EQ(render_tree(*r, "root"),
            "root: failed: " + render(err) +
              "\n"
              "|- root/flaky: failed: " +
              render(err) +
              "\n"
              "|- root/index: cancelled: " +
              why +
              "\n"
              "|  `- root/index/0: cancelled: " +
              why +
              "\n"
              "`- root/mule: killed: scaf::killed(root/mule: overstayed the "
              "grace period)\n");
}

// -- errors -------------------------------------------------------------------

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

// -- grace, linear in the number of children ----------------------------------

TEST_F(ScopeTest, ChildrenSpawnedIntoACancelledScopeShareOneGraceTimer) {
  constexpr size_t n = 1000;
  auto root = open([&](scope& s) {
    s.cancel("stop");
    for (size_t i = 0; i < n; ++i) {
      // (Not "m" + to_string(i): GCC 12 warns wrongly about that at -O3.)
      std::string name(1, 'm');
      name += std::to_string(i);
      s.spawn(worker_with, &log, name, on_cancel_mode::stubborn, caf::error{});
    }
  });
  run();
  // Every child started cancelled, heard it, and ignored it.
  EXPECT_EQ(log.count_prefix("cancel:m"), n);
  // One timer forces them all: not one per child (whose expiries each
  // scanned every child: quadratic).
  EXPECT_EQ(sched.clock().schedule().size(), 1u);
  advance(999ms);
  EXPECT_EQ(log.count_prefix("~m"), 0u);
  EXPECT_EQ(sched.advance_time(1ms), 1u);
  run();
  EXPECT_EQ(log.count_prefix("~m"), n);
  ASSERT_EQ(report->killed.size(), n);
  EXPECT_EQ(report->killed.front(), "root/0");
  EXPECT_EQ(report->killed.back(), "root/" + std::to_string(n - 1));
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, ChildrenSpawnedLaterDuringShutdownGetAGracePeriodOfTheirOwn) {
  auto root = open([&](scope& s) {
    for (auto name : {"a", "b"})
      s.spawn({.name = name}, worker_with, &log, name, on_cancel_mode::stubborn,
              caf::error{});
  });
  run();
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  advance(500ms);
  // Cleanup work spawned half way through the shutdown.
  for (auto name : {"c", "d"})
    caf::anon_send(root, spawn_atom::value,
                   make_spawn_request({.name = name}, worker_with, &log,
                                      std::string{name},
                                      on_cancel_mode::stubborn, caf::error{}));
  run();
  EXPECT_EQ(log.count_prefix("cancel:c:scaf::cancelled(root: stop)"), 1u);
  advance(500ms);                       // a and b: 1 s after their cancel
  EXPECT_EQ(report->killed.size(), 0u); // written once, at the end
  EXPECT_EQ(log.count("~a") + log.count("~b"), 2u);
  EXPECT_EQ(log.count("~c") + log.count("~d"), 0u);
  advance(499ms);
  EXPECT_EQ(log.count("~c") + log.count("~d"), 0u);
  advance(1ms); // c and d: 1 s after theirs
  EXPECT_EQ(report->killed,
            (std::vector<std::string>{"root/a", "root/b", "root/c", "root/d"}));
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- errors that reach the scope from its own calls ---------------------------

namespace {

/// An argument whose copy throws, as a spawn copies its arguments.
struct throws_on_copy {
  throws_on_copy() = default;
  throws_on_copy(throws_on_copy&&) = default;
  throws_on_copy(const throws_on_copy&) {
    throw std::runtime_error("cannot copy the argument");
  }
};

caf::behavior takes_bomb(task_actor* self, const throws_on_copy&) {
  self->quit();
  return {};
}

} // namespace

TEST_F(ScopeTest, ThrowingSpawnRequestBecomesThatSpawnsErrorAndNothingElse) {
  caf::actor a;
  auto root = open([&](scope& s) { a = *s.spawn(worker, &log, "a"); });
  run();
  auto answer = std::make_shared<caf::error>();
  sys.spawn([&, answer](caf::event_based_actor* self) {
    self
      ->request(
        root, caf::infinite, spawn_atom::value,
        make_spawn_request({.name = "bomb"}, takes_bomb, throws_on_copy{}))
      .then([](caf::actor&) {}, [answer](caf::error& err) { *answer = err; });
  });
  run();
  EXPECT_EQ(render(*answer),
            "scaf::task_exception(root/bomb: cannot copy the argument)");
  // The scope lives on, its child untouched.
  EXPECT_EQ(log.count_prefix("cancel:a:"), 0u);
  caf::anon_send(a, finish_atom::value);
  run();
  EXPECT_EQ(report->status, scope_status::succeeded)
    << render(report->reason());
  EXPECT_TRUE(report->suppressed.empty());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, EmptyErrorsFailTheScopeInsteadOfPassingForSuccess) {
  auto expect_invalid = [&](const std::string& what) {
    ASSERT_EQ(report->status, scope_status::failed) << what;
    EXPECT_TRUE(is(report->failure, errc::invalid_argument))
      << what << ": " << render(report->failure);
    EXPECT_EQ(sys.registry().running(), baseline) << what;
  };
  open([&](scope& s) {
    s.spawn(worker, &log, "a");
    s.fail(caf::error{});
  });
  run();
  expect_invalid("fail");
  EXPECT_EQ(render(report->failure),
            "scaf::invalid_argument(root: fail needs an error, got an empty "
            "caf::error)");
  report = std::make_shared<scope_report>();
  open([&](scope& s) {
    s.spawn(worker, &log, "b");
    s.cancel(caf::error{});
  });
  run();
  expect_invalid("cancel");
  report = std::make_shared<scope_report>();
  auto root = open([&](scope& s) { s.spawn(worker, &log, "c"); });
  run();
  caf::anon_send(root, cancel_atom::value, caf::error{});
  run();
  expect_invalid("cancel_atom");
  EXPECT_EQ(log.count_prefix("cancel:c:"), 1u); // the cancel still happened
}

// -- cancellation is not failure ----------------------------------------------

TEST_F(ScopeTest, NestedScopeThatWasCancelledDoesNotFailItsParent) {
  caf::actor sibling;
  auto root = open([&](scope& s) {
    sibling = *s.spawn(worker, &log, "sibling");
    s.spawn_scope({.name = "inner"}, [&](scope& in) {
      in.spawn(worker, &log, "leaf");
      in.cancel("enough of this");
    });
  });
  run();
  EXPECT_EQ(
    log.count("cancel:leaf:scaf::cancelled(root/inner: enough of this)"), 1u);
  EXPECT_EQ(log.count_prefix("cancel:sibling:"), 0u);
  caf::anon_send(sibling, finish_atom::value);
  run();
  EXPECT_EQ(report->status, scope_status::succeeded)
    << render(report->reason());
  EXPECT_TRUE(report->suppressed.empty());
  EXPECT_FALSE(report->cancel_reason);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, FailureWhileCancellingIsTheScopesFailure) {
  auto err = app_error(8, "cleanup failed");
  auto root = open([&](scope& s) {
    s.spawn(worker_with, &log, "a", on_cancel_mode::fail, err);
  });
  run();
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  EXPECT_EQ(report->status, scope_status::failed);
  EXPECT_EQ(report->failure, err);
  EXPECT_TRUE(report->suppressed.empty());
  // It was cancelled as well, and says so.
  EXPECT_EQ(render(report->cancel_reason), "scaf::cancelled(root: stop)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, ExceptionOutranksAnEarlierOrdinaryError) {
  caf::actor a, b;
  auto err = app_error(1, "expected");
  auto root = open([&](scope& s) {
    a = *s.spawn(worker, &log, "a");
    // Throws when cancelled: a bug, raised after a's ordinary failure.
    b = *s.spawn([](task_actor* self) -> caf::behavior {
      self->on_cancel(
        [](const caf::error&) { throw std::logic_error("bug in cleanup"); });
      return {[](finish_atom) {}};
    });
  });
  run();
  caf::anon_send(a, fail_atom::value, err);
  run();
  ASSERT_EQ(report->status, scope_status::failed);
  EXPECT_EQ(render(report->failure),
            "scaf::task_exception(root/1: bug in cleanup)");
  ASSERT_EQ(report->suppressed.size(), 1u);
  EXPECT_EQ(report->suppressed[0], err);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, TasksHearTheCauseOfTheirCancel) {
  std::vector<std::string> causes;
  auto listener = [&causes](task_actor* self) -> caf::behavior {
    self->on_cancel([self, &causes](const caf::error& why) {
      causes.push_back(render(cancel_cause(why)));
      self->quit(why);
    });
    return {[](finish_atom) {}};
  };
  // A deadline.
  open([&](scope& s) {
    s.fail_after(10ms);
    s.spawn(listener);
  });
  run();
  advance(10ms);
  // A failing sibling.
  auto err = app_error(2, "sibling broke");
  caf::actor a;
  open([&](scope& s) {
    a = *s.spawn(worker, &log, "a");
    s.spawn(listener);
  });
  run();
  caf::anon_send(a, fail_atom::value, err);
  run();
  // The reason given to cancel, and a plain cancel.
  auto root = open([&](scope& s) { s.spawn(listener); });
  run();
  caf::anon_send(root, cancel_atom::value, app_error(3, "shutting down"));
  run();
  root = open([&](scope& s) { s.spawn(listener); });
  run();
  caf::anon_send(root, cancel_atom::value, "going home");
  run();
  EXPECT_EQ(causes, (std::vector<std::string>{
                      "scaf::timeout(root: deadline of 10 ms passed)",
                      render(err), render(app_error(3, "shutting down")),
                      "scaf::cancelled(root: going home)"}));
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, TaskKilledByAnotherActorFailsItsScopeWithCafsKill) {
  // Only a kill by its own scope is a way to stop (`errc::killed`); one by
  // anyone else is a failure, said the way CAF says it.
  caf::actor a;
  open([&](scope& s) { a = *s.spawn({.name = "a"}, worker, &log, "a"); });
  run();
  caf::anon_send_exit(a, caf::exit_reason::kill);
  run();
  ASSERT_EQ(report->status, scope_status::failed);
  EXPECT_TRUE(report->failure == caf::exit_reason::kill);
  EXPECT_FALSE(is_stopped(report->failure));
  EXPECT_EQ(render(report->failure),
            "caf::exit_reason::kill(root/a: killed by another actor than its "
            "scope)");
  EXPECT_TRUE(report->killed.empty());
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- every kind of child spawned into a cancelled scope starts cancelled ------

TEST_F(ScopeTest, EveryKindSpawnedIntoACancelledScopeStartsCancelledAndRuns) {
  bool task_saw = false, fn_saw = false, nested_saw = false;
  int job_runs = 0;
  handle<int> job, cancellable;
  open([&](scope& s) {
    s.cancel("stop");
    s.spawn({.name = "task"}, [&](task_actor* self) -> caf::behavior {
      task_saw = self->is_cancelled(); // from its first line
      self->on_cancel([&, self](const caf::error& why) {
        log.add("handler:" + render(why));
        self->quit(why);
      });
      return {[](finish_atom) {}};
    });
    job = s.spawn_fn([&job_runs] { return ++job_runs; });
    s.spawn_fn([&](task_base* self) {
      fn_saw = self->is_cancelled();
      return 0;
    });
    cancellable = s.spawn_cancellable(-1, [&job_runs] { return ++job_runs; });
    s.spawn_scope({.name = "nested"},
                  [&](scope& in) { nested_saw = in.is_cancelled(); });
  });
  run();
  EXPECT_TRUE(task_saw);
  EXPECT_EQ(log.count("handler:scaf::cancelled(root: stop)"), 1u);
  EXPECT_TRUE(fn_saw);
  EXPECT_TRUE(nested_saw);
  EXPECT_EQ(job_runs, 2); // cleanup work runs
  EXPECT_EQ(job.get(), 1);
  EXPECT_EQ(cancellable.get(), -1);
  EXPECT_EQ(report->status, scope_status::cancelled);
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- names and paths ----------------------------------------------------------

TEST_F(ScopeTest, DetachedScopeKeepsItsRealPathInErrors) {
  caf::actor leaf;
  auto err = app_error(5, "late failure");
  open([&](scope& s) {
    s.spawn({.name = "owner"}, [&](task_actor* self) -> caf::behavior {
      auto jobs = self->open_scope({.name = "jobs"}, [&](scope& j) {
        leaf = *j.spawn({.name = "x"}, worker, &log, "x");
      });
      self->detach(jobs);
      self->quit();
      return {};
    });
    s.spawn({.name = "bystander"}, worker, &log, "bystander");
  });
  run();
  caf::anon_send(leaf, fail_atom::value, err);
  run();
  EXPECT_EQ(report->failure, err);
  EXPECT_EQ(log.count("cancel:bystander:scaf::cancelled(root: root/owner/jobs "
                      "failed: " +
                      render(err) + ")"),
            1u);
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- supervising children one by one ------------------------------------------

TEST_F(ScopeTest, ChildrenCancelledOneByOneShareOneGraceTimer) {
  std::vector<caf::actor> mules;
  caf::actor quick;
  scope_ref ref;
  auto root = open([&](scope& s) {
    ref = s.ref();
    for (int i = 0; i < 100; ++i)
      mules.push_back(*s.spawn({.grace = 1s}, worker_with, &log, "mule",
                               on_cancel_mode::stubborn, caf::error{}));
    quick = *s.spawn({.grace = 100ms}, worker_with, &log, "quick",
                     on_cancel_mode::stubborn, caf::error{});
  });
  run();
  auto timers = [&] { return sched.clock().schedule().size(); };
  auto before = timers();
  // A hundred children cancelled one by one with equal grace periods: one
  // timer for all of them (CAF's clock is a thread: one round trip each
  // made stopping a pool's workers one by one five times slower).
  for (auto& m : mules)
    ref.call([m](scope& s) {
      s.cancel_child(m, make_error(errc::cancelled, "test", "one by one"));
    });
  run();
  EXPECT_EQ(log.count_prefix("cancel:mule:"), 100u);
  EXPECT_EQ(timers(), before + 1);
  // One with a shorter grace period overtakes them: a second timer, forced
  // at its own deadline; the one it overtook dies without re-arming.
  ref.call([&](scope& s) {
    s.cancel_child(quick, make_error(errc::cancelled, "test", "sooner"));
  });
  run();
  EXPECT_EQ(timers(), before + 2);
  advance(100ms);
  EXPECT_EQ(log.count("~quick"), 1u);
  EXPECT_EQ(log.count("~mule"), 0u);
  advance(900ms);
  EXPECT_EQ(log.count("~mule"), 100u);
  EXPECT_EQ(report->killed.size(), 101u);
  // No timer chain is left behind (the watchdog's last look included).
  advance(10s);
  EXPECT_EQ(timers(), before);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, CancelChildStopsOneTaskWithoutFailingTheScope) {
  caf::actor polite, mule, other;
  auto root = open([&](scope& s) {
    polite = *s.spawn({.name = "polite"}, worker, &log, "polite");
    mule = *s.spawn({.name = "mule", .grace = 200ms}, worker_with, &log, "mule",
                    on_cancel_mode::stubborn, caf::error{});
    other = *s.spawn({.name = "other"}, worker, &log, "other");
    EXPECT_TRUE(s.cancel_child(polite, app_error(4, "not needed")) ==
                caf::error{});
    EXPECT_TRUE(s.cancel_child(mule, make_error(errc::cancelled, "me", "go")) ==
                caf::error{});
    EXPECT_TRUE(is(s.cancel_child(caf::actor{}, app_error(4, "x")),
                   errc::invalid_argument));
  });
  run();
  EXPECT_EQ(log.count("cancel:polite:scaf::cancelled(root: " +
                      render(app_error(4, "not needed")) + ")"),
            1u);
  EXPECT_EQ(log.count("~polite"), 1u);
  EXPECT_EQ(log.count("cancel:mule:scaf::cancelled(me: go)"), 1u);
  advance(199ms);
  EXPECT_EQ(log.count("~mule"), 0u);
  advance(1ms); // its own grace period
  EXPECT_EQ(log.count("~mule"), 1u);
  EXPECT_EQ(log.count_prefix("cancel:other:"), 0u);
  caf::anon_send(other, finish_atom::value);
  run();
  EXPECT_EQ(report->status, scope_status::succeeded)
    << render(report->reason());
  EXPECT_EQ(report->killed, std::vector<std::string>{"root/mule"});
  EXPECT_TRUE(report->suppressed.empty());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, AbortChildKillsOneTaskAtOnceWithoutItsHandler) {
  caf::error refused;
  open([&](scope& s) {
    auto x = *s.spawn({.name = "x"}, worker_with, &log, "x",
                      on_cancel_mode::stubborn, caf::error{});
    EXPECT_TRUE(s.abort_child(x) == caf::error{});
    refused = s.abort_child(caf::actor_cast<caf::actor>(s.self()));
  });
  run();
  EXPECT_TRUE(is(refused, errc::invalid_argument)) << render(refused);
  EXPECT_EQ(log.count_prefix("cancel:x:"), 0u);
  EXPECT_EQ(log.count("~x"), 1u);
  EXPECT_EQ(report->status, scope_status::succeeded)
    << render(report->reason());
  EXPECT_EQ(report->killed, std::vector<std::string>{"root/x"});
  EXPECT_TRUE(report->suppressed.empty());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, ChildDoneHandlerReplacesTheFailurePolicy) {
  std::vector<std::string> seen;
  caf::actor a, b;
  auto err = app_error(6, "a broke");
  auto root = open([&](scope& s) {
    s.on_child_done([&seen](const child_exit& x) {
      seen.push_back(x.name + ":" + to_string(x.status) + ":" +
                     render(x.reason));
    });
    a = *s.spawn({.name = "a"}, worker, &log, "a");
    b = *s.spawn({.name = "b"}, worker, &log, "b");
  });
  run();
  caf::anon_send(a, fail_atom::value, err);
  run();
  // Nobody was cancelled because of it; the handler decides.
  EXPECT_EQ(log.count_prefix("cancel:b:"), 0u);
  caf::anon_send(b, finish_atom::value);
  run();
  EXPECT_EQ(
    seen, (std::vector<std::string>{"a:failed:" + render(err), "b:done:none"}));
  EXPECT_EQ(report->status, scope_status::succeeded);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, CancelHandlerStopsTheChildrenInItsOwnOrder) {
  std::vector<caf::actor> kids;
  auto root = open([&](scope& s) {
    for (auto name : {"a", "b", "c"})
      kids.push_back(*s.spawn({.name = name}, worker, &log, name));
    s.on_cancel([&s, &kids](const caf::error& why) {
      // Reverse order, one at a time: the next once the last is done.
      auto next = std::make_shared<std::function<void()>>();
      s.on_child_done([&s, next](const child_exit&) { (*next)(); });
      *next = [&s, &kids, why] {
        if (kids.empty())
          return;
        auto last = kids.back();
        kids.pop_back();
        s.cancel_child(last, why);
      };
      (*next)();
    });
  });
  run();
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  EXPECT_EQ(log.events(), (std::vector<std::string>{
                            "start:a", "start:b", "start:c",
                            "cancel:c:scaf::cancelled(root: stop)", "~c",
                            "cancel:b:scaf::cancelled(root: stop)", "~b",
                            "cancel:a:scaf::cancelled(root: stop)", "~a"}));
  EXPECT_EQ(report->status, scope_status::cancelled);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, AfterRunsInTheScopeOnlyWhileItLives) {
  int fired = 0;
  // A service scope, open until joined: `after` joins it.
  spawn_scope(
    sys, {.name = "svc"},
    [&fired](scope& s) {
      s.after(100ms, [&fired, &s] {
        ++fired;
        s.join();
      });
    },
    report);
  run();
  advance(99ms);
  EXPECT_EQ(fired, 0);
  advance(1ms);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(report->status, scope_status::succeeded);
  // A finished scope runs nothing, and a pending `after` does not keep it.
  open([&](scope& s) { s.after(50ms, [&fired] { ++fired; }); });
  run();
  EXPECT_EQ(sys.registry().running(), baseline);
  advance(50ms);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, KeepOpenKeepsANestedScopeUntilItIsJoined) {
  caf::actor inner;
  // A service scope, not joined (its join would join inner too).
  auto root = spawn_scope(
    sys, {.name = "root"},
    [&](scope& s) {
      inner =
        *s.spawn_scope({.name = "inner"}, [](scope& in) { in.keep_open(); });
    },
    report);
  run();
  auto obs = observe({{inner, "inner"}, {root, "root"}});
  run();
  EXPECT_EQ(log.count("down:inner"), 0u); // no children, yet open
  caf::anon_send(inner, join_atom::value);
  run();
  EXPECT_EQ(log.count("down:inner"), 1u);
  EXPECT_EQ(log.count("down:root"), 0u);
  caf::anon_send(root, join_atom::value);
  run();
  EXPECT_LT(log.index_of("down:inner"), log.index_of("down:root"));
  EXPECT_EQ(report->status, scope_status::succeeded);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, StartFromAFactoryResolvesOnceTheChildIsUp) {
  handle<void> task_up, scope_up;
  caf::actor inner;
  auto late = std::make_shared<std::function<void()>>();
  // A service scope, not joined (its join would join sub too).
  auto root = spawn_scope(
    sys, {.name = "root"},
    [&](scope& s) {
      task_up = s.start({.name = "t"}, task_factory(worker, &log, "t"));
      scope_up = s.start({.name = "sub"}, scope_factory({}, [late](scope& in) {
                           in.defer_started();
                           in.keep_open();
                           *late = [&in] {
                             in.signal_started();
                             in.join();
                           };
                         }));
      inner = scope_up.task();
    },
    report);
  run();
  EXPECT_TRUE(task_up.ready());
  EXPECT_FALSE(scope_up.ready()); // its body deferred being up
  // Later, in the nested scope's own context.
  caf::anon_send(inner, detail::continuation{*late});
  run();
  ASSERT_TRUE(scope_up.ready());
  EXPECT_TRUE(scope_up.get());
  EXPECT_EQ(log.count("start:t"), 1u);
  caf::anon_send(task_up.task(), finish_atom::value);
  caf::anon_send(root, join_atom::value);
  run();
  EXPECT_EQ(report->status, scope_status::succeeded);
  // A child that ends before it is up resolves the handle with its error.
  handle<void> failed_up;
  open([&](scope& s) {
    failed_up = s.start({.name = "f"},
                        task_factory([](task_actor* self) -> caf::behavior {
                          self->quit(app_error(9, "no"));
                          return {};
                        }));
  });
  run();
  EXPECT_EQ(failed_up.get().error(), app_error(9, "no"));
  EXPECT_EQ(report->failure, app_error(9, "no"));
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, TaskKilledWhileWaitingForItsScopesLosesNoFailure) {
  auto err = app_error(7, "nested failure");
  caf::actor owner;
  open([&](scope& s) {
    owner = *s.spawn({.name = "owner"}, [&](task_actor* self) -> caf::behavior {
      // One scope fails at once: the owner quits with that failure and
      // waits for the other one, which takes its time to stop.
      self->open_scope({.name = "failing"}, [err](scope& f) { f.fail(err); });
      self->open_scope({.name = "slow", .grace = 1h}, [&](scope& sl) {
        sl.spawn(worker_with, &log, "mule", on_cancel_mode::stubborn,
                 caf::error{});
      });
      return {[](finish_atom) {}};
    });
  });
  run();
  EXPECT_EQ(log.count_prefix("cancel:mule:"), 1u); // the owner is quitting
  // Killed by someone else while it waits: it never reports the failure it
  // took on; its scope does.
  caf::anon_send_exit(owner, caf::exit_reason::kill);
  run();
  EXPECT_EQ(report->status, scope_status::failed);
  EXPECT_EQ(report->failure, err);
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- user handlers cannot break the protocol ----------------------------------

TEST_F(ScopeTest, CancelHandlerThatThrowsFallsBackToCancellingEveryChild) {
  auto root = open([&](scope& s) {
    s.spawn({.name = "a"}, worker, &log, "a");
    s.on_cancel(
      [](const caf::error&) { throw std::runtime_error("handler broke"); });
  });
  run();
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  EXPECT_EQ(log.count("cancel:a:scaf::cancelled(root: stop)"), 1u);
  EXPECT_EQ(report->status, scope_status::failed);
  EXPECT_EQ(render(report->failure),
            "scaf::task_exception(root: handler broke)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, CancelHandlerThatLeavesChildrenRunningIsBoundedByTheGrace) {
  auto root = open([&](scope& s) {
    s.spawn({.name = "a"}, worker, &log, "a");
    s.on_cancel([](const caf::error&) {}); // stops nobody
  });
  run();
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  advance(999ms);
  EXPECT_EQ(log.count("~a"), 0u);
  advance(1ms); // the scope's grace period: whatever is left is forced
  EXPECT_EQ(log.count("~a"), 1u);
  EXPECT_EQ(report->killed, std::vector<std::string>{"root/a"});
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, StartHandleContinuationRunsWhenItsChildIsTheLastToEnd) {
  std::string seen;
  auto root = open([&](scope& s) {
    auto h = s.start({.name = "slow"},
                     task_factory([](task_actor* self) -> caf::behavior {
                       self->defer_started(); // never up
                       return {[](finish_atom) {}};
                     }));
    h.then(s.self(),
           [&seen](caf::expected<void> r) { seen = render(r.error()); });
  });
  run();
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  // The scope resolved the handle as its last child ended, and ran the
  // continuation before it finished.
  EXPECT_EQ(seen, "scaf::cancelled(root: stop)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, ChildDoneHandlerThatThrowsLetsTheDonePathFinish) {
  handle<void> up;
  open([&](scope& s) {
    s.on_child_done(
      [](const child_exit&) { throw std::runtime_error("handler broke"); });
    up = s.start({.name = "f"},
                 task_factory([](task_actor* self) -> caf::behavior {
                   self->quit(app_error(1, "no"));
                   return {};
                 }));
  });
  run();
  // The handle still resolved, the scope still finished, failed once.
  ASSERT_TRUE(up.ready());
  EXPECT_EQ(up.get().error(), app_error(1, "no"));
  EXPECT_EQ(render(report->failure),
            "scaf::task_exception(root: handler broke)");
  EXPECT_TRUE(report->suppressed.empty());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, NegativeDurationsAreRefusedAndChangeNothing) {
  std::vector<std::string> errors;
  caf::timespan grace_after{};
  int ran = 0;
  caf::actor keeper;
  open([&](scope& s) {
    auto note = [&](caf::error err) { errors.push_back(render(err)); };
    // Keeps the scope alive, so that a wrongly armed timer would fire.
    keeper = *s.spawn({.name = "k"}, worker, &log, "k");
    note(s.set_grace(-1s));
    note(s.fail_after(-1s));
    note(s.move_on_after(-1s));
    note(s.after(-1ms, [&ran] { ++ran; }));
    auto nested = s.spawn_scope({.name = "n", .grace = -1s}, [](scope&) {});
    note(nested ? caf::error{} : nested.error());
    auto child = s.spawn({.name = "c", .grace = -1s}, worker, &log, "c");
    note(child ? caf::error{} : child.error());
    auto fn = s.spawn_fn({.name = "f", .grace = -1s}, [&ran] {
      ++ran;
      return 1;
    });
    note(fn.ready() ? fn.get().error() : caf::error{});
    grace_after = s.grace();
  });
  run();
  advance(1s);
  EXPECT_EQ(errors,
            (std::vector<std::string>{
              "scaf::invalid_argument(root: a grace period cannot be negative)",
              "scaf::invalid_argument(root: a deadline cannot be negative)",
              "scaf::invalid_argument(root: a deadline cannot be negative)",
              "scaf::invalid_argument(root: a delay cannot be negative)",
              "scaf::invalid_argument(root: a grace period cannot be negative)",
              "scaf::invalid_argument(root/c: a grace period cannot be "
              "negative)",
              "scaf::invalid_argument(root/f: a grace period cannot be "
              "negative)"}));
  EXPECT_EQ(grace_after, caf::timespan{1s});
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(log.count("start:c"), 0u);
  EXPECT_EQ(log.count_prefix("cancel:k:"), 0u);
  EXPECT_EQ(sys.registry().running(), baseline + 2); // the scope and k
  caf::anon_send(keeper, finish_atom::value);
  run();
  EXPECT_EQ(report->status, scope_status::succeeded);
  EXPECT_FALSE(report->cancel_reason);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, DurationsOfTimespanMaxMeanNever) {
  constexpr auto never = caf::timespan::max();
  int fired = 0;
  caf::actor mule;
  std::vector<std::string> errors;
  auto root = open([&](scope& s) {
    auto note = [&](caf::error err) { errors.push_back(render(err)); };
    note(s.set_grace(never));
    note(s.fail_after(never));
    note(s.move_on_after(never));
    note(s.after(never, [&fired] { ++fired; }));
    mule = *s.spawn({.name = "mule"}, worker_with, &log, "mule",
                    on_cancel_mode::stubborn, caf::error{});
  });
  run();
  // The deadlines never come: the scope is not cancelled.
  advance(24h);
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(log.count_prefix("cancel:mule:"), 0u);
  // Cancelled, the stubborn task is never forced.
  caf::anon_send(root, cancel_atom::value, "stop");
  run();
  advance(24h);
  EXPECT_EQ(log.count("cancel:mule:scaf::cancelled(root: stop)"), 1u);
  EXPECT_EQ(log.count("~mule"), 0u);
  EXPECT_EQ(sys.registry().running(), baseline + 2); // the scope and mule
  caf::anon_send(mule, finish_atom::value);
  run();
  EXPECT_EQ(errors, std::vector<std::string>(4, "none"));
  EXPECT_EQ(report->status, scope_status::cancelled);
  EXPECT_TRUE(report->killed.empty());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, ScopeFactoryWhoseBodyFailsIsNeverUp) {
  handle<void> threw, returned_error;
  open([&](scope& s) {
    threw = s.start({.name = "t"}, scope_factory({}, [](scope&) {
                      throw std::runtime_error("body broke");
                    }));
    returned_error = s.start(
      {.name = "e"}, scope_factory({}, [](scope&) -> caf::expected<void> {
        return app_error(4, "no");
      }));
  });
  run();
  ASSERT_TRUE(threw.ready());
  EXPECT_EQ(render(threw.get().error()),
            "scaf::task_exception(root/t: body broke)");
  ASSERT_TRUE(returned_error.ready());
  EXPECT_EQ(returned_error.get().error(), app_error(4, "no"));
  EXPECT_EQ(report->status, scope_status::failed);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, EmptyFunctionsAreRefusedWithAClearError) {
  caf::error after_error;
  open([&](scope& s) {
    after_error = s.after(1ms, {});
    s.on_no_tasks({});
  });
  run();
  EXPECT_EQ(render(after_error),
            "scaf::invalid_argument(root: after needs a function, got an "
            "empty one)");
  EXPECT_EQ(render(report->failure),
            "scaf::invalid_argument(root: on_no_tasks needs a function, got "
            "an empty one)");
  EXPECT_TRUE(report->suppressed.empty());
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- messages of the scope's own (scope::on_message) --------------------------

namespace {

using ping_atom = caf::atom_constant<caf::atom("ping")>;
using later_atom = caf::atom_constant<caf::atom("later")>;
using boom_atom = caf::atom_constant<caf::atom("boom")>;

} // namespace

TEST_F(ScopeTest, ScopeAnswersMessagesOfItsOwnNowOrLater) {
  auto svc = spawn_scope(
    sys, {.name = "svc", .grace = 1s},
    [](scope& s) {
      s.on_message({
        [](ping_atom, int x) { return x + 1; },
        [&s](later_atom) {
          // Answered once the delay has passed, from the scope's context.
          auto rp = s.self()->make_response_promise();
          s.after(50ms, [rp]() mutable { rp.deliver(std::string{"late"}); });
        },
      });
    },
    report);
  std::vector<std::string> answers;
  sys.spawn([&](caf::event_based_actor* self) {
    self->request(svc, caf::infinite, ping_atom::value, 41).then([&](int x) {
      answers.push_back(std::to_string(x));
    });
    self->request(svc, caf::infinite, later_atom::value)
      .then([&](std::string& x) { answers.push_back(x); });
    self->request(svc, caf::infinite, std::string{"unknown"})
      .then([&](std::string&) { answers.push_back("matched?"); },
            [&](caf::error& err) { answers.push_back(render(err)); });
  });
  run();
  EXPECT_EQ(answers, (std::vector<std::string>{
                       "42", render(caf::sec::unexpected_message)}));
  advance(50ms);
  EXPECT_EQ(answers.back(), "late");
  // Its own messages still come first.
  caf::anon_send(svc, cancel_atom::value, "done");
  run();
  EXPECT_EQ(report->status, scope_status::cancelled);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, MessageHandlerThatThrowsFailsTheScope) {
  auto svc = spawn_scope(
    sys, {.name = "svc", .grace = 1s},
    [](scope& s) {
      s.on_message(
        {[](boom_atom) -> int { throw std::runtime_error("handler broke"); }});
    },
    report);
  std::optional<caf::error> answer;
  sys.spawn([&](caf::event_based_actor* self) {
    self->request(svc, caf::infinite, boom_atom::value)
      .then([](int) {}, [&](caf::error& err) { answer = err; });
  });
  run();
  ASSERT_TRUE(answer);
  EXPECT_TRUE(is(*answer, errc::task_exception)) << render(*answer);
  EXPECT_EQ(report->status, scope_status::failed);
  EXPECT_EQ(render(report->reason()),
            "scaf::task_exception(svc: handler broke)");
  EXPECT_EQ(sys.registry().running(), baseline);
}

// -- join is transitive
// ---------------------------------------------------------

TEST_F(ScopeTest, JoinReachesChildScopesThatNobodyJoined) {
  // Child scopes live until joined; a parent's join joins them too, so
  // idle ones finish instead of keeping the parent waiting forever.
  scope_owner left_open, with_task;
  caf::actor a;
  auto root = open([&](scope& s) {
    left_open = s.open_child({.name = "idle"});
    with_task = s.open_child({.name = "busy"}, [&](scope& in) {
      a = *in.spawn({.name = "a"}, worker, &log, "a");
    });
    left_open.detach();
    with_task.detach();
  }); // the body's end joins root, and with it both child scopes
  run();
  auto obs = observe({{root, "root"}});
  run();
  EXPECT_EQ(log.count("down:root"), 0u); // "busy" still works
  caf::anon_send(a, finish_atom::value);
  run();
  EXPECT_EQ(log.count("down:root"), 1u);
  EXPECT_EQ(report->status, scope_status::succeeded);
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, AJoinedChildScopeStillAcceptsWorkUntilItFinishes) {
  auto root = make_scope(sys, {.name = "root"});
  auto child = root.ref().open_child({.name = "child"});
  auto a = child.ref().spawn(worker, &log, std::string{"a"});
  run();
  root.join(); // joins child too
  run();
  EXPECT_EQ(child.ref().state(), scope_state::joined);
  auto more = child.ref().spawn_fn([] { return 2; });
  run();
  EXPECT_EQ(more.get(), 2);
  caf::anon_send(a.task(), finish_atom::value);
  run();
  ASSERT_TRUE(root.done().ready());
  EXPECT_TRUE(is(child.ref().spawn_fn([] { return 3; }).wait().error(),
                 errc::scope_closed));
}

// -- four outcomes: killed is told apart from cancelled
// ---------------------------

TEST_F(ScopeTest, KilledIsToldApartFromCancelledByHandleReportTreeAndLog) {
  std::optional<log_capture> lines{std::in_place, spdlog::level::warn};
  handle<void> mule, polite;
  handle<int> never_ran;
  std::optional<scope_ref> ref;
  open([&](scope& s) {
    ref = s.ref();
    mule = *s.handle_of(*s.spawn({.name = "mule"}, worker_with, &log, "mule",
                                 on_cancel_mode::stubborn, caf::error{}));
    polite = *s.handle_of(*s.spawn({.name = "polite"}, worker, &log, "polite"));
    s.set_limit(1);
    s.spawn_fn({.name = "first"}, [] { return 1; });
    never_ran = s.spawn_fn({.name = "queued"}, [] { return 2; });
    never_ran.abort(); // forced before it ran
  });
  run();
  ref->cancel("stop");
  run();
  auto tree = ref->tree();
  advance(1s); // the grace period ends: the mule is killed
  auto text = lines->text();
  lines.reset();
  ASSERT_TRUE(mule.ready() && polite.ready() && never_ran.ready());
  EXPECT_EQ(render(mule.get().error()),
            "scaf::killed(root/mule: overstayed the grace period)");
  EXPECT_EQ(render(polite.get().error()), "scaf::cancelled(root: stop)");
  EXPECT_TRUE(is_stopped(mule.get().error()));
  EXPECT_TRUE(is_stopped(polite.get().error()));
  EXPECT_EQ(render(never_ran.get().error()),
            "scaf::killed(root: aborted through its handle)");
  EXPECT_EQ(report->status, scope_status::cancelled);
  EXPECT_FALSE(report->failure);
  EXPECT_EQ(report->killed, std::vector<std::string>{"root/mule"});
  // Within its grace period, the tree said it was being cancelled.
  ASSERT_TRUE(tree.ready() && tree.get());
  auto snapshot = *tree.get();
  for (auto& x : snapshot.children) {
    if (x.name == "mule") {
      EXPECT_EQ(x.state, node_state::cancelling);
    }
  }
  EXPECT_NE(text.find("root/mule: killing it (overstayed the grace period)"),
            std::string::npos)
    << text;
  EXPECT_EQ(text.find("root/polite: killing"), std::string::npos) << text;
}

TEST_F(ScopeTest, BehaviorTaskWithAResultResolvesItsHandleOnceItEnded) {
  handle<int> valued, kept, none, killed;
  open([&](scope& s) {
    valued = s.spawn_with_result<int>(
      {.name = "valued"},
      [](task_actor* self, task_result<int> result) -> caf::behavior {
        result(42);
        self->quit();
        return {};
      });
    // Its value comes before its cancel: the cancel does not discard it.
    kept = s.spawn_with_result<int>(
      {.name = "kept"},
      [](task_actor* self, task_result<int> result) -> caf::behavior {
        result(7);
        self->on_cancel([self](const caf::error& why) { self->quit(why); });
        return {[](finish_atom) {}};
      });
    none = s.spawn_with_result<int>(
      {.name = "none"},
      [](task_actor* self, task_result<int>) -> caf::behavior {
        self->quit();
        return {};
      });
    killed = s.spawn_with_result<int>(
      {.name = "killed", .grace = 0s},
      [](task_actor* self, task_result<int>) -> caf::behavior {
        self->on_cancel([](const caf::error&) {});
        return {[](finish_atom) {}};
      });
  });
  run();
  EXPECT_EQ(valued.get(), 42);
  EXPECT_EQ(none.get().error(), make_error(errc::cancelled));
  EXPECT_NE(render(none.get().error()).find("ended without a result"),
            std::string::npos);
  EXPECT_FALSE(kept.ready());
  kept.cancel();
  killed.cancel();
  run();
  EXPECT_EQ(kept.get(), 7);
  ASSERT_FALSE(killed.get());
  EXPECT_TRUE(is(killed.get().error(), errc::killed))
    << render(killed.get().error());
  EXPECT_EQ(report->status, scope_status::succeeded)
    << render(report->reason());
  EXPECT_EQ(sys.registry().running(), baseline);
}

TEST_F(ScopeTest, StandInIsToldWhenForcedAndItsScopeWaitsForIt) {
  caf::actor told_one;
  handle<void> told, untold;
  std::vector<std::string> forces;
  open([&](scope& s) {
    told_one =
      *s.spawn({.name = "told", .stand_in = true}, [&forces](task_actor* self) {
        self->on_force([self, &forces](const caf::error& why) {
          forces.push_back(render(why));
        });
        return caf::behavior{[self](finish_atom) {
          self->quit(make_error(errc::killed, self->path(), "gone there"));
        }};
      });
    told = *s.handle_of(told_one);
    // Without a force handler: it ends at once, killed.
    untold = *s.handle_of(
      *s.spawn({.name = "untold", .stand_in = true},
               [](task_actor*) { return caf::behavior{[](finish_atom) {}}; }));
  });
  run();
  told.abort();
  untold.abort();
  run();
  ASSERT_EQ(forces.size(), 1u);
  EXPECT_NE(forces[0].find("scaf::killed(root/told"), std::string::npos)
    << forces[0];
  // Not killed: its scope waits until the work it stands for is gone.
  EXPECT_FALSE(told.ready());
  ASSERT_TRUE(untold.ready());
  EXPECT_TRUE(is(untold.get().error(), errc::killed));
  caf::anon_send(told_one, finish_atom::value);
  run();
  ASSERT_TRUE(told.ready());
  EXPECT_TRUE(is(told.get().error(), errc::killed));
  EXPECT_EQ(report->killed,
            (std::vector<std::string>{"root/untold", "root/told"}));
  EXPECT_EQ(report->status, scope_status::succeeded)
    << render(report->reason());
  EXPECT_EQ(sys.registry().running(), baseline);
}
