#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <caf/actor_traits.hpp>
#include <caf/behavior.hpp>
#include <caf/detail/type_list.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/local_actor.hpp>
#include <caf/spawn_options.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_behavior.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "scaf/detail/node.hpp"
#include "scaf/task.hpp"

namespace scaf::detail {

/// The handle `scope::spawn` returns for a behavior `B`: `caf::actor`, or
/// the typed handle of a `caf::typed_behavior`.
template <class B>
struct behavior_handle {
  using type = caf::actor;
};

template <class... Sigs>
struct behavior_handle<caf::typed_behavior<Sigs...>> {
  using type = caf::typed_actor<Sigs...>;
};

/// Compile-time facts about a task function `F(Self*, Args...)`.
template <class F>
struct task_traits {
  using callable = caf::detail::get_callable_trait_t<F>;
  using arg_types = typename callable::arg_types;
  static_assert(caf::detail::tl_size<arg_types>::value > 0,
                "a task function takes scaf::task_actor* (or "
                "scaf::stateful_task<State>*) as its first parameter");
  using self_pointer = typename caf::detail::tl_head<arg_types>::type;
  using impl = std::remove_pointer_t<self_pointer>;
  static_assert(!std::is_base_of_v<caf::statically_typed_actor_base, impl>,
                "a typed task takes scaf::task_actor* (or "
                "scaf::stateful_task<State>*) first, not the typed actor's "
                "pointer, and returns its typed behavior (Handle::"
                "behavior_type): scope::spawn then returns the typed handle");
  static_assert(std::is_pointer_v<self_pointer> &&
                  std::is_base_of_v<task_base, impl>,
                "a task function takes scaf::task_actor* (or "
                "scaf::stateful_task<State>*) as its first parameter; "
                "a class-based task derives from scaf::task_base and is "
                "spawned as scaf::task_class<Impl>");
  using result_type = typename callable::result_type;
  static_assert(!std::is_same_v<result_type, caf::error> &&
                  !std::is_same_v<result_type, void>,
                "a task function returns its behavior (caf::behavior or a "
                "caf::typed_behavior) and ends with self->quit(error); work "
                "that returns a caf::error or nothing is a function task "
                "(spawn_fn)");
  static_assert(std::is_convertible_v<result_type, caf::behavior> ||
                  caf::is_typed_behavior<result_type>::value,
                "a task function returns caf::behavior or a "
                "caf::typed_behavior");
  using handle_type = typename behavior_handle<result_type>::type;
};

/// A class-based task: `Impl` built by CAF from the spawn's arguments, with
/// scaf's bookkeeping beside it. It joins its scope before `Impl`'s
/// `make_behavior` runs, and drops the bookkeeping as a stateful task drops
/// its state: in `on_exit`, before its done signal.
template <class Impl>
class class_task final : public Impl {
public:
  template <class... Ts>
  class_task(caf::actor_config& cfg, std::unique_ptr<node_context> ctx,
             Ts&&... xs)
    : Impl(cfg, std::forward<Ts>(xs)...), ctx_(std::move(ctx)) {
    core_.emplace();
    task_access::bind(*this, &*core_);
  }

  void on_exit() override {
    Impl::on_exit();
    core_.reset();
  }

protected:
  caf::behavior make_behavior() override {
    task_access::join_scope(*this, std::move(*ctx_));
    ctx_.reset();
    try {
      auto bhvr = Impl::make_behavior();
      task_access::behavior_ready(*this);
      return bhvr;
    } catch (...) {
      task_access::fail_with_exception(*this, std::current_exception());
    }
    return {};
  }

private:
  std::unique_ptr<node_context> ctx_;
  std::optional<task_core> core_;
};

template <class Impl>
struct task_traits<task_class_t<Impl>> {
  static_assert(std::is_base_of_v<task_base, Impl>,
                "a class-based task derives from scaf::task_base (an "
                "event-based actor) instead of caf::event_based_actor, and "
                "overrides make_behavior()");
  static_assert(!std::is_final_v<Impl>,
                "scaf derives from a class-based task to add its "
                "bookkeeping: do not declare it final");
  using handle_type = caf::actor;
  static constexpr bool checked = true;
};

/// The handle `scope::spawn(fun, ...)` returns (inside the `caf::expected`).
template <class F>
using task_handle_t = typename task_traits<F>::handle_type;

/// Spawns the task `fun(self, xs...)` as a monitored child of `parent`, with
/// the extra CAF spawn options `Os` (e.g. `caf::detached`).
template <caf::spawn_options Os = caf::no_spawn_options, class F, class... Ts>
caf::actor spawn_task(caf::local_actor* parent, node_context&& ctx, F fun,
                      Ts&&... xs) {
  using impl = typename task_traits<F>::impl;
  // The context travels out of line: CAF frees this closure on the task's
  // thread, and a closure small enough for glibc's fastbins is freed without
  // taking the spawning thread's arena lock (measured: a closure holding the
  // whole context tripled the context switches of a 100k fan-out).
  auto init =
    [fun = std::move(fun), ctx = std::make_unique<node_context>(std::move(ctx)),
     args = std::make_tuple(std::decay_t<Ts>(std::forward<Ts>(xs))...)](
      impl* self) mutable -> caf::behavior {
    task_access::join_scope(*self, std::move(*ctx));
    try {
      auto bhvr = std::apply(
        [&](auto&... ys) -> caf::behavior {
          if constexpr (caf::is_typed_behavior<
                          typename task_traits<F>::result_type>::value)
            return std::move(fun(self, ys...).unbox());
          else
            return fun(self, ys...);
        },
        args);
      task_access::behavior_ready(*self);
      return bhvr;
    } catch (...) {
      task_access::fail_with_exception(*self, std::current_exception());
    }
    return {};
  };
  return parent->spawn<Os + caf::monitored>(std::move(init));
}

/// Spawns the class-based task `Impl(cfg, xs...)` as a monitored child of
/// `parent`.
template <caf::spawn_options Os = caf::no_spawn_options, class Impl,
          class... Ts>
caf::actor spawn_task(caf::local_actor* parent, node_context&& ctx,
                      task_class_t<Impl>, Ts&&... xs) {
  static_assert(task_traits<task_class_t<Impl>>::checked);
  return parent->spawn<class_task<Impl>, Os + caf::monitored>(
    std::make_unique<node_context>(std::move(ctx)), std::forward<Ts>(xs)...);
}

} // namespace scaf::detail
