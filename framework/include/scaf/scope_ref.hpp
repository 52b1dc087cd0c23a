#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <chrono>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include "scaf/child_factory.hpp"
#include "scaf/detail/scope_shared.hpp"
#include "scaf/detail/task_exception.hpp"
#include "scaf/handle.hpp"
#include "scaf/scope.hpp"
#include "scaf/scope_options.hpp"
#include "scaf/scope_state.hpp"
#include "scaf/spawner.hpp"
#include "scaf/tree.hpp"

namespace scaf {

class scope_owner;

namespace detail {

struct ref_access;

/// The value type of `scope_ref::call(f)` for `f` returning `R`.
template <class R>
struct call_value : unwrap_expected<R> {
  static constexpr bool is_handle = false;
};

template <class T>
struct call_value<handle<T>> {
  using type = T;
  static constexpr bool is_handle = true;
};

} // namespace detail

/// Returns whether `x` is a scope actor of this process. False for an actor
/// of another node, which only a message can tell: scaf asks those, and
/// refuses a local actor that is no scope without sending it anything (a
/// plain CAF actor would print "unexpected message").
bool is_local_scope(const caf::actor& x);

/// A reference to a scope that any thread and any actor may hold and use: a
/// plain thread, another actor, a task of the scope or of another one.
///
/// It does what the scope's own `scope&` does inside its body: spawn every
/// kind of task (getting the same handles; a behavior task gets a
/// `handle<void>` that resolves when it ends), open child scopes, cancel,
/// close, abort, join, set the limit, grace period and deadlines, and read
/// the scope's state. Each call is sent to the scope and runs there, in the
/// order the caller made them; the calls return at once, and what the scope
/// decides arrives through the returned handle. A scope does not finish
/// while a call made through a reference is on its way to it: a cancel
/// from its parent travels at high priority and may reach it first, and
/// the call then runs in the cancelled scope (a spawn as cleanup work), not
/// refused. A spawn the scope refuses resolves its handle with the error
/// (`errc::scope_closed` once the scope is closed, finished, gone or never
/// started; `errc::limit_reached` for a `try_` spawn at the limit).
///
/// A reference is cheap to copy (one shared pointer) and does not keep the
/// scope alive: it stays valid after the scope is gone, and every spawn
/// through it is then refused. Get one with `scope::ref()` inside the scope,
/// from a `scope_owner`, or with `of` (or the `ref_atom` request) from the
/// scope's actor handle.
///
/// Reads: `is_cancelled` and `is_closed` see this thread's own writes (a
/// `cancel`, `close` or `abort` made through any reference to the scope,
/// once that call returned) and what the scope itself published; `path`,
/// `children` and `state` are snapshots the scope publishes as it changes
/// (a task's handle resolves only after the scope stopped counting it);
/// `is_finished` is exact. Blocking calls (`of`, waits on the handles) fail
/// with `errc::would_deadlock` on a CAF scheduler thread; use the handles'
/// `then` inside actors.
class scope_ref : public spawner<scope_ref> {
public:
  // -- constructors, destructors, and assignment operators -------------------

  /// A reference to no scope: only `operator bool` may be called.
  scope_ref() = default;

  /// Asks the scope actor `scope` for a reference and waits for the answer,
  /// at most `timeout` (a scope answers at once); from a plain thread, while
  /// an actor sends `ref_atom` as a request instead. Fails with
  /// `errc::scope_closed` if the scope is gone, `errc::invalid_argument` if
  /// `scope` is no scope (it does not understand `ref_atom`, or does not
  /// answer in time), and `errc::would_deadlock` on a CAF scheduler thread.
  static caf::expected<scope_ref>
  of(caf::actor_system& sys, const caf::actor& scope,
     caf::timespan timeout = std::chrono::seconds{10});

  /// `of` without waiting, for actors: the handle resolves with the
  /// reference or with the error `of` would return (continue with
  /// `handle::then(self, ...)`). A short-lived actor asks the scope.
  static handle<scope_ref>
  request(caf::actor_system& sys, const caf::actor& scope,
          caf::timespan timeout = std::chrono::seconds{10});

  /// Returns whether this refers to a scope.
  explicit operator bool() const noexcept {
    return shared_ != nullptr;
  }

  // -- spawning ---------------------------------------------------------------

  // The spawn family comes from `scaf::spawner`: spawned through a
  // reference, a behavior task gets a `handle<void>` that resolves when it
  // ends (success, its failure, `errc::cancelled` or `errc::killed`); the
  // arguments are copied into the call.
  using spawner<scope_ref>::spawn;

  /// Spawns a child from `factory`: a task, or a nested scope such as a
  /// `scaf::supervisor` (see `scope::spawn`). The handle resolves when the
  /// child ends, as above.
  handle<void> spawn(const spawn_options& opts,
                     const child_factory& factory) const {
    auto state = std::make_shared<detail::handle_state<void>>();
    post_call(state, [opts, state, factory](scope& s) {
      detail::spawn_extras extras;
      extras.result = state;
      if (auto hdl = s.spawn_child(opts, factory, std::move(extras)); !hdl)
        state->resolve(hdl.error());
    });
    return detail::handle_access::make<handle<void>>(std::move(state));
  }

  /// Opens a child scope of this scope (see `scope::open_child`). The owner
  /// is usable at once: calls through it wait for the child scope to start.
  scope_owner open_child(scope_options opts = {}) const;

  // -- running code in the scope ---------------------------------------------

  /// Runs `f(scope&)` in the scope's context, after the calls made through
  /// references before it, and returns a handle to what it returns: a value,
  /// `caf::expected<T>`, nothing (`handle<void>`), or a `handle<T>` (the
  /// returned handle then resolves when that one does). This is how code
  /// outside the scope uses what only its `scope&` offers (e.g. `start`,
  /// `on_child_done`) or state kept in the scope's handlers. If `f` never
  /// runs (the scope is gone, or never started) the handle resolves with
  /// `errc::scope_closed`; if `f` throws, it resolves with
  /// `errc::task_exception` and the scope fails with it.
  template <class F>
  auto call(F f) const {
    using result = std::invoke_result_t<F&, scope&>;
    using value = typename detail::call_value<result>::type;
    auto state = std::make_shared<detail::handle_state<value>>();
    post_call(state, [state, f = std::move(f)](scope& s) mutable {
      try {
        if constexpr (std::is_void_v<result>) {
          f(s);
          state->resolve(caf::unit);
        } else if constexpr (detail::call_value<result>::is_handle) {
          detail::forward(detail::handle_access::state(f(s)), state);
        } else {
          state->resolve(f(s));
        }
      } catch (...) {
        state->resolve(
          detail::task_exception_error(std::current_exception(), s.path()));
        throw;
      }
    });
    return detail::handle_access::make<handle<value>>(std::move(state));
  }

  // -- lifecycle --------------------------------------------------------------

  /// Cancels the scope (see `scope::cancel`).
  void cancel(std::string why) const;

  /// Cancels the scope because of `cause` (see `scope::cancel`).
  void cancel(caf::error cause) const;

  /// Closes the scope: no new children; it finishes when its main children
  /// are done.
  void close() const;

  /// Aborts the scope: cancels it and forces its children at once.
  void abort() const;

  /// Joins the scope (it finishes when its main children are done) and
  /// returns `done()`.
  handle<scope_report> join() const;

  /// Sets the scope's limit (see `scope::set_limit`). Fails at once with
  /// `errc::invalid_argument` for `n == 0`; this call and the three below
  /// fail with `errc::scope_closed` once the scope is gone.
  caf::error set_limit(size_t n) const;

  /// Sets the scope's grace period. Fails at once with
  /// `errc::invalid_argument` for a negative one.
  caf::error set_grace(caf::timespan grace) const;

  /// See `scope::fail_after`; a negative timeout fails at once.
  caf::error fail_after(caf::timespan timeout) const;

  /// See `scope::move_on_after`; a negative timeout fails at once.
  caf::error move_on_after(caf::timespan timeout) const;

  // -- properties -------------------------------------------------------------

  /// Returns the scope's path; empty until it has started.
  std::string path() const;

  /// Returns whether the scope has begun cancelling its children (cancelled
  /// from outside, by a deadline, because a child failed (errgroup), or, for
  /// background children, because its main work is done), or a cancel or
  /// abort has been asked for through a reference (it takes effect unless
  /// the scope finishes first).
  bool is_cancelled() const;

  /// Returns whether the scope refuses new children: it was closed or
  /// aborted, or it has finished, or a close or abort has been asked for
  /// through a reference. (A cancelled scope still accepts them.)
  bool is_closed() const;

  /// Returns the scope's state as it last published it (`scope_state::open`
  /// before it started, `finished` once it is gone).
  scope_state state() const;

  /// Returns whether the scope actor has terminated (with every actor under
  /// it).
  bool is_finished() const;

  /// Returns the scope's live children by kind (see `scope::children`).
  child_counts children() const;

  /// Resolves with the cancel reason once the scope begins cancelling its
  /// children (see `is_cancelled`; the reason says why), at once if it has;
  /// with `errc::scope_closed` if it finishes without that, or with the
  /// error that kept it from starting. `wait_for` it from a thread, `then`
  /// from an actor.
  handle<cancel_notice> when_cancelled() const;

  /// Resolves once the scope has no live children and no queued tasks
  /// (fuchsia's "wait until no tasks"); at once for a scope that is gone.
  handle<void> when_no_tasks() const;

  /// Resolves with the scope's report once the scope actor has terminated,
  /// and with it every actor under it; with an error if it never started.
  handle<scope_report> done() const;

  /// Resolves with a snapshot of the scope's live subtree (`scaf/tree.hpp`):
  /// each scope in it answers for itself and its children, in its own
  /// context, so each scope's part is consistent. A scope under it that
  /// does not answer within `timeout` (busy, or done meanwhile) is marked
  /// `unanswered`. Costs nothing until asked. `errc::scope_closed` if the
  /// scope is gone.
  handle<tree_node> tree(caf::timespan timeout = std::chrono::seconds{2}) const;

  /// Returns the scope's actor (to monitor it, or to send it messages);
  /// empty before it starts and once it is gone.
  caf::actor actor() const;

private:
  friend class spawner<scope_ref>;
  friend struct detail::ref_access;

  explicit scope_ref(std::shared_ptr<detail::scope_shared> shared)
    : shared_(std::move(shared)) {
    // nop
  }

  // The hooks of `spawner`.
  template <class F, class... Ts>
  handle<void> spawn_task(const spawn_options& opts, F fun, Ts&&... xs) const {
    return spawn(opts, task_factory(std::move(fun), std::forward<Ts>(xs)...));
  }

  template <caf::spawn_options Os, class F, class T = detail::fn_value_t<F>>
  handle<T> spawn_function(const spawn_options& opts, F f,
                           detail::fallback_t<T> fallback) const {
    return function<Os>(opts, std::move(f), std::move(fallback), false);
  }

  template <caf::spawn_options Os, class F, class T = detail::fn_value_t<F>>
  handle<T> try_spawn_function(const spawn_options& opts, F f) const {
    return function<Os>(opts, std::move(f), {}, true);
  }

  /// Sends `f` to the scope; if it never runs there, `state` resolves with
  /// `errc::scope_closed`.
  template <class T, class F>
  void post_call(const std::shared_ptr<detail::handle_state<T>>& state,
                 F f) const {
    shared_->post(std::make_shared<detail::scope_call>(
      std::move(f), [state, path = shared_->path()](const caf::error&) {
        state->resolve(make_error(errc::scope_closed, path,
                                  "the scope has finished or never started"));
      }));
  }

  /// Sends a call that has nothing to resolve.
  void post(std::function<void(scope&)> f) const;

  /// Returns `errc::scope_closed` if the scope is gone or never started.
  caf::error refuse_if_gone() const;

  /// Refuses a negative `x`, else sends `apply(scope, x)`.
  caf::error post_duration(caf::timespan x, const char* what,
                           void (*apply)(scope&, caf::timespan)) const;

  template <caf::spawn_options Os, class F, class T = detail::fn_value_t<F>>
  handle<T> function(const spawn_options& opts, F f,
                     detail::fallback_t<T> fallback, bool try_only) const {
    auto state = std::make_shared<detail::handle_state<T>>();
    post_call(state, [opts, state, f = std::move(f),
                      fallback = std::move(fallback),
                      try_only](scope& s) mutable {
      if (try_only)
        if (auto err = s.refuse_if_full()) {
          state->resolve(std::move(err));
          return;
        }
      s.spawn_function<Os>(state, opts, std::move(f), std::move(fallback));
    });
    return detail::handle_access::make<handle<T>>(std::move(state));
  }

  std::shared_ptr<detail::scope_shared> shared_;
};

namespace detail {

/// Reaches what `scope_ref` keeps private: for scaf's own code.
struct ref_access {
  static scope_ref make(std::shared_ptr<scope_shared> shared) {
    return scope_ref{std::move(shared)};
  }

  static const std::shared_ptr<scope_shared>& shared(const scope_ref& x) {
    return x.shared_;
  }

  static scope_owner make_owner(std::shared_ptr<scope_shared> shared);
};

} // namespace detail

} // namespace scaf

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::scope_ref)
