// Tests of src/outcome.hpp: a scope's report while it runs, and its failure
// policy: the first failure wins, an exception outranks an earlier error,
// stopping is not failing, a race is won by the first success.
#include "outcome.hpp"

#include <string>

#include <gtest/gtest.h>

#include "scaf/errc.hpp"

using namespace scaf;
using namespace scaf::detail;

namespace {

caf::error app(uint8_t code) {
  return caf::error{code, caf::atom("app"), caf::make_message()};
}

caf::error exception(std::string what) {
  return make_error(errc::task_exception, "root/x", std::move(what));
}

} // namespace

TEST(ScopeOutcome, FirstFailureWinsAndCancelsTheSiblingsUnderErrgroup) {
  scope_outcome x{failure_policy::errgroup};
  auto first = x.failed(app(1));
  EXPECT_EQ(first.fate, failure_fate::first);
  EXPECT_EQ(first.action, policy_action::cancel_siblings);
  auto later = x.failed(app(2));
  EXPECT_EQ(later.fate, failure_fate::suppressed);
  EXPECT_EQ(later.action, policy_action::none);
  auto report = x.finish();
  EXPECT_EQ(report.status, scope_status::failed);
  EXPECT_EQ(report.failure, app(1));
  EXPECT_EQ(report.suppressed, std::vector<caf::error>{app(2)});
}

TEST(ScopeOutcome, AnExceptionOutranksAnEarlierError) {
  scope_outcome x{failure_policy::errgroup};
  x.failed(app(1));
  auto bug = x.failed(exception("boom"));
  EXPECT_EQ(bug.fate, failure_fate::outranking);
  EXPECT_EQ(x.displaced(), app(1));
  auto report = x.finish();
  EXPECT_EQ(report.failure, exception("boom"));
  EXPECT_EQ(report.suppressed, std::vector<caf::error>{app(1)});
}

TEST(ScopeOutcome, IsolateCancelsNobodyAndCancelledIsNotFailed) {
  scope_outcome x{failure_policy::isolate};
  EXPECT_EQ(x.failed(app(1)).action, policy_action::none);
  scope_outcome y{failure_policy::errgroup};
  auto why = make_cancel_error("root", "stop");
  y.cancelled(why);
  y.cancelled(make_cancel_error("root", "again")); // the first one counts
  auto report = y.finish();
  EXPECT_EQ(report.status, scope_status::cancelled);
  EXPECT_EQ(report.cancel_reason, why);
  EXPECT_EQ(report.reason(), why);
}

TEST(ScopeOutcome, ARaceIsWonByTheFirstSuccessUnlessABugCameFirst) {
  scope_outcome x{failure_policy::race};
  EXPECT_EQ(x.failed(app(1)).action, policy_action::none);
  EXPECT_EQ(x.succeeded(), policy_action::cancel_siblings);
  EXPECT_EQ(x.succeeded(), policy_action::none); // decided already
  EXPECT_EQ(x.failed(app(2)).fate, failure_fate::suppressed);
  auto report = x.finish();
  EXPECT_EQ(report.status, scope_status::succeeded);
  EXPECT_EQ(report.suppressed, (std::vector<caf::error>{app(1), app(2)}));
  scope_outcome y{failure_policy::race};
  y.failed(exception("bug"));
  y.succeeded();
  EXPECT_EQ(y.finish().failure, exception("bug"));
}

TEST(ScopeOutcome, KilledAndStragglersAreListedAndMergedFromBelow) {
  scope_outcome x{failure_policy::errgroup};
  x.killed("root/a");
  x.straggler("root/b");
  nested_report below;
  below.killed = {"root/s/c"};
  below.stragglers = {"root/s/d"};
  below.suppressed = {app(3)};
  x.merge(below);
  auto report = x.finish();
  EXPECT_EQ(report.status, scope_status::succeeded);
  EXPECT_EQ(report.killed, (std::vector<std::string>{"root/a", "root/s/c"}));
  EXPECT_EQ(report.stragglers,
            (std::vector<std::string>{"root/b", "root/s/d"}));
  EXPECT_EQ(report.suppressed, std::vector<caf::error>{app(3)});
}

TEST(ScopeOutcome, ListsKeepTheLatestEntriesUpToTheLimitAndCountTheRest) {
  scope_outcome x{failure_policy::isolate};
  x.set_record_limit(3);
  for (uint8_t code = 1; code <= 100; ++code)
    x.failed(app(code));
  for (int i = 0; i < 10; ++i)
    x.killed("root/k" + std::to_string(i));
  x.straggler("root/s");
  auto report = x.finish();
  EXPECT_EQ(report.failure, app(1)) << "the first failure is always kept";
  EXPECT_EQ(report.suppressed,
            (std::vector<caf::error>{app(98), app(99), app(100)}));
  EXPECT_EQ(report.omitted.suppressed, 96u);
  EXPECT_EQ(report.killed,
            (std::vector<std::string>{"root/k7", "root/k8", "root/k9"}));
  EXPECT_EQ(report.omitted.killed, 7u);
  EXPECT_EQ(report.stragglers, std::vector<std::string>{"root/s"});
  EXPECT_EQ(report.omitted.stragglers, 0u);
}

TEST(ScopeOutcome, WhatANestedScopeLeftOutIsCountedAbove) {
  scope_outcome x{failure_policy::errgroup};
  x.set_record_limit(2);
  nested_report below;
  below.suppressed = {app(1), app(2)};
  below.omitted.suppressed = 40;
  below.omitted.killed = 2;
  x.merge(below);
  nested_report more;
  more.suppressed = {app(3), app(4), app(5)};
  x.merge(more);
  auto report = x.finish();
  EXPECT_EQ(report.suppressed, (std::vector<caf::error>{app(4), app(5)}));
  EXPECT_EQ(report.omitted.suppressed, 43u);
  EXPECT_EQ(report.omitted.killed, 2u);
}
