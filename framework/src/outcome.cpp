#include "outcome.hpp"

#include "scaf/detail/task_exception.hpp"
#include "scaf/errc.hpp"

namespace scaf::detail {

failure_taken scope_outcome::failed(caf::error reason) {
  auto& first = failure_;
  if (!first) {
    if (policy_ == failure_policy::race && race_won_ &&
        !is(reason, errc::task_exception)) {
      // The race is decided: failures no longer are.
      keep(lists().suppressed, std::move(reason), omitted_.suppressed);
      return {failure_fate::suppressed, policy_action::none};
    }
    first = std::move(reason);
    return {failure_fate::first, policy_ == failure_policy::errgroup
                                   ? policy_action::cancel_siblings
                                   : policy_action::none};
  }
  auto& suppressed = lists().suppressed;
  if (outranks(reason, first)) {
    // A bug outranks an expected error.
    suppressed.insert(suppressed.begin(), std::move(first));
    first = std::move(reason);
    return {failure_fate::outranking, policy_action::none};
  }
  keep(suppressed, std::move(reason), omitted_.suppressed);
  return {failure_fate::suppressed, policy_action::none};
}

policy_action scope_outcome::succeeded() {
  if (policy_ != failure_policy::race || race_won_)
    return policy_action::none;
  race_won_ = true;
  // Failures before the winner no longer decide the result.
  if (failure_ && !is(failure_, errc::task_exception)) {
    auto& suppressed = lists().suppressed;
    suppressed.insert(suppressed.begin(), std::move(failure_));
    failure_ = caf::error{};
  }
  return policy_action::cancel_siblings;
}

void scope_outcome::cancelled(const caf::error& reason) {
  if (!cancel_reason_)
    cancel_reason_ = reason;
}

void scope_outcome::merge(nested_report& x) {
  omitted_.suppressed += x.omitted.suppressed;
  omitted_.killed += x.omitted.killed;
  omitted_.stragglers += x.omitted.stragglers;
  if (x.suppressed.empty() && x.killed.empty() && x.stragglers.empty())
    return;
  auto& xs = lists();
  append_moved(xs.suppressed, x.suppressed);
  append_moved(xs.killed, x.killed);
  append_moved(xs.stragglers, x.stragglers);
  if (over_limit(xs.suppressed))
    trim(xs.suppressed, omitted_.suppressed);
  if (over_limit(xs.killed))
    trim(xs.killed, omitted_.killed);
  if (over_limit(xs.stragglers))
    trim(xs.stragglers, omitted_.stragglers);
}

scope_report scope_outcome::finish() {
  scope_report report;
  if (failure_)
    report.status = scope_status::failed;
  else if (cancel_reason_)
    report.status = scope_status::cancelled;
  else
    report.status = scope_status::succeeded;
  report.failure = std::move(failure_);
  report.cancel_reason = std::move(cancel_reason_);
  if (lists_) {
    trim(lists_->suppressed, omitted_.suppressed);
    trim(lists_->killed, omitted_.killed);
    trim(lists_->stragglers, omitted_.stragglers);
    report.suppressed = std::move(lists_->suppressed);
    report.killed = std::move(lists_->killed);
    report.stragglers = std::move(lists_->stragglers);
    report.children = std::move(lists_->children);
    lists_.reset();
  }
  report.omitted = omitted_;
  return report;
}

} // namespace scaf::detail
