#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <caf/expected.hpp>

#include "scaf/collect.hpp"
#include "scaf/detail/node.hpp"
#include "scaf/errc.hpp"
#include "scaf/scope_options.hpp"

namespace scaf::detail {

template <class T>
struct unwrap_expected {
  using type = T;
  static constexpr bool is_expected = false;
};

template <class T>
struct unwrap_expected<caf::expected<T>> {
  using type = T;
  static constexpr bool is_expected = true;
};

/// What a scope body `F(scope&)` returns, without `caf::expected`: `T`,
/// `void`, or a deferred value such as `collected<T>`.
template <class F>
using body_raw_t =
  typename unwrap_expected<std::invoke_result_t<F&, scope&>>::type;

template <class R>
struct body_value {
  using type = typename body_result<R>::value_type;
};

template <>
struct body_value<void> {
  using type = void;
};

/// The value type of a scope whose body is `F`.
template <class F>
using body_value_t = typename body_value<body_raw_t<F>>::type;

/// Holds what a scope body returned until the scope has finished.
template <class R>
struct value_slot {
  std::optional<R> value;
};

template <>
struct value_slot<void> {};

/// Wraps a user body into the type-erased form a scope actor runs, storing
/// its value in `slot` and turning an error it returns into a failure of the
/// scope. `F` is stored as given: pass a reference wrapper to borrow it.
template <class F, class T = body_raw_t<F>>
std::function<void(scope&)> make_body(F f,
                                      std::shared_ptr<value_slot<T>> slot) {
  return [f = std::move(f), slot = std::move(slot)](scope& s) mutable {
    using result = std::invoke_result_t<F&, scope&>;
    if constexpr (std::is_void_v<result>) {
      f(s);
    } else if constexpr (unwrap_expected<result>::is_expected) {
      auto r = f(s);
      if (!r)
        fail_scope(s, std::move(r.error()));
      else if constexpr (!std::is_void_v<T>)
        slot->value = std::move(*r);
    } else {
      slot->value = f(s);
    }
  };
}

/// Wraps a user body whose value nobody reads (nested scopes spawned by a
/// scope): an error it returns fails the scope, a value is dropped.
template <class F>
std::function<void(scope&)> make_discarding_body(F f) {
  return [f = std::move(f)](scope& s) mutable {
    using result = std::invoke_result_t<F&, scope&>;
    if constexpr (unwrap_expected<result>::is_expected) {
      if (auto r = f(s); !r)
        fail_scope(s, std::move(r.error()));
    } else {
      f(s);
    }
  };
}

/// Turns a finished scope's report and body return into the result users
/// see: the first failure if the scope failed, else the body's value, also
/// if the scope was cancelled (cancellation is not failure).
template <class R>
caf::expected<typename body_value<R>::type>
make_result(const scope_report& report, value_slot<R>& slot) {
  if (report.status == scope_status::failed)
    return report.failure;
  if constexpr (std::is_void_v<R>) {
    return caf::unit;
  } else {
    if (slot.value)
      return body_result<R>::finish(std::move(*slot.value));
    return make_error(errc::cancelled, "", "the scope's body never ran");
  }
}

} // namespace scaf::detail
