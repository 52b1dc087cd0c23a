#pragma once

#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "scaf/detail/body.hpp"
#include "scaf/detail/node.hpp"
#include "scaf/detail/node_path.hpp"
#include "scaf/detail/scope_shared.hpp"
#include "scaf/logger.hpp"
#include "scaf/scope_options.hpp"

namespace scaf {

class scope_owner;

namespace detail {

struct context_access;

} // namespace detail

/// What a function or blocking task sees of itself while it runs: its stop
/// token and why it was cancelled, its path, and scopes of its own. Spawn a
/// task that takes it as `f(scaf::task_context&)` (`scope::spawn_fn`,
/// `spawn_blocking` and their variants); it lives for the call of `f` and
/// belongs to that call's thread.
///
/// A scope the task opens (`open_child`, `run`) is its child in the tree
/// (`root/fetch/parts`), named per task (two tasks may each open a scope
/// called `parts`): the task's scope cancels it with everything else and
/// waits for it, and the task's end waits for it too; a task that returns
/// while a scope it opened still runs cancels that scope first. Waiting in
/// the task (`run`, `join().wait()`) is allowed: a function task's thread
/// belongs to scaf's function pool, which starts another thread meanwhile.
class task_context {
public:
  task_context(const task_context&) = delete;
  task_context& operator=(const task_context&) = delete;

  // -- cancellation -----------------------------------------------------------

  /// Returns the token on which the task's scope requests stop when it
  /// cancels the task.
  std::stop_token stop_token() const noexcept;

  /// Returns whether the task has been cancelled (stop was requested).
  bool is_cancelled() const noexcept;

  /// Returns why the task was cancelled (an `errc::cancelled` error), or an
  /// empty error while it was not.
  caf::error cancel_reason() const;

  // -- properties -------------------------------------------------------------

  /// Returns the task's path from the root scope, e.g. `"root/fetch"`.
  std::string path() const;

  /// Returns the actor system the task runs in.
  caf::actor_system& system() const noexcept;

  // -- logging ----------------------------------------------------------------

  /// Writes a line to scaf's logger (`scaf::logger()`) at `level`, prefixed
  /// with the task's path as scaf's own lines are (`root/fetch: 3 files
  /// left`): the way for a function or blocking task, which has no actor to
  /// print with, to say what it does. Thread-safe.
  template <class... Ts>
  void log(spdlog::level::level_enum level, fmt::format_string<Ts...> fmt,
           Ts&&... xs) const {
    auto& out = logger();
    if (out.should_log(level))
      out.log(level, "{}: {}", path(),
              fmt::format(fmt, std::forward<Ts>(xs)...));
  }

  // -- scopes of its own ------------------------------------------------------

  /// Opens a child scope of this task that lives until it is joined (see
  /// `scope::open_child`): spawn into it through the owner's `ref()`, then
  /// `join().wait()`. The name must be unique among the live scopes of this
  /// task (`errc::invalid_argument` otherwise); empty, the scope gets a
  /// number. Refused (the task's scope is closed, or the task is ending),
  /// the owner's `done()` resolves with `errc::scope_closed`, or, if the
  /// task was told to stop, with why (a stop, not a failure).
  scope_owner open_child(scope_options opts = {});

  /// Runs `body(scope&)` in a new child scope of this task and blocks until
  /// every actor under it has terminated, as `scaf::run` does for a root:
  /// returns the body's value or the scope's first error (refused, as
  /// `open_child`'s `done()` says).
  template <class F>
  caf::expected<detail::body_value_t<F>> run(scope_options opts, F&& body);

private:
  friend struct detail::context_access;

  task_context(caf::actor_system& sys, caf::actor scope, caf::actor_id key,
               const detail::node_path& path,
               const detail::stop_signal& stop) noexcept;

  /// Opens the child scope: `body` runs in it first (if set), it writes its
  /// report to `report` (if set), and it joins after its body if `join`.
  std::shared_ptr<detail::scope_shared>
  open(scope_options opts, std::function<void(scope&)> body,
       std::shared_ptr<scope_report> report, bool join);

  /// Waits for the scope `shared` to finish.
  static caf::error await(const std::shared_ptr<detail::scope_shared>& shared);

  caf::actor_system* sys_;
  caf::actor scope_;
  caf::actor_id key_;
  const detail::node_path* path_;
  const detail::stop_signal* stop_;
};

namespace detail {

/// Makes `task_context`s: for scaf's own code.
struct context_access {
  static task_context make(caf::actor_system& sys, caf::actor scope,
                           caf::actor_id key, const node_path& path,
                           const stop_signal& stop) noexcept {
    return task_context{sys, std::move(scope), key, path, stop};
  }
};

} // namespace detail

template <class F>
caf::expected<detail::body_value_t<F>> task_context::run(scope_options opts,
                                                         F&& body) {
  using raw_type = detail::body_raw_t<F>;
  auto slot = std::make_shared<detail::value_slot<raw_type>>();
  auto report = std::make_shared<scope_report>();
  // The body is borrowed: this call returns only once the scope is gone.
  auto shared = open(std::move(opts), detail::make_body(std::ref(body), slot),
                     report, true);
  if (auto err = await(shared))
    return err;
  return detail::make_result(*report, *slot);
}

} // namespace scaf
