#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/behavior.hpp>
#include <caf/error.hpp>

#include "scaf/detail/body.hpp"
#include "scaf/detail/handle_state.hpp"
#include "scaf/detail/node.hpp"
#include "scaf/detail/node_path.hpp"
#include "scaf/detail/task_exception.hpp"
#include "scaf/errc.hpp"
#include "scaf/task.hpp"
#include "scaf/task_context.hpp"

namespace scaf::detail {

/// What calling a function task yields: `F()`, `F(task_context&)`,
/// `F(std::stop_token)` or `F(task_base*)`.
template <class F>
auto invoke_result_of() {
  if constexpr (std::is_invocable_v<F&>)
    return std::type_identity<std::invoke_result_t<F&>>{};
  else if constexpr (std::is_invocable_v<F&, task_context&>)
    return std::type_identity<std::invoke_result_t<F&, task_context&>>{};
  else if constexpr (std::is_invocable_v<F&, std::stop_token>)
    return std::type_identity<std::invoke_result_t<F&, std::stop_token>>{};
  else if constexpr (std::is_invocable_v<F&, task_base*>)
    return std::type_identity<std::invoke_result_t<F&, task_base*>>{};
  else
    static_assert(std::is_invocable_v<F&>,
                  "a function task is callable as f(), "
                  "f(scaf::task_context&), f(std::stop_token) or "
                  "f(scaf::task_base*)");
}

template <class F>
using fn_result_t = typename decltype(invoke_result_of<F>())::type;

/// The value type of a function task `F`.
template <class F>
using fn_value_t = typename unwrap_expected<fn_result_t<F>>::type;

/// Whether the function task `F` takes a `task_context&`.
template <class F>
constexpr bool takes_context =
  !std::is_invocable_v<F&> && std::is_invocable_v<F&, task_context&>;

/// Whether the function task `F` needs an actor of its own: it takes
/// `task_base*` (a task actor on a thread of its own).
template <class F>
constexpr bool takes_actor =
  !std::is_invocable_v<F&> && !std::is_invocable_v<F&, task_context&> &&
  !std::is_invocable_v<F&, std::stop_token> &&
  std::is_invocable_v<F&, task_base*>;

/// The fallback value of a cancellable task (unused for `void`).
template <class T>
using fallback_t =
  std::optional<std::conditional_t<std::is_void_v<T>, caf::unit_t, T>>;

/// Resolves `handle` with the fallback `x` (at most once: it moves it).
template <class T>
void resolve_fallback(handle_state<T>& handle, fallback_t<T>& x) {
  if (!x)
    return;
  if constexpr (std::is_void_v<T>)
    handle.resolve(caf::unit);
  else
    handle.resolve(std::move(*x));
  x.reset();
}

/// What a function task's function may be handed.
struct fn_args {
  task_base* self = nullptr;
  std::stop_token stop;
  task_context* ctx = nullptr;
};

/// Calls `f` the way it wants to be called.
template <class F>
decltype(auto) call(F& f, const fn_args& args) {
  if constexpr (std::is_invocable_v<F&>)
    return f();
  else if constexpr (std::is_invocable_v<F&, task_context&>)
    return f(*args.ctx);
  else if constexpr (std::is_invocable_v<F&, std::stop_token>)
    return f(args.stop);
  else
    return f(args.self);
}

/// What one call of a function task's function gave: a value for its handle,
/// or a failure for its scope.
template <class T>
struct fn_outcome {
  std::optional<caf::expected<T>> value;
  caf::error failure;
  /// Why the handle gets no value, when it gets none.
  std::string why;
};

/// Calls the function of a function task once; an exception becomes
/// `errc::task_exception` with its `what()`.
template <class T, class F>
fn_outcome<T> call_function(F& f, const fn_args& args, const node_path& path) {
  using result = fn_result_t<F>;
  fn_outcome<T> out;
  try {
    if constexpr (std::is_void_v<result>) {
      call(f, args);
      out.value.emplace(caf::unit);
    } else if constexpr (unwrap_expected<result>::is_expected) {
      auto r = call(f, args);
      if (r)
        out.value.emplace(std::move(r));
      else
        out.failure = std::move(r.error());
    } else {
      out.value.emplace(call(f, args));
    }
  } catch (...) {
    out.failure = task_exception_error(std::current_exception(), path.str());
    out.why = "the task threw an exception";
  }
  if (!out.value && !out.failure) {
    // `caf::expected<T>{caf::error{}}`: an error that says nothing.
    out.failure = make_error(errc::invalid_argument, path.str(),
                             "the task returned an empty caf::error");
  }
  return out;
}

/// The one place where what a function task did becomes its handle's value
/// and its scope's error: a value goes to the handle; a failure goes to the
/// scope (returned) and the handle gets `errc::cancelled` saying so (zksync:
/// the scope reports a failure once). The handle's result is staged: the
/// scope publishes it once it no longer counts the task. (A cancellable
/// task's fallback is not here: its scope resolves it when the cancel
/// arrives.)
template <class T>
caf::error settle_function(handle_state<T>& handle, fn_outcome<T> out,
                           const node_path& path) {
  if (out.value) {
    handle.stage(std::move(*out.value));
    return {};
  }
  if (out.why.empty())
    out.why = "the task failed: " + render(out.failure);
  handle.stage(make_error(errc::cancelled, path.str(), std::move(out.why)));
  return std::move(out.failure);
}

/// State of a function task that runs in a task actor of its own thread
/// (blocking tasks, and `f(task_base*)`). If the actor ends without a result
/// (killed), its handle falls back to saying so, unless its scope knows
/// better (`errc::killed`).
template <class T>
struct fn_task_state {
  fn_task_state() = default;

  ~fn_task_state() {
    if (handle)
      handle->stage_fallback(make_error(errc::cancelled, path.str(),
                                        "the task ended without a result"));
  }

  std::shared_ptr<handle_state<T>> handle;
  node_path path;
  /// How the scope reaches the function while it runs.
  std::shared_ptr<const stop_signal> stop;
};

template <class T>
using fn_task = stateful_task<fn_task_state<T>>;

/// Makes the behavior function of a task actor that runs `f` once on its
/// own thread (also when spawned into a cancelled scope: it then starts
/// cancelled, its stop requested) and quits with its error, if any. While
/// `f` runs, the scope reaches it through `stop`: `f(std::stop_token)` and
/// `f(task_context&)` see the token, `f(task_base*)` sees `is_cancelled()`
/// and `cancel_reason()`.
template <class F, class T = fn_value_t<F>>
auto make_function_task(F f, std::shared_ptr<handle_state<T>> handle,
                        std::shared_ptr<const stop_signal> stop) {
  return [f = std::move(f), handle = std::move(handle),
          stop = std::move(stop)](fn_task<T>* self) mutable -> caf::behavior {
    auto& st = self->state;
    st.handle = handle;
    st.path = task_access::path(*self);
    st.stop = std::move(stop);
    task_access::watch_stop(*self, st.stop.get());
    fn_args args{self, st.stop->source.get_token(), nullptr};
    fn_outcome<T> out;
    if constexpr (takes_context<F>) {
      auto ctx = context_access::make(
        self->system(), caf::actor_cast<caf::actor>(self->parent_scope()),
        self->id(), st.path, *st.stop);
      args.ctx = &ctx;
      out = call_function<T>(f, args, st.path);
    } else {
      out = call_function<T>(f, args, st.path);
    }
    self->quit(settle_function(*handle, std::move(out), st.path));
    return {};
  };
}

} // namespace scaf::detail
