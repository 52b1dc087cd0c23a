#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>

#include <caf/behavior.hpp>
#include <caf/error.hpp>

#include "scaf/detail/body.hpp"
#include "scaf/errc.hpp"
#include "scaf/handle.hpp"
#include "scaf/task.hpp"

namespace scaf::detail {

/// What calling a function task yields: `F()`, `F(task_base*)` (for
/// cancellation checks) or, for blocking tasks, `F(std::stop_token)`.
template <class F>
auto invoke_result_of() {
  if constexpr (std::is_invocable_v<F&>)
    return std::type_identity<std::invoke_result_t<F&>>{};
  else if constexpr (std::is_invocable_v<F&, task_base*>)
    return std::type_identity<std::invoke_result_t<F&, task_base*>>{};
  else if constexpr (std::is_invocable_v<F&, std::stop_token>)
    return std::type_identity<std::invoke_result_t<F&, std::stop_token>>{};
  else
    static_assert(std::is_invocable_v<F&>,
                  "a function task is callable as f(), f(scaf::task_base*) "
                  "or, blocking, f(std::stop_token)");
}

template <class F>
using fn_result_t = typename decltype(invoke_result_of<F>())::type;

/// The value type of a function task `F`.
template <class F>
using fn_value_t = typename unwrap_expected<fn_result_t<F>>::type;

/// The fallback value of a cancellable task (unused for `void`).
template <class T>
using fallback_t =
  std::optional<std::conditional_t<std::is_void_v<T>, caf::unit_t, T>>;

/// State of a function task. If the task ends without having resolved its
/// handle (cancelled before it ran, failed, threw, or was killed), the state's
/// destructor resolves it: with the fallback of a cancellable task that was
/// cancelled, else with `errc::cancelled` naming what happened.
template <class T>
struct fn_task_state {
  fn_task_state() = default;

  ~fn_task_state() {
    if (!handle)
      return;
    if (fallback && cancelled) {
      if constexpr (std::is_void_v<T>)
        handle->resolve(caf::unit);
      else
        handle->resolve(std::move(*fallback));
      return;
    }
    if (cancelled && reason)
      handle->resolve(std::move(reason));
    else
      handle->resolve(make_error(errc::cancelled, std::move(path),
                                 std::move(why)));
  }

  std::shared_ptr<handle_state<T>> handle;
  fallback_t<T> fallback;
  std::string path;
  std::string why = "the task ended without a result";
  /// The cancel reason, if the task was cancelled.
  caf::error reason;
  bool cancelled = false;
};

template <class T>
using fn_task = stateful_task<fn_task_state<T>>;

/// Calls `f` the way it wants to be called.
template <class F, class Self>
decltype(auto) call(F& f, Self* self, const std::stop_token& stop) {
  if constexpr (std::is_invocable_v<F&>)
    return f();
  else if constexpr (std::is_invocable_v<F&, task_base*>)
    return f(static_cast<task_base*>(self));
  else
    return f(stop);
}

/// Makes the behavior function of a function task that runs `f` once and
/// resolves `handle` with its value.
template <class F, class T = fn_value_t<F>>
auto make_function_task(F f, std::shared_ptr<handle_state<T>> handle,
                        fallback_t<T> fallback,
                        std::shared_ptr<std::stop_source> stop) {
  return [f = std::move(f), handle = std::move(handle),
          fallback = std::move(fallback),
          stop = std::move(stop)](fn_task<T>* self) mutable -> caf::behavior {
    auto& st = self->state;
    st.handle = handle;
    st.path = self->path();
    st.fallback = std::move(fallback);
    self->on_cancel([self](const caf::error& why) {
      self->state.cancelled = true;
      self->state.reason = why;
    });
    if (self->is_cancelled()) {
      // Spawned into a cancelled scope: never runs.
      st.cancelled = true;
      st.reason = self->cancel_reason();
      self->quit(self->cancel_reason());
      return {};
    }
    using result = fn_result_t<F>;
    auto token = stop ? stop->get_token() : std::stop_token{};
    // An exception leaves the task failed (see spawn_task); name it.
    struct name_failure {
      fn_task_state<T>& st;
      int pending = std::uncaught_exceptions();
      ~name_failure() {
        if (std::uncaught_exceptions() > pending)
          st.why = "the task threw an exception";
      }
    } guard{st};
    if constexpr (std::is_void_v<result>) {
      call(f, self, token);
      handle->resolve(caf::unit);
      self->quit();
    } else if constexpr (unwrap_expected<result>::is_expected) {
      auto r = call(f, self, token);
      if (r) {
        if constexpr (std::is_void_v<T>)
          handle->resolve(caf::unit);
        else
          handle->resolve(std::move(*r));
        self->quit();
      } else {
        st.why = "the task failed: " + render(r.error());
        self->quit(std::move(r.error()));
      }
    } else {
      handle->resolve(call(f, self, token));
      self->quit();
    }
    return {};
  };
}

} // namespace scaf::detail
