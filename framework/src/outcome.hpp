// Internal: what a scope reports about itself while it runs, and its failure
// policy, the one place that decides what a child's end means for the scope.
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>

#include "events.hpp"
#include "scaf/scope_options.hpp"

namespace scaf::detail {

/// Moves the elements of `from` to the end of `to`.
template <class T>
void append_moved(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()),
            std::make_move_iterator(from.end()));
}

/// What the failure policy asks the scope to do after a child's end.
enum class policy_action {
  none,
  /// Cancel the siblings (errgroup's first failure, race's first success).
  cancel_siblings,
};

/// What became of a failure the scope took.
enum class failure_fate {
  /// It is the scope's failure, the first one.
  first,
  /// It is the scope's failure, and the earlier one is now suppressed.
  outranking,
  /// It is suppressed.
  suppressed,
};

struct failure_taken {
  failure_fate fate;
  policy_action action;
};

/// The report a scope builds while it runs (`scope_report`), and the rules
/// of its failure policy.
class scope_outcome {
public:
  explicit scope_outcome(failure_policy policy) noexcept : policy_(policy) {
    // nop
  }

  void set_policy(failure_policy policy) noexcept {
    policy_ = policy;
  }

  /// See `scope_options::record_limit`.
  void set_record_limit(std::size_t limit) noexcept {
    limit_ = limit;
  }

  /// A child (or the scope itself) failed with `reason`. The first failure
  /// becomes the scope's, later ones are suppressed; an exception escaping
  /// task code (`errc::task_exception`) outranks an earlier ordinary error,
  /// which moves to the front of the suppressed ones.
  failure_taken failed(caf::error reason);

  /// A child succeeded.
  policy_action succeeded();

  /// The scope was cancelled by someone else than its own policy (by a
  /// cancel, its parent, its owner, an abort). The first reason counts.
  void cancelled(const caf::error& reason);

  bool has_failure() const noexcept {
    return static_cast<bool>(failure_);
  }

  /// The failure an outranking one displaced last (the first suppressed).
  const caf::error& displaced() const noexcept {
    return lists_->suppressed.front();
  }

  void killed(std::string path) {
    keep(lists().killed, std::move(path), omitted_.killed);
  }

  void straggler(std::string path) {
    keep(lists().stragglers, std::move(path), omitted_.stragglers);
  }

  void add(node_outcome x) {
    lists().children.push_back(std::move(x));
  }

  /// Takes what a nested scope's subtree reported, except its outcomes.
  void merge(nested_report& x);

  /// Hands the report over, with its status.
  scope_report finish();

private:
  /// What most scopes never have: kept out of line.
  struct lists_type {
    std::vector<caf::error> suppressed;
    std::vector<std::string> killed;
    std::vector<std::string> stragglers;
    std::vector<node_outcome> children;
  };

  /// Whether `xs` holds more than twice the record limit (which may be the
  /// largest `size_t`).
  template <class T>
  bool over_limit(const std::vector<T>& xs) const noexcept {
    return xs.size() / 2 > limit_;
  }

  /// Appends `x` to `xs`, a list bounded by the record limit: once it
  /// holds more than twice the limit, the oldest entries beyond the limit go
  /// (counted in `omitted`), so that appending stays cheap.
  template <class T>
  void keep(std::vector<T>& xs, T x, std::size_t& omitted) {
    xs.push_back(std::move(x));
    if (over_limit(xs))
      trim(xs, omitted);
  }

  /// Drops the oldest entries of `xs` beyond the record limit.
  template <class T>
  void trim(std::vector<T>& xs, std::size_t& omitted) {
    if (xs.size() <= limit_)
      return;
    auto excess = xs.size() - limit_;
    xs.erase(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(excess));
    omitted += excess;
  }

  lists_type& lists() {
    if (!lists_)
      lists_ = std::make_unique<lists_type>();
    return *lists_;
  }

  caf::error failure_;
  caf::error cancel_reason_;
  std::unique_ptr<lists_type> lists_;
  scope_report::omitted_counts omitted_;
  std::size_t limit_ = scope_options{}.record_limit;
  failure_policy policy_;
  bool race_won_ = false;
};

} // namespace scaf::detail
