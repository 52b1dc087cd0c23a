#pragma once

#include <stop_token>
#include <type_traits>
#include <utility>

#include "scaf/child_factory.hpp"
#include "scaf/detail/function_task.hpp"
#include "scaf/handle.hpp"
#include "scaf/scope_options.hpp"

namespace scaf {

class task_context;

/// The spawn family that a scope (`scope`, inside it) and a reference to it
/// (`scope_ref`, from anywhere) share: written once here, so that both spawn
/// every kind of task the same way.
///
/// Every task is a child of the scope: it counts toward the scope's end,
/// hears the scope's cancel, and its failure is the scope's (see
/// docs/model.md). A spawn the scope refuses runs nothing: closed or done,
/// it says `errc::scope_closed`; a negative grace period or a duplicate
/// name, `errc::invalid_argument`. Spawned into a scope that is cancelled
/// but not done, a task still runs, starting cancelled (cleanup work).
///
/// What comes back differs only where the caller can wait or not: a scope
/// answers at once (`caf::expected<caf::actor>` for a behavior task, a
/// `caf::expected<handle<T>>` for `try_` spawns), a reference through the
/// returned handle (`handle<void>` for a behavior task, resolving when it
/// ends; `handle<T>` for `try_` spawns, resolving with the refusal).
template <class Derived>
class spawner {
public:
  // -- behavior tasks ---------------------------------------------------------

  /// Spawns the task `fun(self, xs...)` as a main child: `fun` returns
  /// `caf::behavior` and takes `scaf::task_actor*` (or
  /// `scaf::stateful_task<State>*`) first. The arguments are copied. A `fun`
  /// returning a `caf::typed_behavior` is a typed task: a scope returns its
  /// typed handle. `fun` may also be `scaf::task_class<Impl>`, a
  /// class-based task.
  template <class F, class... Ts>
  requires(!std::is_same_v<std::decay_t<F>, spawn_options> &&
           !std::is_same_v<std::decay_t<F>,
                           child_factory>) auto spawn(F fun, Ts&&... xs) const {
    return self().spawn_task(spawn_options{}, std::move(fun),
                             std::forward<Ts>(xs)...);
  }

  /// Spawns the class-based task `Impl(cfg, xs...)` as a main child: the
  /// short form of `spawn(scaf::task_class<Impl>, xs...)`.
  /// (Any class that cannot be moved gets here, so that one that is not a
  /// task fails with a message saying what it should be.)
  template <class Impl, class... Ts>
  requires(std::is_class_v<Impl> &&
           !std::is_move_constructible_v<Impl>) auto spawn(Ts&&... xs) const {
    return self().spawn_task(spawn_options{}, task_class<Impl>,
                             std::forward<Ts>(xs)...);
  }

  /// Spawns the task `fun(self, xs...)` with the given options.
  template <class F, class... Ts>
  requires(!std::is_same_v<std::decay_t<F>, child_factory>) auto spawn(
    const spawn_options& opts, F fun, Ts&&... xs) const {
    return self().spawn_task(opts, std::move(fun), std::forward<Ts>(xs)...);
  }

  /// Spawns the task `fun(self, xs...)` as a background child: it does not
  /// keep the scope open, and is cancelled once the main work is done.
  template <class F, class... Ts>
  auto spawn_bg(F fun, Ts&&... xs) const {
    spawn_options opts;
    opts.background = true;
    return self().spawn_task(opts, std::move(fun), std::forward<Ts>(xs)...);
  }

  // -- function tasks ---------------------------------------------------------

  /// Spawns a function task: `f()`, `f(scaf::task_context&)`,
  /// `f(std::stop_token)` or `f(scaf::task_base*)` runs once and returns
  /// `T`, `caf::expected<T>` or `void`. The handle resolves with the value;
  /// with `errc::cancelled` if the task failed (its error goes to the
  /// scope), or was cancelled before it ran; with `errc::killed` if the scope
  /// forced it before it ran.
  ///
  /// `f()` is short work: a job on CAF's scheduler, deaf to a cancel once it
  /// runs. A function that takes a token or a `task_context` may poll or
  /// wait: it runs on scaf's function pool, off CAF's scheduler, so it never
  /// holds a thread that the scope's own cancel needs; `f(task_base*)` runs
  /// in a task actor on a thread of its own. No function is stopped
  /// mid-call: the scope requests stop on its token and, past the grace
  /// period, reports a running one as a straggler and waits for it.
  template <class F>
  handle<detail::fn_value_t<F>> spawn_fn(const spawn_options& opts, F f) const {
    return self().template spawn_function<caf::no_spawn_options>(
      opts, std::move(f), {});
  }

  /// As above, with default `spawn_options`.
  template <class F>
  handle<detail::fn_value_t<F>> spawn_fn(F f) const {
    return spawn_fn(spawn_options{}, std::move(f));
  }

  /// Spawns a function task whose handle resolves with `fallback` as soon as
  /// the task is cancelled (by its scope, or through its handle), whether or
  /// not the function has started; uncancelled, with its own outcome. The
  /// function still runs to its end (spawned into a cancelled scope it still
  /// starts: it is cleanup work) and the scope waits for it.
  template <class T, class F>
  handle<detail::fn_value_t<F>> spawn_cancellable(const spawn_options& opts,
                                                  T fallback, F f) const {
    return self().template spawn_function<caf::no_spawn_options>(
      opts, std::move(f),
      detail::fallback_t<detail::fn_value_t<F>>{std::move(fallback)});
  }

  /// As above, with default `spawn_options`.
  template <class T, class F>
  handle<detail::fn_value_t<F>> spawn_cancellable(T fallback, F f) const {
    return spawn_cancellable(spawn_options{}, std::move(fallback),
                             std::move(f));
  }

  /// Spawns a blocking task: `f(std::stop_token)` or `f(scaf::task_context&)`
  /// runs on a thread of its own (a detached actor). Cancel requests stop on
  /// the token; spawned into a cancelled scope, it starts with stop already
  /// requested. It cannot be killed: past the grace period the scope logs it
  /// as a straggler (`scope_report::stragglers`) and keeps waiting for it.
  template <class F>
  handle<detail::fn_value_t<F>> spawn_blocking(const spawn_options& opts,
                                               F f) const {
    check_blocking<F>();
    return self().template spawn_function<caf::detached>(opts, std::move(f),
                                                         {});
  }

  /// As above, with default `spawn_options`.
  template <class F>
  handle<detail::fn_value_t<F>> spawn_blocking(F f) const {
    return spawn_blocking(spawn_options{}, std::move(f));
  }

  /// The blocking form of `spawn_cancellable`: `f` runs on a thread of its
  /// own; the handle resolves with `fallback` as soon as the task is
  /// cancelled, and the scope waits for `f` to return.
  template <class T, class F>
  handle<detail::fn_value_t<F>>
  spawn_blocking_cancellable(const spawn_options& opts, T fallback, F f) const {
    check_blocking<F>();
    return self().template spawn_function<caf::detached>(
      opts, std::move(f),
      detail::fallback_t<detail::fn_value_t<F>>{std::move(fallback)});
  }

  /// As above, with default `spawn_options`.
  template <class T, class F>
  handle<detail::fn_value_t<F>> spawn_blocking_cancellable(T fallback,
                                                           F f) const {
    return spawn_blocking_cancellable(spawn_options{}, std::move(fallback),
                                      std::move(f));
  }

  /// Like `spawn_fn`, but says no instead of queueing when the scope's limit
  /// is reached (`scope::set_limit`): `errc::limit_reached`, counted as
  /// rejected, and nothing runs.
  template <class F>
  auto try_spawn_fn(const spawn_options& opts, F f) const {
    return self().template try_spawn_function<caf::no_spawn_options>(
      opts, std::move(f));
  }

  /// As above, with default `spawn_options`.
  template <class F>
  auto try_spawn_fn(F f) const {
    return try_spawn_fn(spawn_options{}, std::move(f));
  }

  /// Like `spawn_blocking`, refusing like `try_spawn_fn`.
  template <class F>
  auto try_spawn_blocking(const spawn_options& opts, F f) const {
    check_blocking<F>();
    return self().template try_spawn_function<caf::detached>(opts,
                                                             std::move(f));
  }

  /// As above, with default `spawn_options`.
  template <class F>
  auto try_spawn_blocking(F f) const {
    return try_spawn_blocking(spawn_options{}, std::move(f));
  }

protected:
  spawner() = default;

  ~spawner() = default;

private:
  // Spawning through a `scope_ref` changes no reference, so the family is
  // const; a `scope` is never const where it can spawn (its body gets a
  // `scope&`).
  Derived& self() const {
    return const_cast<Derived&>(static_cast<const Derived&>(*this));
  }

  template <class F>
  static constexpr void check_blocking() {
    static_assert(std::is_invocable_v<F&, std::stop_token> ||
                    std::is_invocable_v<F&, task_context&>,
                  "a blocking task is callable as f(std::stop_token) or "
                  "f(scaf::task_context&)");
  }
};

} // namespace scaf
