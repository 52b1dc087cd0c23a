#pragma once

#include <functional>
#include <memory>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "scaf/detail/blocking.hpp"
#include "scaf/detail/body.hpp"
#include "scaf/detail/node.hpp"
#include "scaf/scope_options.hpp"

namespace scaf {

/// Options of `scaf::run`.
struct run_options {
  /// The root scope's options; its name defaults to `"root"`.
  scope_options scope{};
  /// If set, receives the root scope's full report (suppressed errors, killed
  /// children) when `run` returns.
  scope_report* report = nullptr;
};

namespace detail {

/// Spawns the scope described by `cfg` and blocks until it has terminated.
void run_scope(caf::actor_system& sys, scope_config cfg);

} // namespace detail

/// Runs `root(scope&)` in a new scope and blocks until every actor spawned
/// under it, transitively, has terminated. Returns the root's value (`root`
/// may return `T`, `caf::expected<T>` or `void`), or the scope's first error.
///
/// Because `run` returns only after everything it started has stopped, the
/// root and its tasks may capture the caller's locals by reference. Must not
/// be called from inside an actor: it blocks the calling thread, and on a
/// CAF scheduler thread it fails at once with `errc::would_deadlock`
/// (blocking tasks may call it).
template <class F>
caf::expected<detail::body_value_t<F>> run(caf::actor_system& sys, F&& root,
                                           run_options opts = {}) {
  if (auto err = detail::refuse_blocking("scaf::run"))
    return err;
  using raw_type = detail::body_raw_t<F>;
  auto slot = std::make_shared<detail::value_slot<raw_type>>();
  auto report = std::make_shared<scope_report>();
  detail::scope_config cfg;
  cfg.options = std::move(opts.scope);
  if (cfg.options.name.empty())
    cfg.options.name = "root";
  cfg.body = detail::make_body(std::ref(root), slot);
  cfg.report = report;
  detail::run_scope(sys, std::move(cfg));
  if (opts.report != nullptr)
    *opts.report = *report;
  return detail::make_result(*report, *slot);
}

/// Spawns a top-level service scope running `body(scope&)` and returns its
/// handle at once. The scope runs until it is cancelled, fails, or is joined
/// or closed and its main children are done; it stays alive until then even
/// if nobody holds the handle. Monitor the handle to learn when the whole
/// subtree is gone: the down reason is the scope's result. If `report` is set,
/// the scope writes its full report there before it terminates.
template <class F>
caf::actor spawn_scope(caf::actor_system& sys, scope_options opts, F body,
                       std::shared_ptr<scope_report> report = nullptr) {
  using raw_type = detail::body_raw_t<F>;
  auto slot = std::make_shared<detail::value_slot<raw_type>>();
  detail::scope_config cfg;
  cfg.options = std::move(opts);
  if (cfg.options.name.empty())
    cfg.options.name = "scope";
  cfg.body = detail::make_body(std::move(body), slot);
  cfg.report = std::move(report);
  cfg.join_after_body = false;
  cfg.keep_alive = true;
  return detail::spawn_scope_actor(sys, std::move(cfg));
}

} // namespace scaf
