#pragma once

#include <cstdint>

namespace scaf {

/// Where a scope stands in its life. A scope is in exactly one state at a
/// time; `next` below is the whole table of how it moves, and the live tree
/// (`tree_node::scope_state`), the trace and the log name these states.
///
/// Besides its children, two *holds* keep a scope from finishing: its body
/// while it runs, and, for a child scope opened into a scope that was
/// already cancelled, its owner until it lets go (joins, closes, cancels,
/// aborts, detaches or drops the scope), so that cleanup work spawned
/// through the owner still runs. A scope is *idle* when it has no child, no
/// queued task and no hold; its *main work* is its body and its main
/// (not background) children. An idle scope about to finish first runs the
/// calls through a `scope_ref` that are on their way to it.
enum class scope_state : unsigned char {
  /// Accepts children. Finishes only once it is joined, closed, cancelled
  /// or aborted (a service scope, a child scope before its join).
  open,
  /// Joined: still accepts children; once its main work is done it cancels
  /// its background children, and it finishes once idle.
  joined,
  /// Closed: refuses new children (`errc::scope_closed`); otherwise as
  /// `joined`.
  closed,
  /// Cancelled: every child has been told to stop and is forced past its
  /// grace period; new children start cancelled (cleanup work). Finishes
  /// once idle.
  cancelling,
  /// Cancelled and closed: as `cancelling`, refusing new children.
  draining,
  /// Aborted, or forced by its parent: every child has been forced at once;
  /// refuses new children. Finishes once idle (an owner's hold no longer
  /// counts).
  aborting,
  /// Has reported its outcome; its actor has terminated or is about to.
  finished,
};

/// What moves a scope from one state to another.
enum class scope_input : unsigned char {
  /// `join`, a `join_atom`, the end of the body of `scaf::run` and nested
  /// scopes, or a parent's join reaching its child scopes.
  join,
  /// `close`, a `close_atom`, or a parent's close.
  close,
  /// A cancel from anywhere: `cancel`, a message, a parent, an owner, a
  /// deadline, the failure policy.
  cancel,
  /// `abort`, an `abort_atom`, or the parent forcing this scope.
  abort,
  /// No main work is left, yet children are (background ones).
  main_done,
  /// No child, no queued task and no hold is left.
  idle,
};

/// Returns the enumerator's name, e.g. `"cancelling"`.
const char* to_string(scope_state x);

/// Returns the enumerator's name, e.g. `"main_done"`.
const char* to_string(scope_input x);

/// The state a scope in state `from` moves to on `input`: the lifecycle's
/// whole transition table. Inputs that change nothing leave the state as
/// it is (a second cancel, a join of a closed scope, idle while open).
constexpr scope_state next(scope_state from, scope_input input) noexcept {
  using s = scope_state;
  constexpr s o = s::open, j = s::joined, c = s::closed, x = s::cancelling,
              d = s::draining, a = s::aborting, f = s::finished;
  // clang-format off
  constexpr s table[7][6] = {
    //               join close cancel abort main_done idle
    /* open       */ {j,   c,    x,     a,    o,        o},
    /* joined     */ {j,   c,    x,     a,    x,        f},
    /* closed     */ {c,   c,    d,     a,    d,        f},
    /* cancelling */ {x,   d,    x,     a,    x,        f},
    /* draining   */ {d,   d,    d,     a,    d,        f},
    /* aborting   */ {a,   a,    a,     a,    a,        f},
    /* finished   */ {f,   f,    f,     f,    f,        f},
  };
  // clang-format on
  return table[static_cast<int>(from)][static_cast<int>(input)];
}

/// Whether a scope in state `x` accepts new children.
constexpr bool accepts_children(scope_state x) noexcept {
  return x == scope_state::open || x == scope_state::joined ||
         x == scope_state::cancelling;
}

/// Whether a scope in state `x` has cancelled its children.
constexpr bool is_cancelled(scope_state x) noexcept {
  return x == scope_state::cancelling || x == scope_state::draining ||
         x == scope_state::aborting;
}

/// Whether a scope in state `x` finishes once its main work is done (else
/// only once it is cancelled or aborted and idle, or never while open).
constexpr bool finishes_after_main_work(scope_state x) noexcept {
  return x == scope_state::joined || x == scope_state::closed;
}

} // namespace scaf
