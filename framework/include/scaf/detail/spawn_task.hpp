#pragma once

#include <exception>
#include <tuple>
#include <type_traits>
#include <utility>

#include <caf/behavior.hpp>
#include <caf/detail/type_list.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/local_actor.hpp>
#include <caf/spawn_options.hpp>

#include "scaf/detail/node.hpp"
#include "scaf/task.hpp"

namespace scaf::detail {

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
  static_assert(std::is_pointer_v<self_pointer> &&
                  std::is_base_of_v<task_base, impl>,
                "a task function takes scaf::task_actor* (or "
                "scaf::stateful_task<State>*) as its first parameter");
  static_assert(
    std::is_convertible_v<typename callable::result_type, caf::behavior>,
    "a task function returns caf::behavior");
};

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
        [&](auto&... ys) -> caf::behavior { return fun(self, ys...); }, args);
      task_access::behavior_ready(*self);
      return bhvr;
    } catch (...) {
      task_access::fail_with_exception(*self, std::current_exception());
    }
    return {};
  };
  return parent->spawn<Os + caf::monitored>(std::move(init));
}

} // namespace scaf::detail
