#pragma once

#include <memory>
#include <string>

#include <caf/actor_system.hpp>

#include "scaf/detail/body.hpp"
#include "scaf/detail/scope_shared.hpp"
#include "scaf/handle.hpp"
#include "scaf/scope.hpp"
#include "scaf/scope_options.hpp"
#include "scaf/scope_ref.hpp"

namespace scaf {

namespace detail {

struct ref_access;

} // namespace detail

/// The owner of a scope that lives until it is joined: a child scope
/// (`scope::open_child`, `scope_ref::open_child`) or a top-level one
/// (`scaf::make_scope`). Move-only, like fuchsia's `Scope` and Java's
/// `StructuredTaskScope` in a try-with-resources block.
///
/// The scope accepts tasks and child scopes of its own (through `ref()`)
/// until it is joined, closed, cancelled or aborted. A child scope belongs
/// to its parent's tree whoever owns it: the parent's cancel reaches it and
/// the parent does not finish before it. Joining returns the scope's report
/// (how it ended: succeeded, failed with the first failure and the
/// suppressed ones, or cancelled with its reason).
///
/// Destroying the owner of a scope that has not finished and was not
/// detached cancels the scope and waits until its subtree has terminated
/// (on a CAF scheduler thread, where waiting could deadlock, it cancels and
/// does not wait: the parent still waits for it). `detach()` gives up the
/// ownership: the scope keeps running in its parent's tree (a detached
/// top-level scope runs until it is joined, closed or cancelled through a
/// reference). The owner is not thread-safe; its `ref()` is. An owner that
/// owns nothing (default-constructed, moved from, detached) returns an
/// empty `ref()`, does nothing on `cancel` and `abort`, and its `join`,
/// `close` and `done` resolve with `errc::invalid_argument`.
///
/// Don'ts: an owner must go before its actor system (whose destructor
/// waits for the scope); an owner destroyed on a thread that its own scope
/// waits for (one of its blocking tasks) waits for itself; an owner that
/// escapes the body of `scaf::run` keeps `run` waiting until its scope is
/// joined or cancelled.
class scope_owner {
public:
  // -- constructors, destructors, and assignment operators -------------------

  /// Owns nothing.
  scope_owner() = default;

  /// Takes over `other`'s scope; `other` then owns nothing.
  scope_owner(scope_owner&& other) noexcept;

  /// Releases the scope owned so far (as the destructor does), then takes
  /// over `other`'s.
  scope_owner& operator=(scope_owner&& other) noexcept;

  scope_owner(const scope_owner&) = delete;
  scope_owner& operator=(const scope_owner&) = delete;

  /// Cancels the scope and waits until it is gone, unless it has finished
  /// or was detached.
  ~scope_owner();

  // -- lifecycle --------------------------------------------------------------

  /// Joins the scope: it finishes once its main tasks (and child scopes)
  /// are done; returns `done()`.
  handle<scope_report> join();

  /// Closes the scope (no new children) and returns `done()`.
  handle<scope_report> close();

  /// Cancels the scope with `why`.
  void cancel(std::string why = "cancelled by its owner");

  /// Aborts the scope: its children are forced at once.
  void abort();

  /// Gives up the ownership: destroying this owner no longer cancels the
  /// scope, which stays in its parent's tree.
  void detach() noexcept;

  // -- properties -------------------------------------------------------------

  /// Returns whether this owns a scope.
  explicit operator bool() const noexcept {
    return shared_ != nullptr;
  }

  /// Returns a reference to the scope; any thread or actor may use it.
  scope_ref ref() const;

  /// Resolves with the scope's report once the scope actor has terminated
  /// (with an error if it never started).
  handle<scope_report> done() const;

private:
  friend struct detail::ref_access;

  explicit scope_owner(std::shared_ptr<detail::scope_shared> shared);

  void release() noexcept;

  std::shared_ptr<detail::scope_shared> shared_;
};

/// Spawns a top-level scope that lives until it is joined, closed or
/// cancelled, owned by the returned `scope_owner` (the owned form of
/// `scaf::spawn_scope`): destroying the owner cancels the scope and waits
/// for it. The name defaults to `"scope"`. A negative grace period in
/// `opts` fails the owner's `done()` with `errc::invalid_argument`.
scope_owner make_scope(caf::actor_system& sys, scope_options opts = {});

template <class F>
scope_owner scope::open_child(scope_options opts, F body) {
  return open_child_with(std::move(opts),
                         detail::make_discarding_body(std::move(body)));
}

} // namespace scaf
