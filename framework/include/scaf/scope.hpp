#pragma once

#include <cstddef>
#include <functional>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>
#include <caf/message_handler.hpp>
#include <caf/timespan.hpp>

#include "scaf/child_exit.hpp"
#include "scaf/child_factory.hpp"
#include "scaf/detail/body.hpp"
#include "scaf/detail/scope_core.hpp"
#include "scaf/handle.hpp"
#include "scaf/scope_options.hpp"
#include "scaf/scope_state.hpp"
#include "scaf/spawner.hpp"

namespace scaf {

namespace detail {

class scope_impl;

} // namespace detail

/// A scope: a supervisor actor whose only job is to own its children (tasks
/// and nested scopes) and to finish only after every one of them is done.
/// Tasks come as actor behaviors, functions run once and blocking functions
/// on a thread of their own (the spawn family of `scaf::spawner`).
///
/// `scope` is the state of the scope actor: every member function runs in
/// that actor's context, inside the body passed to `scaf::run`,
/// `scaf::spawn_scope`, `task_base::open_scope` or `scope::spawn_scope`, or
/// in a continuation or handler that runs there. From anywhere else hold
/// the scope through a `scope_ref` (`ref()`), or send its actor the
/// messages of `scaf/atoms.hpp` or a `caf::exit_msg`.
///
/// Its life is one state at a time (`scaf::scope_state`, docs/model.md):
/// open, joined (after the body, for `run` and nested scopes), closed,
/// cancelling (every child told to stop, forced past its grace period;
/// children spawned meanwhile start cancelled), aborting, finished. It
/// reports done (terminates, so monitors fire) only after every child has,
/// with an exit reason that is empty on success, the first failure, or the
/// cancel reason (see `scope_report`). Killing a scope actor with
/// `caf::exit_reason::kill` bypasses all of this: use `abort_atom`.
class scope : public detail::scope_core, public spawner<scope> {
public:
  scope(const scope&) = delete;
  scope& operator=(const scope&) = delete;

  // -- spawning ---------------------------------------------------------------

  // The spawn family (`spawn`, `spawn_bg`, `spawn_fn`, `spawn_cancellable`,
  // `spawn_blocking`, `spawn_blocking_cancellable`, `try_spawn_fn`,
  // `try_spawn_blocking`) comes from `scaf::spawner`.
  using spawner<scope>::spawn;

  /// Spawns a child from `factory`: a task or a nested scope.
  caf::expected<caf::actor> spawn(const spawn_options& opts,
                                  const child_factory& factory);

  /// Returns a handle for `child`, a live behavior task or nested scope of
  /// this scope: it resolves when the child ends (success, its failure,
  /// `errc::cancelled` or `errc::killed`), after the scope stopped counting
  /// it, and cancels or aborts that one child. Function and blocking tasks have
  /// theirs from their spawn. Fails with `errc::invalid_argument` for anything
  /// else.
  caf::expected<handle<void>> handle_of(const caf::actor& child);

  /// Spawns the task `fun(self, ready, xs...)` and returns a handle that
  /// resolves when the task calls `ready(value)` (Trio's `nursery.start`),
  /// e.g. once a server is listening. If the task ends before that, the
  /// handle resolves with its exit reason (its error, which the scope also
  /// sees), or with `errc::cancelled` if it ended without error. Continue
  /// with `handle::then(s.self(), ...)` or, from a plain thread, `wait`.
  template <class V, class F, class... Ts>
  handle<V> start(const spawn_options& opts, F fun, Ts&&... xs);

  /// Spawns the task `fun(self, result, xs...)`, a behavior task with a
  /// value of type `R` (not `void`): it hands its value to `result` (a
  /// `scaf::task_result<R>`) whenever it has it, and the returned handle
  /// resolves with that value once the task has ended, after the scope
  /// stopped counting it; without one, with how it ended (see
  /// `task_result`). The handle cancels and aborts the task like any other.
  /// A refused spawn resolves it with the refusal.
  template <class R, class F, class... Ts>
  handle<R> spawn_with_result(const spawn_options& opts, F fun, Ts&&... xs);

  /// Spawns a child from `factory`; the handle resolves once it is up: a
  /// task when its behavior function returned (after `defer_started()`: at
  /// `signal_started()`), a nested scope when its body returned without
  /// failing it (likewise). A child that ends first: as for `start<V>`.
  /// OTP's supervisors start their children one after another with this.
  handle<void> start(const spawn_options& opts, const child_factory& factory);

  /// `start`, whose handle resolves with what the child passed to
  /// `signal_started(info)` once it is up (an empty message if it came up
  /// without one): OTP's `{ok, Pid, Info}`.
  handle<caf::message> start_with_info(const spawn_options& opts,
                                       const child_factory& factory);

  /// Opens a nested scope as a child of this one and runs `body(scope&)` in
  /// it. How the child scope ends is how that child ended: a failure is a
  /// failure of this scope, a cancel is not; its value, if any, is
  /// discarded. A negative grace period in `opts` fails with
  /// `errc::invalid_argument` and opens nothing.
  template <class F>
  caf::expected<caf::actor> spawn_scope(scope_options opts, F body,
                                        bool background = false);

  /// Opens a child scope that lives until it is joined (fuchsia's
  /// `new_child`) in this scope's tree (this scope's cancel reaches it; this
  /// scope does not finish before it), accepting children until it is
  /// joined, closed, cancelled or aborted. Destroying the returned owner
  /// before the child scope finished (undetached) cancels it. Refused
  /// (closed scope): `done()` resolves with `errc::scope_closed`.
  scope_owner open_child(scope_options opts = {});

  /// Opens a child scope like `open_child(opts)` and runs `body(scope&)` in
  /// it first (an error it returns fails the child scope; a value is
  /// dropped); the child scope then stays open until it is joined.
  template <class F>
  scope_owner open_child(scope_options opts, F body);

  /// Returns a reference to this scope that any thread or actor may use
  /// (see `scope_ref`).
  scope_ref ref();

  // -- lifecycle --------------------------------------------------------------

  /// Cancels the scope cooperatively: the cancel reason is
  /// `errc::cancelled` naming this scope and `why`.
  void cancel(std::string why);

  /// Cancels the scope because of `cause`: an `errc::cancelled` error is
  /// taken as the cancel reason as it is, any other error becomes the cause
  /// of one (see `cancel_cause`). An empty error is a programming error: the
  /// scope then fails with `errc::invalid_argument`, and is cancelled.
  void cancel(caf::error cause);

  /// Cancels the scope and forces its children at once: tasks are killed
  /// without running their cancel handlers, nested scopes aborted. The scope
  /// accepts no new children.
  void abort();

  /// The scope accepts no new children and finishes when its main children
  /// are done. Its child and nested scopes are closed with it (scopes that
  /// its tasks opened belong to those tasks and are not).
  void close();

  /// The scope finishes when its main children are done; until then it still
  /// accepts children. Its child and nested scopes are joined with it.
  void join();

  /// Called from the body of a `scaf::run` or nested scope: the scope stays
  /// open after its body, accepting children until it is joined, closed or
  /// cancelled (as a `scaf::spawn_scope` service scope does). Called after
  /// the body returned (which joined the scope), it changes nothing.
  void keep_open();

  /// Fails the scope with `reason` as if a child had failed with it. An
  /// `errc::cancelled` reason cancels instead (cancellation is not failure);
  /// an empty one fails with `errc::invalid_argument`.
  void fail(caf::error reason);

  /// Fails the scope with `errc::timeout` (cancelling everything in it) if it
  /// has not finished within `timeout` (Trio's `fail_after`). Its children
  /// hear a cancel whose cause is that timeout. A negative timeout fails
  /// with `errc::invalid_argument` and sets nothing.
  caf::error fail_after(caf::timespan timeout);

  /// Cancels the children without failing or cancelling the scope if it has
  /// not finished within `timeout`: it succeeds with what finished (Trio's
  /// `move_on_after`). Return `collect_settled(...)` to get each task's
  /// outcome. A negative timeout fails like `fail_after`'s.
  caf::error move_on_after(caf::timespan timeout);

  /// Lets at most `n` function and blocking tasks of this scope run at once
  /// (Go's `errgroup.SetLimit`); further `spawn_fn`, `spawn_cancellable` and
  /// `spawn_blocking` calls queue their task and return its handle at once
  /// (its `task()` stays empty). Behavior tasks and nested scopes are not
  /// limited. Queued tasks start in spawn order as running ones finish; if
  /// the scope is cancelled first, they never run and their handles resolve
  /// with the cancel reason. Fails with `errc::invalid_argument` for `n == 0`.
  caf::error set_limit(size_t n);

  /// Returns the counts of limited tasks (see `set_limit`).
  limit_counts counts() const noexcept;

  /// Runs `f` in the scope's context as soon as the scope has no live
  /// children and no queued tasks (at once if that is already so): fuchsia's
  /// "wait until no tasks". Fires once per call. An empty `f` fails the
  /// scope with `errc::invalid_argument`.
  void on_no_tasks(std::function<void()> f);

  /// Sets the grace period for cancels from now on. A negative one fails
  /// with `errc::invalid_argument` and changes nothing.
  caf::error set_grace(caf::timespan grace);

  // -- supervising children one by one ---------------------------------------

  /// Cancels one child: a task hears `reason` (its cancel handler or stop
  /// token), a nested scope is cancelled with it; a `reason` that is not an
  /// `errc::cancelled` error is wrapped in one naming this scope, and
  /// `cancel_cause` returns it. Past the child's grace
  /// period (`spawn_options::grace`, else the scope's) it is forced. Neither
  /// is a failure of this scope. Fails with `errc::invalid_argument` if
  /// `child` is not a live child spawned by this scope.
  caf::error cancel_child(const caf::actor& child, caf::error reason);

  /// Forces one child at once: a task is killed without running its cancel
  /// handler, a nested scope aborted, a blocking task asked to stop. Not a
  /// failure of this scope. Fails like `cancel_child`.
  caf::error abort_child(const caf::actor& child);

  /// From now on, `handler` decides what a child's end means, in place of
  /// the failure policy: it runs in the scope's context for every child that
  /// ends (scopes opened by tasks excepted: they belong to their task), and
  /// the scope itself records no failure of a child and cancels nobody
  /// because of one. What it does not handle is lost: call `fail` for what
  /// must not be. OTP's supervisors restart children from here. If the
  /// handler throws, the scope fails with `errc::task_exception`.
  void on_child_done(std::function<void(const child_exit&)> handler);

  /// From now on, a cancel calls `handler(reason)` instead of cancelling
  /// every child at once: the handler stops them itself (in an order of its
  /// choosing, e.g. with `cancel_child`); the scope finishes once they are
  /// done. It counts as cancelled all the same (new children start
  /// cancelled); a force (parent's, or `abort`) still forces every child at
  /// once, and so does the end of the grace period for what the handler
  /// left running. If it throws, the scope fails (`errc::task_exception`).
  void on_cancel(std::function<void(const caf::error&)> handler);

  /// From now on, a message the scope does not understand itself goes to
  /// `handler`, in the scope's context (a service scope answering queries,
  /// a supervisor its admin calls): a value it returns answers a request;
  /// for a later answer it takes `self()->make_response_promise()`. A
  /// message `handler` does not match either is refused as before
  /// (`caf::sec::unexpected_message`); if it throws, the scope fails.
  void on_message(caf::message_handler handler);

  /// Makes the scope a service that answers requests with children: each
  /// handler is `f(scope&, Args...)` returning the `handle<R>` of a child
  /// it spawned for the request (`spawn_fn`, `spawn_with_result`, ...), and
  /// a request `(Args...)` is answered with that child's value, or its
  /// error (a cancel included), once it is done. Keeps the scope open
  /// (`keep_open`) until it is cancelled or closed; installs the handlers
  /// with `on_message`, which it replaces. The four pieces a service needed
  /// by hand (keep_open, on_message, a response promise, `then`) in one.
  template <class... Fs>
  void serve_requests(Fs... handlers);

  /// From now on, a message that neither the scope nor the `on_message`
  /// handler understands is refused with what `refuse(msg)` returns (a
  /// clear error for a request of the right kind but the wrong shape); an
  /// empty error refuses it as before (`caf::sec::unexpected_message`).
  /// Needs an `on_message` handler.
  void
  on_unmatched_message(std::function<caf::error(const caf::message&)> refuse);

  /// Runs `f` in the scope's context once `delay` has passed, unless the
  /// scope has finished by then. A negative delay or an empty `f` fails
  /// with `errc::invalid_argument` and runs nothing. If `f` throws, the
  /// scope fails with `errc::task_exception`.
  caf::error after(caf::timespan delay, std::function<void()> f);

  /// Called from the body: the scope is "up" (what its parent's `start`
  /// waits for) not when its body returns, but at `signal_started()`.
  void defer_started();

  /// Tells whoever started this scope that it is up (see `defer_started`),
  /// with `info` for a `start_with_info` (OTP's `{ok, Pid, Info}`); calls
  /// after the first do nothing.
  void signal_started(caf::message info = {});

  // -- properties -------------------------------------------------------------

  /// Returns the path from the root, e.g. `"root/db"`.
  std::string path() const;

  /// Returns the grace period for cancels.
  caf::timespan grace() const noexcept;

  /// Returns where the scope stands in its life.
  scope_state state() const noexcept;

  /// Returns whether the scope has been cancelled (or aborted).
  bool is_cancelled() const noexcept;

  /// Returns whether the scope refuses new children.
  bool is_closed() const noexcept;

  /// Returns the number of live children: tasks of every kind and nested
  /// scopes, scopes opened by child tasks included; queued tasks are not.
  size_t running() const noexcept;

  /// Returns the live children by kind, and the queued tasks.
  child_counts children() const noexcept;

  /// Returns the scope actor.
  caf::event_based_actor* self() const noexcept {
    return self_;
  }

protected:
  using detail::scope_core::scope_core;

  ~scope() = default;

private:
  friend class detail::scope_impl;
  friend class scope_ref;
  friend class spawner<scope>;

  // The hooks of `spawner`.
  template <class F, class... Ts>
  caf::expected<detail::task_handle_t<F>> spawn_task(const spawn_options& opts,
                                                     F fun, Ts&&... xs);

  template <caf::spawn_options Os, class F>
  caf::expected<handle<detail::fn_value_t<F>>>
  try_spawn_function(const spawn_options& opts, F f);
};

} // namespace scaf

#include "scaf/detail/scope_templates.hpp"
#include "scaf/scope_owner.hpp"
