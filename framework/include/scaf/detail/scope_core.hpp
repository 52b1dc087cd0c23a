#pragma once

#include <functional>
#include <memory>
#include <utility>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <caf/make_counted.hpp>
#include <caf/timespan.hpp>

#include "scaf/child_factory.hpp"
#include "scaf/detail/function_ref.hpp"
#include "scaf/detail/function_task.hpp"
#include "scaf/detail/job.hpp"
#include "scaf/detail/node.hpp"
#include "scaf/detail/runtime.hpp"
#include "scaf/detail/spawn_task.hpp"
#include "scaf/handle.hpp"
#include "scaf/scope_options.hpp"

namespace scaf {

class scope;
class scope_owner;
class scope_ref;

namespace detail {

/// What every scope hands its spawning templates and its `scope_ref`s: the
/// scope actor and the one spawn path every child takes (src/spawn.cpp).
/// Nothing here is public: `scaf::scope` is the face, and
/// `detail::scope_state` the state behind both.
class scope_core {
protected:
  // -- constructors, destructors, and assignment operators -------------------

  explicit scope_core(caf::event_based_actor* self) : self_(self) {
    // nop
  }

  ~scope_core() = default;

  // -- the spawn path ---------------------------------------------------------

  friend class scaf::scope_ref;

  using actor_maker =
    function_ref<caf::actor(caf::local_actor*, node_context&&)>;

  using job_maker = function_ref<job_ptr(job_context)>;

  /// Spawns an actor child of `kind` through `make`; the one path every
  /// actor child takes.
  caf::expected<caf::actor> spawn_actor(const spawn_options& opts,
                                        actor_kind kind, actor_maker make,
                                        spawn_extras extras);

  /// Spawns a function task as a job made by `make`.
  caf::error spawn_job(const spawn_options& opts, job_maker make,
                       spawn_extras extras);

  /// Spawns a child from `factory` with `extras` (a `scope_ref` spawn).
  caf::expected<caf::actor> spawn_child(const spawn_options& opts,
                                        const child_factory& factory,
                                        spawn_extras extras);

  /// Whether a limited task spawned now must wait in the queue.
  bool must_queue() const noexcept;

  /// Queues a limited task: `start` spawns it once a slot is free, `drop`
  /// says why it never will; its handle `result` can cancel it meanwhile.
  void enqueue(bool background, std::function<void()> start,
               std::function<void(const caf::error&)> drop,
               std::shared_ptr<handle_control> result);

  /// Counts and returns `errc::limit_reached` if the limit is reached.
  caf::error refuse_if_full();

  /// Returns `errc::invalid_argument` naming `what` if `x` is negative.
  caf::error refuse_negative(caf::timespan x, const char* what) const;

  /// Spawns the function task `f` whose handle state is `state`, queueing it
  /// if the limit is reached.
  template <caf::spawn_options Os, class F, class T = fn_value_t<F>>
  void spawn_function(std::shared_ptr<handle_state<T>> state,
                      const spawn_options& opts, F f, fallback_t<T> fallback);

  template <caf::spawn_options Os, class F, class T = fn_value_t<F>>
  handle<T> spawn_function(const spawn_options& opts, F f,
                           fallback_t<T> fallback) {
    auto state = std::make_shared<handle_state<T>>();
    spawn_function<Os>(state, opts, std::move(f), std::move(fallback));
    return handle_access::make<handle<T>>(std::move(state));
  }

  /// The child scope of `open_child`, sharing `shared`, running `body`
  /// (may be empty) when it starts.
  caf::error open_child_scope(scope_options opts,
                              std::shared_ptr<scope_shared> shared,
                              std::function<void(scope&)> body = nullptr);

  scope_owner open_child_with(scope_options opts,
                              std::function<void(scope&)> body);

  // -- member variables -------------------------------------------------------

  caf::event_based_actor* self_;
  /// The system's runtime (function pool, busy watch); null under CAF's
  /// test coordinator.
  runtime* runtime_ = nullptr;
};

template <caf::spawn_options Os, class F, class T>
void scope_core::spawn_function(std::shared_ptr<handle_state<T>> state,
                                const spawn_options& opts, F f,
                                fallback_t<T> fallback) {
  // A cancellable task's fallback resolves its handle when the cancel
  // arrives, queued or running; only the scope's context touches it.
  std::function<void()> yield_fallback;
  if (fallback)
    yield_fallback = [state, x = std::make_shared<fallback_t<T>>(std::move(
                               fallback))] { resolve_fallback(*state, *x); };
  auto start = [this, opts, state, f = std::move(f), yield_fallback]() mutable {
    spawn_extras extras;
    extras.result = state;
    extras.on_cancelled = std::move(yield_fallback);
    extras.limited = true;
    // Busy in its function, the task hears its scope through this.
    if constexpr (!std::is_invocable_v<F&>)
      extras.stop = std::make_shared<stop_signal>();
    if constexpr (runs_as_job<F, Os>) {
      auto make = [&](job_context ctx) -> job_ptr {
        return caf::make_counted<fn_job<F, T>>(std::move(ctx), std::move(f),
                                               state);
      };
      if (auto err = spawn_job(opts, make, std::move(extras)))
        state->resolve(std::move(err));
    } else {
      // On a thread of its own, a detached task actor (on CAF's test
      // coordinator, its deterministic scheduler runs it).
      auto make = [&](caf::local_actor* parent, node_context&& ctx) {
        auto fn = make_function_task(std::move(f), state, extras.stop);
        if (Os == caf::no_spawn_options && runtime_ == nullptr)
          return spawn_task(parent, std::move(ctx), std::move(fn));
        return spawn_task<caf::detached>(parent, std::move(ctx), std::move(fn));
      };
      constexpr auto kind =
        Os == caf::detached ? actor_kind::blocking : actor_kind::function;
      if (auto hdl = spawn_actor(opts, kind, make, extras); !hdl)
        state->resolve(hdl.error());
    }
  };
  if (must_queue()) {
    enqueue(
      opts.background, [start]() mutable { start(); },
      [state, yield_fallback](const caf::error& why) {
        if (yield_fallback)
          yield_fallback();
        state->resolve(why);
      },
      state);
    return;
  }
  start();
}

} // namespace detail

} // namespace scaf
