// Template members of scaf::scope; included at the end of scaf/scope.hpp.
#pragma once

#include <memory>
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
caf::expected<detail::task_handle_t<F>>
scope::spawn_task(const spawn_options& opts, F fun, Ts&&... xs) {
  auto make = [&](caf::local_actor* parent, detail::node_context&& ctx) {
    return detail::spawn_task(parent, std::move(ctx), std::move(fun),
                              std::forward<Ts>(xs)...);
  };
  auto hdl = spawn_actor(opts, detail::actor_kind::behavior, make, {});
  if constexpr (std::is_same_v<detail::task_handle_t<F>, caf::actor>) {
    return hdl;
  } else {
    if (!hdl)
      return std::move(hdl.error());
    return caf::actor_cast<detail::task_handle_t<F>>(std::move(*hdl));
  }
}

template <caf::spawn_options Os, class F>
caf::expected<handle<detail::fn_value_t<F>>>
scope::try_spawn_function(const spawn_options& opts, F f) {
  if (auto err = refuse_if_full())
    return err;
  return spawn_function<Os>(opts, std::move(f), {});
}

template <class V, class F, class... Ts>
handle<V> scope::start(const spawn_options& opts, F fun, Ts&&... xs) {
  auto state = std::make_shared<detail::handle_state<V>>();
  detail::spawn_extras extras;
  extras.on_end = detail::resolve_unless_up(state);
  auto make = [&](caf::local_actor* parent, detail::node_context&& ctx) {
    return detail::spawn_task(
      parent, std::move(ctx), std::move(fun),
      detail::handle_access::make<ready_signal<V>>(state),
      std::forward<Ts>(xs)...);
  };
  auto hdl =
    spawn_actor(opts, detail::actor_kind::behavior, make, std::move(extras));
  if (!hdl)
    state->resolve(hdl.error());
  else
    state->bind(self_->address(), hdl->id(), *hdl);
  return detail::handle_access::make<handle<V>>(std::move(state));
}

template <class R, class F, class... Ts>
handle<R> scope::spawn_with_result(const spawn_options& opts, F fun,
                                   Ts&&... xs) {
  static_assert(!std::is_void_v<R>,
                "a task without a value is spawned with scope::spawn");
  auto state = std::make_shared<detail::handle_state<R>>();
  detail::spawn_extras extras;
  extras.result = state;
  auto make = [&](caf::local_actor* parent, detail::node_context&& ctx) {
    return detail::spawn_task(
      parent, std::move(ctx), std::move(fun),
      detail::handle_access::make<task_result<R>>(state),
      std::forward<Ts>(xs)...);
  };
  auto hdl =
    spawn_actor(opts, detail::actor_kind::behavior, make, std::move(extras));
  if (!hdl)
    state->resolve(hdl.error());
  return detail::handle_access::make<handle<R>>(std::move(state));
}

template <class F>
caf::expected<caf::actor> scope::spawn_scope(scope_options opts, F body,
                                             bool background) {
  if (opts.grace)
    if (auto err = refuse_negative(*opts.grace, "a grace period"))
      return err;
  spawn_options child_opts;
  child_opts.name = opts.name;
  child_opts.background = background;
  auto make = [&](caf::local_actor* parent, detail::node_context&& ctx) {
    detail::scope_config cfg;
    cfg.options = std::move(opts);
    cfg.body = detail::make_discarding_body(std::move(body));
    return detail::spawn_nested_scope(parent, std::move(ctx), std::move(cfg));
  };
  return spawn_actor(child_opts, detail::actor_kind::scope, make, {});
}

} // namespace scaf
