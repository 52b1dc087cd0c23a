#include "outcome.hpp"

#include "scaf/detail/task_exception.hpp"
#include "scaf/errc.hpp"

namespace scaf::detail {

failure_taken scope_outcome::failed(caf::error reason) {
  auto& first = report_.failure;
  if (!first) {
    if (policy_ == failure_policy::race && race_won_ &&
        !is(reason, errc::task_exception)) {
      // The race is decided: failures no longer are.
      report_.suppressed.push_back(std::move(reason));
      return {failure_fate::suppressed, policy_action::none};
    }
    first = std::move(reason);
    return {failure_fate::first, policy_ == failure_policy::errgroup
                                   ? policy_action::cancel_siblings
                                   : policy_action::none};
  }
  if (outranks(reason, first)) {
    // A bug outranks an expected error.
    report_.suppressed.insert(report_.suppressed.begin(), std::move(first));
    first = std::move(reason);
    return {failure_fate::outranking, policy_action::none};
  }
  report_.suppressed.push_back(std::move(reason));
  return {failure_fate::suppressed, policy_action::none};
}

policy_action scope_outcome::succeeded() {
  if (policy_ != failure_policy::race || race_won_)
    return policy_action::none;
  race_won_ = true;
  // Failures before the winner no longer decide the result.
  if (report_.failure && !is(report_.failure, errc::task_exception)) {
    report_.suppressed.insert(report_.suppressed.begin(),
                              std::move(report_.failure));
    report_.failure = caf::error{};
  }
  return policy_action::cancel_siblings;
}

void scope_outcome::cancelled(const caf::error& reason) {
  if (!report_.cancel_reason)
    report_.cancel_reason = reason;
}

void scope_outcome::merge(nested_report& x) {
  append_moved(report_.suppressed, x.suppressed);
  append_moved(report_.killed, x.killed);
  append_moved(report_.stragglers, x.stragglers);
}

scope_report scope_outcome::finish() {
  if (report_.failure)
    report_.status = scope_status::failed;
  else if (report_.cancel_reason)
    report_.status = scope_status::cancelled;
  else
    report_.status = scope_status::succeeded;
  return std::move(report_);
}

} // namespace scaf::detail
