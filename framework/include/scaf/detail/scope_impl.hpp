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

template <class F, class... Ts>
caf::expected<caf::actor> scope::spawn(const spawn_options& opts, F fun,
                                       Ts&&... xs) {
  return spawn_task_impl<caf::no_spawn_options>(opts, nullptr, std::move(fun),
                                                std::forward<Ts>(xs)...);
}

template <class T, class F>
handle<detail::fn_value_t<F>>
scope::spawn_cancellable(const spawn_options& opts, T fallback, F f) {
  return spawn_function<caf::no_spawn_options>(
    opts, std::move(f),
    detail::fallback_t<detail::fn_value_t<F>>{std::move(fallback)}, nullptr);
}

template <class F>
handle<detail::fn_value_t<F>> scope::spawn_blocking(const spawn_options& opts,
                                                    F f) {
  static_assert(std::is_invocable_v<F&, std::stop_token>,
                "a blocking task is callable as f(std::stop_token)");
  return spawn_function<caf::detached>(opts, std::move(f), {},
                                       std::make_shared<std::stop_source>());
}

template <class F>
handle<detail::fn_value_t<F>> scope::spawn_fn(const spawn_options& opts,
                                              F f) {
  return spawn_function<caf::no_spawn_options>(opts, std::move(f), {},
                                               nullptr);
}

template <class F, class... Ts>
caf::expected<caf::actor> scope::spawn_bg(F fun, Ts&&... xs) {
  return spawn(spawn_options{{}, true}, std::move(fun),
               std::forward<Ts>(xs)...);
}

template <class F>
caf::expected<caf::actor> scope::spawn_scope(scope_options opts, F body,
                                             bool background) {
  using raw_type = detail::body_raw_t<F>;
  auto slot = std::make_shared<detail::value_slot<raw_type>>();
  return spawn_scope_impl(std::move(opts),
                          detail::make_body(std::move(body), slot),
                          background);
}

template <class F>
caf::expected<handle<detail::fn_value_t<F>>>
scope::try_spawn_fn(const spawn_options& opts, F f) {
  if (limit_ != 0 && limited_running_ >= limit_) {
    ++rejected_;
    return make_error(errc::limit_reached, path_,
                      "at most " + std::to_string(limit_)
                        + " tasks may run at once");
  }
  return spawn_fn(opts, std::move(f));
}

template <class V, class F, class... Ts>
handle<V> scope::start(const spawn_options& opts, F fun, Ts&&... xs) {
  auto state = std::make_shared<detail::handle_state<V>>();
  auto path = path_ + "/" + child_name(opts);
  auto hdl = spawn(opts, std::move(fun), ready_signal<V>{state},
                   std::forward<Ts>(xs)...);
  if (!hdl) {
    state->resolve(hdl.error());
    return {std::move(state), caf::actor{}};
  }
  (*hdl)->attach_functor([state, path](const caf::error& reason) {
    state->resolve(reason ? reason
                          : make_error(errc::cancelled, path,
                                       "the task ended before it was ready"));
  });
  return {std::move(state), std::move(*hdl)};
}

template <caf::spawn_options Os, class F, class... Ts>
caf::expected<caf::actor>
scope::spawn_task_impl(const spawn_options& opts,
                       std::shared_ptr<std::stop_source> stop, F fun,
                       Ts&&... xs) {
  if (auto err = check_open())
    return err;
  auto name = child_name(opts);
  auto hdl = detail::spawn_task<Os>(self_, make_context(name),
                                    std::move(fun), std::forward<Ts>(xs)...);
  return add_child(std::move(hdl), std::move(name), opts.background, false,
                   std::move(stop));
}

template <caf::spawn_options Os, class F, class T>
handle<T> scope::spawn_function(const spawn_options& opts, F f,
                                detail::fallback_t<T> fallback,
                                std::shared_ptr<std::stop_source> stop) {
  auto state = std::make_shared<detail::handle_state<T>>();
  auto start = [this, opts, state, f = std::move(f),
                fallback = std::move(fallback),
                stop = std::move(stop)]() mutable -> caf::actor {
    if constexpr (detail::runs_as_job<F, Os>) {
      if (auto err = check_open()) {
        state->resolve(std::move(err));
        return {};
      }
      launch(caf::make_counted<detail::fn_job<F, T>>(
               caf::actor_cast<caf::actor>(self_), job_cancel_state(),
               path_ + "/" + child_name(opts), std::move(f), state,
               std::move(fallback)),
             opts.background, true);
      return {};
    } else {
      auto hdl = spawn_task_impl<Os>(
        opts, stop,
        detail::make_function_task(std::move(f), state, std::move(fallback),
                                   stop));
      if (!hdl) {
        state->resolve(hdl.error());
        return {};
      }
      mark_limited(*hdl);
      return std::move(*hdl);
    }
  };
  if (limit_ != 0 && limited_running_ >= limit_ && !closed_) {
    enqueue(opts.background, [start]() mutable { start(); },
            [state](const caf::error& why) { state->resolve(why); });
    return {std::move(state), caf::actor{}};
  }
  auto hdl = start();
  return {std::move(state), std::move(hdl)};
}

} // namespace scaf
