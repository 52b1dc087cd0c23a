#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace scaf::detail {

template <class Signature>
class function_ref;

/// A non-owning reference to a callable, for passing a template's lambda
/// through a non-template function without allocating. The callable must
/// outlive the call.
template <class R, class... Args>
class function_ref<R(Args...)> {
public:
  template <class F>
  requires(!std::is_same_v<std::decay_t<F>, function_ref>) function_ref(F& f)
  noexcept // NOLINT(google-explicit-constructor)
    : obj_(std::addressof(f)), call_([](void* obj, Args... xs) -> R {
        return (*static_cast<F*>(obj))(std::forward<Args>(xs)...);
      }) {
    // nop
  }

  R operator()(Args... xs) const {
    return call_(obj_, std::forward<Args>(xs)...);
  }

private:
  void* obj_;
  R (*call_)(void*, Args...);
};

} // namespace scaf::detail
