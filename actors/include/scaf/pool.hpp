#pragma once

#include <any>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>
#include <caf/timespan.hpp>

#include "scaf/child_factory.hpp"
#include "scaf/handle.hpp"
#include "scaf/scope_ref.hpp"
#include "scaf/supervisor.hpp"
#include "scaf/supervisor_ref.hpp"

namespace scaf {

/// The one template of a worker pool's workers: how to treat each, and how
/// to start one from the arguments of its `pool_ref::start_child` call.
template <class... Args>
struct worker_spec {
  /// How to treat each worker. `name` is the prefix of the workers' names
  /// (`"worker"` if empty): `worker-1`, `worker-2`, ..., never reused.
  /// `restart` applies to each worker on its own; `shutdown` is the time
  /// all of them get together when the pool stops. `significant` must be
  /// false.
  child_options options;
  /// Makes a worker from its arguments; the factory is kept for the
  /// worker's restarts, which start from the same arguments.
  std::function<child_factory(Args...)> start;
};

/// Makes the template of workers that run the task
/// `fun(self, xs..., args...)`: `xs` are the same for every worker, `args`
/// those of `pool_ref<Args...>::start_child(args...)`. `Args` are named
/// explicitly: `scaf::worker<std::string, int>({.name = "fetch"}, fetch)`.
template <class... Args, class F, class... Ts>
worker_spec<Args...> worker(child_options opts, F fun, Ts... xs) {
  return {std::move(opts),
          [fun = std::move(fun), ... xs = std::move(xs)](Args... args) {
            return task_factory(fun, xs..., std::move(args)...);
          }};
}

/// @private What a pool keeps of its worker template, without its types.
struct pool_template {
  child_options options;
  /// Makes a worker from arguments sent by message (`start_child_atom`);
  /// `std::nullopt` if they are not the template's.
  std::function<std::optional<child_factory>(const caf::message&)> from_message;
  /// The typed `std::function<child_factory(Args...)>`, for `pool_ref`.
  std::any start;
};

/// @private
child_factory pool(supervisor_options opts, pool_template workers);

/// A worker pool (OTP's `simple_one_for_one`): a supervisor whose children
/// all come from one template, started at run time with arguments of their
/// own through a `pool_ref<Args...>` (or by message) and restarted each on
/// its own. It starts empty. Spawn it into a scope, or as a supervisor's
/// child, from the factory this returns:
///
///     auto fetchers = scaf::pool({.intensity = 10},
///                                scaf::worker<std::string>({}, fetch));
///
/// - Each worker is restarted on its own, as `restart` says, with the
///   arguments it was started with; the restarts of all workers count toward
///   the pool's intensity. A worker that ends and is not restarted, is
///   terminated, or declines a restart is forgotten.
/// - Stopping the pool stops all workers at once: each is cancelled (or
///   killed, with a zero `shutdown`) at the same moment, and whatever still
///   runs after `shutdown` is killed. The pool's grace period is that one
///   `shutdown`, not a sum.
/// - `opts.strategy` must be `one_for_one` and `opts.shutdown_when`
///   `never` (OTP refuses the same): `errc::invalid_argument` otherwise.
///
/// Unlike `caf::actor_pool`, which dispatches messages to interchangeable
/// workers it neither restarts nor shuts down in order, a pool supervises:
/// every worker is a child of its scope, is restarted by policy, and has
/// stopped when the pool is done. Dispatch is up to the user (the workers'
/// actors are in `which_children`).
template <class... Args>
child_factory pool(supervisor_options opts, worker_spec<Args...> workers) {
  pool_template erased;
  erased.options = std::move(workers.options);
  if (workers.start) {
    erased.from_message =
      [start = workers.start](
        const caf::message& msg) -> std::optional<child_factory> {
      if (!msg.match_elements<Args...>())
        return std::nullopt;
      return [&]<size_t... I>(std::index_sequence<I...>) {
        return start(msg.get_as<Args>(I)...);
      }
      (std::index_sequence_for<Args...>{});
    };
    erased.start = std::move(workers.start);
  }
  return pool(std::move(opts), std::move(erased));
}

/// @private The untyped calls behind `pool_ref`.
class pool_ref_base {
protected:
  /// The pool's typed start function, if `sup` refers to a pool.
  static caf::expected<const std::any*> start_of(const supervisor_ref& sup);

  /// Starts a worker from what `make` returns (called here, on the
  /// caller's thread); fails with `errc::invalid_argument` if it throws.
  static handle<caf::actor>
  start_worker(const supervisor_ref& sup,
               const std::function<child_factory()>& make);

  /// `start_worker`, answering with the worker's name and start information.
  static handle<started_child>
  start_worker_with_info(const supervisor_ref& sup,
                         const std::function<child_factory()>& make);

  static caf::error wrong_arguments(const supervisor_ref& sup);
};

/// A reference to a running `scaf::pool` whose workers take `Args...`,
/// through which any thread or actor starts, stops, lists and counts its
/// workers. Calls are ordered and resolve as `supervisor_ref`'s do; errors:
/// `errc::no_such_child` (an actor that is no worker of the pool and still
/// runs), a worker's own error when its start fails, `errc::scope_closed`
/// once the pool is shutting down or gone. Cheap to copy; it does not keep
/// the pool alive.
template <class... Args>
class pool_ref : pool_ref_base {
public:
  /// A reference to no pool: every call fails with `errc::invalid_argument`.
  pool_ref() = default;

  /// Asks the actor `pool` for a reference and waits for the answer, at most
  /// `timeout`, as `supervisor_ref::of` does. Fails with
  /// `errc::invalid_argument` if it is a supervisor but no pool, or a pool
  /// whose workers take other arguments.
  static caf::expected<pool_ref>
  of(caf::actor_system& sys, const caf::actor& pool,
     caf::timespan timeout = std::chrono::seconds{10}) {
    auto sup = supervisor_ref::of(sys, pool, timeout);
    if (!sup)
      return std::move(sup.error());
    return of(*sup);
  }

  /// The pool `sup` refers to, as a pool of workers taking `Args...`; for
  /// actors, which ask for a `supervisor_ref` with `supervisor_ref_atom`.
  static caf::expected<pool_ref> of(const supervisor_ref& sup) {
    auto start = start_of(sup);
    if (!start)
      return std::move(start.error());
    auto typed = std::any_cast<start_function>(*start);
    if (typed == nullptr)
      return wrong_arguments(sup);
    return pool_ref{sup, *typed};
  }

  /// Returns whether this refers to a pool.
  explicit operator bool() const noexcept {
    return static_cast<bool>(sup_);
  }

  /// Starts a worker with `args` (last in the start order); resolves with
  /// its actor once it is up, or with an empty actor if it declined to
  /// start (it is then forgotten).
  handle<caf::actor> start_child(Args... args) const {
    return start_worker(sup_, [&] { return start_(std::move(args)...); });
  }

  /// `start_child`, resolving with the worker's actor, its name (the id
  /// that finds it across its restarts) and what it passed to
  /// `signal_started(info)` (OTP's `{ok, Child, Info}`).
  handle<started_child> start_child_with_info(Args... args) const {
    return start_worker_with_info(sup_,
                                  [&] { return start_(std::move(args)...); });
  }

  /// Stops `worker` with the template's shutdown policy; resolves once it
  /// has stopped, at once if it is a worker that already ended (OTP's
  /// `terminate_child(Sup, Pid)`). `worker` is the actor its start returned
  /// or its current one: a worker caught in a restart loop is stopped too.
  handle<void> terminate_child(caf::actor worker) const {
    return sup_.terminate_child(std::move(worker));
  }

  /// Stops the worker named `name` (`worker-N`, from `which_children` or
  /// `start_child_with_info`), which stays its name across its restarts.
  handle<void> terminate_child(std::string name) const {
    return sup_.terminate_child(std::move(name));
  }

  /// Lists the workers in start order, named `prefix-N`.
  handle<std::vector<child_info>> which_children() const {
    return sup_.which_children();
  }

  /// Counts as OTP does for a pool: `specs` is 1 (the template), `active`
  /// the workers starting or running, `workers` (or `supervisors`, for a
  /// template that spawns scopes) all workers, including those waiting to
  /// restart.
  handle<supervisor_counts> count_children() const {
    return sup_.count_children();
  }

  /// Returns the pool's scope: cancel it, join it, wait until it is
  /// `done()`.
  scope_ref scope() const {
    return sup_.scope();
  }

  /// Returns the pool as a supervisor.
  const supervisor_ref& supervisor() const noexcept {
    return sup_;
  }

private:
  using start_function = std::function<child_factory(Args...)>;

  pool_ref(supervisor_ref sup, start_function start)
    : sup_(std::move(sup)), start_(std::move(start)) {
    // nop
  }

  supervisor_ref sup_;
  start_function start_;
};

} // namespace scaf
