// Template members of scaf::scope; included at the end of scaf/scope.hpp.
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/make_counted.hpp>

#include "scaf/scope.hpp"

namespace scaf {

namespace detail {

/// What `scope::start` runs when the child is done: if the child was not up
/// yet, its handle resolves with the child's exit reason, or with
/// `errc::cancelled` if it ended without one.
template <class V>
std::function<void(const caf::error&, const node_path&, const caf::actor_addr&)>
resolve_unless_up(std::shared_ptr<handle_state<V>> state) {
  return
    [state = std::move(state)](const caf::error& reason, const node_path& path,
                               const caf::actor_addr& scope) {
      // Continuations of the scope run now: it may finish right after.
      state->resolve(reason ? reason
                            : make_error(errc::cancelled, path.str(),
                                         "it ended before it was up"),
                     scope);
    };
}

} // namespace detail

template <class F, class... Ts>
caf::expected<caf::actor> scope::spawn(const spawn_options& opts, F fun,
                                       Ts&&... xs) {
  auto make = [&](caf::local_actor* parent, detail::node_context&& ctx) {
    return detail::spawn_task(parent, std::move(ctx), std::move(fun),
                              std::forward<Ts>(xs)...);
  };
  return spawn_actor(opts, detail::child_kind::task, make, {});
}

template <class F>
handle<detail::fn_value_t<F>> scope::spawn_fn(const spawn_options& opts, F f) {
  return spawn_function<caf::no_spawn_options>(opts, std::move(f), {});
}

template <class T, class F>
handle<detail::fn_value_t<F>>
scope::spawn_cancellable(const spawn_options& opts, T fallback, F f) {
  return spawn_function<caf::no_spawn_options>(
    opts, std::move(f),
    detail::fallback_t<detail::fn_value_t<F>>{std::move(fallback)});
}

template <class F>
handle<detail::fn_value_t<F>> scope::spawn_blocking(const spawn_options& opts,
                                                    F f) {
  static_assert(std::is_invocable_v<F&, std::stop_token>,
                "a blocking task is callable as f(std::stop_token)");
  return spawn_function<caf::detached>(opts, std::move(f), {});
}

template <class T, class F>
handle<detail::fn_value_t<F>>
scope::spawn_blocking_cancellable(const spawn_options& opts, T fallback, F f) {
  static_assert(std::is_invocable_v<F&, std::stop_token>,
                "a blocking task is callable as f(std::stop_token)");
  return spawn_function<caf::detached>(
    opts, std::move(f),
    detail::fallback_t<detail::fn_value_t<F>>{std::move(fallback)});
}

template <class F>
caf::expected<handle<detail::fn_value_t<F>>>
scope::try_spawn_fn(const spawn_options& opts, F f) {
  if (auto err = refuse_if_full())
    return err;
  return spawn_fn(opts, std::move(f));
}

template <class F>
caf::expected<handle<detail::fn_value_t<F>>>
scope::try_spawn_blocking(const spawn_options& opts, F f) {
  if (auto err = refuse_if_full())
    return err;
  return spawn_blocking(opts, std::move(f));
}

template <class V, class F, class... Ts>
handle<V> scope::start(const spawn_options& opts, F fun, Ts&&... xs) {
  auto state = std::make_shared<detail::handle_state<V>>();
  detail::spawn_extras extras;
  extras.on_end = detail::resolve_unless_up(state);
  auto make = [&](caf::local_actor* parent, detail::node_context&& ctx) {
    return detail::spawn_task(parent, std::move(ctx), std::move(fun),
                              ready_signal<V>{state}, std::forward<Ts>(xs)...);
  };
  auto hdl =
    spawn_actor(opts, detail::child_kind::task, make, std::move(extras));
  if (!hdl)
    state->resolve(hdl.error());
  else
    state->bind(self_->address(), hdl->id(), *hdl);
  return handle<V>{std::move(state)};
}

template <class F>
caf::expected<caf::actor> scope::spawn_scope(scope_options opts, F body,
                                             bool background) {
  if (opts.grace)
    if (auto err = refuse_negative(*opts.grace, "a grace period"))
      return err;
  auto child_opts = spawn_options{opts.name, background};
  auto make = [&](caf::local_actor* parent, detail::node_context&& ctx) {
    return detail::spawn_nested_scope(
      parent, std::move(ctx), std::move(opts),
      detail::make_discarding_body(std::move(body)));
  };
  return spawn_actor(child_opts, detail::child_kind::scope, make, {});
}

} // namespace scaf
