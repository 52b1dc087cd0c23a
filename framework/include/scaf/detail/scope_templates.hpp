// Template members of scaf::scope; included at the end of scaf/scope.hpp.
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/detail/type_list.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/make_counted.hpp>
#include <caf/message_handler.hpp>
#include <caf/response_promise.hpp>

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

template <class T>
struct served_handle {
  static constexpr bool is_handle = false;
};

template <class R>
struct served_handle<handle<R>> {
  static constexpr bool is_handle = true;
  using value_type = R;
};

/// The message handler of `scope::serve_requests` for `f(scope&, Args...)`:
/// spawns through `f`, answers once the child's handle resolves.
template <class F, class... Args>
auto answer_with_child(scope* s, F f, caf::detail::type_list<scope&, Args...>) {
  using result = std::invoke_result_t<F&, scope&, Args...>;
  static_assert(served_handle<result>::is_handle,
                "a handler of serve_requests returns the handle<R> of the "
                "child it spawned for the request");
  using value_type = typename served_handle<result>::value_type;
  return [s, f = std::move(f)](Args... xs) mutable -> caf::response_promise {
    auto rp = s->self()->make_response_promise();
    f(*s, xs...).then(s->self(),
                      [rp](const caf::expected<value_type>& x) mutable {
                        if (!x)
                          rp.deliver(x.error());
                        else if constexpr (std::is_void_v<value_type>)
                          rp.deliver(caf::unit);
                        else
                          rp.deliver(*x);
                      });
    return rp;
  };
}

} // namespace detail

template <class... Fs>
void scope::serve_requests(Fs... handlers) {
  keep_open();
  on_message(caf::message_handler{detail::answer_with_child(
    this, std::move(handlers),
    typename caf::detail::get_callable_trait_t<Fs>::arg_types{})...});
}

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
