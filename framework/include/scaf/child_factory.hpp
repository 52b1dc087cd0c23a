#pragma once

#include <memory>
#include <utility>

#include "scaf/detail/factory.hpp"
#include "scaf/scope_options.hpp"

namespace scaf {

class child_factory;

namespace detail {

/// Reaches what `child_factory` keeps private: for scaf's own code.
struct factory_access {
  static child_factory make(std::shared_ptr<const factory_impl> impl);

  static const factory_impl& impl(const child_factory& x) noexcept;
};

} // namespace detail

/// A recipe for a child of a scope that can be spawned any number of times:
/// a task function with its arguments, or a nested scope's options and body.
/// A supervisor keeps one per child and spawns from it on every restart;
/// `scope::spawn(opts, factory)`, `scope::start(opts, factory)` and
/// `(spawn_atom, spawn_request)` take one.
///
/// Make one with `task_factory` or `scope_factory`. A factory is immutable
/// and cheap to copy (copies share it), and may be used from any thread; the
/// child it spawns runs in the context of the scope that spawns it.
class child_factory {
public:
  child_factory() noexcept = default;

  /// Returns whether the factory can spawn anything.
  explicit operator bool() const noexcept {
    return impl_ != nullptr;
  }

  /// Returns whether the factory spawns a nested scope (else a task).
  bool spawns_scope() const noexcept {
    return impl_ != nullptr && impl_->spawns_scope();
  }

private:
  friend struct detail::factory_access;

  explicit child_factory(std::shared_ptr<const detail::factory_impl> impl)
    : impl_(std::move(impl)) {
    // nop
  }

  std::shared_ptr<const detail::factory_impl> impl_;
};

inline child_factory
detail::factory_access::make(std::shared_ptr<const factory_impl> impl) {
  return child_factory{std::move(impl)};
}

inline const detail::factory_impl&
detail::factory_access::impl(const child_factory& x) noexcept {
  return *x.impl_;
}

/// Returns a factory for the task `fun(self, xs...)`, where `fun` is a task
/// function as for `scope::spawn`. The arguments are copied into the
/// factory: every child it spawns gets its own copy of them.
template <class F, class... Ts>
child_factory task_factory(F fun, Ts&&... xs) {
  using impl = detail::task_factory_impl<F, std::decay_t<Ts>...>;
  return detail::factory_access::make(
    std::make_shared<const impl>(std::move(fun), std::forward<Ts>(xs)...));
}

/// Returns a factory for a nested scope that runs `body(scope&)` with the
/// options `opts` (its name comes from the spawn, not from `opts`). The body
/// may return a value or `caf::expected`; the value is discarded, an error
/// fails the scope. Every child it spawns runs its own copy of `body`.
template <class F>
child_factory scope_factory(scope_options opts, F body) {
  return detail::factory_access::make(
    std::make_shared<const detail::scope_factory_impl>(
      std::move(opts), detail::make_discarding_body(std::move(body))));
}

} // namespace scaf
