#pragma once

#include <type_traits>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "scaf/handle.hpp"

namespace scaf {

/// What `collect` returns: a scope body that returns it makes the scope's
/// value the handles' values in spawn order.
template <class T>
struct collected {
  static_assert(!std::is_void_v<T>, "collect needs tasks with values");
  /// The tasks, in spawn order.
  std::vector<handle<T>> handles;
};

/// What `collect_settled` returns: a scope body that returns it makes the
/// scope's value one `caf::expected<T>` per handle, in spawn order.
template <class T>
struct settled {
  static_assert(!std::is_void_v<T>, "collect_settled needs tasks with values");
  /// The tasks, in spawn order.
  std::vector<handle<T>> handles;
};

/// What `first_success` returns.
template <class T>
struct first_of {
  static_assert(!std::is_void_v<T>, "first_success needs tasks with values");
  /// The tasks racing.
  std::vector<handle<T>> handles;
};

/// Returns the value of the task that succeeded first. Return it from the
/// body of a scope with `failure_policy::race`: the scope's value is the
/// winner's, or the first error if every task failed.
template <class T>
first_of<T> first_success(std::vector<handle<T>> hs) {
  return {std::move(hs)};
}

/// Returns the outputs of `hs` in spawn order, whatever the order in which
/// the tasks finished (async_scoped's scope_and_collect). Return it from a
/// scope body: the scope's result is then the vector of values, or the
/// scope's first error, or `errc::cancelled` if a task did not produce a
/// value.
template <class T>
collected<T> collect(std::vector<handle<T>> hs) {
  return {std::move(hs)};
}

/// Like `collect`, but keeps every task's own outcome (value or error), so
/// that a scope that moved on after a deadline returns what did finish.
template <class T>
settled<T> collect_settled(std::vector<handle<T>> hs) {
  return {std::move(hs)};
}

namespace detail {

/// How a scope body's return value becomes the scope's value once the scope
/// is done. Plain values are taken as they are.
template <class R>
struct body_result {
  using value_type = R;

  static caf::expected<R> finish(R&& x) {
    return std::move(x);
  }
};

template <class T>
struct body_result<collected<T>> {
  using value_type = std::vector<T>;

  static caf::expected<value_type> finish(collected<T>&& x) {
    value_type result;
    result.reserve(x.handles.size());
    for (auto& h : x.handles) {
      auto r = h.get();
      if (!r)
        return std::move(r.error());
      result.push_back(std::move(*r));
    }
    return result;
  }
};

template <class T>
struct body_result<settled<T>> {
  using value_type = std::vector<caf::expected<T>>;

  static caf::expected<value_type> finish(settled<T>&& x) {
    value_type result;
    result.reserve(x.handles.size());
    for (auto& h : x.handles)
      result.push_back(h.get());
    return result;
  }
};

template <class T>
struct body_result<first_of<T>> {
  using value_type = T;

  static caf::expected<T> finish(first_of<T>&& x) {
    handle<T>* winner = nullptr;
    for (auto& h : x.handles)
      if (h.get() && (winner == nullptr ||
                      h.resolution_order() < winner->resolution_order()))
        winner = &h;
    if (winner == nullptr)
      return make_error(errc::cancelled, "", "no task succeeded");
    return *winner->get();
  }
};

} // namespace detail
} // namespace scaf
