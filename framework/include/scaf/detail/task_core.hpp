#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/timespan.hpp>

#include "scaf/detail/node_path.hpp"

namespace scaf {

class task_base;

namespace detail {

struct task_access;

struct stop_signal;

/// A scope opened by a task, with what to do when it is done.
struct nested_scope {
  caf::actor handle;
  std::function<void(const caf::error& exit_reason)> on_done;
};

/// The CAF handlers a task installed itself (`task_base::set_*_handler`),
/// which run after scaf's. Kept in the actor, not in its state: a
/// class-based task may install them in its constructor, before scaf's
/// bookkeeping exists.
struct own_handlers {
  caf::scheduled_actor::default_handler fallback;
  caf::scheduled_actor::down_handler down;
  caf::scheduled_actor::exit_handler exit;
  caf::scheduled_actor::exception_handler exception;
};

/// What few tasks need: kept out of line so that a task stays small.
struct task_extra {
  std::function<void(caf::down_msg&)> on_down;
  /// A stand-in's force handler (`task_base::on_force`).
  std::function<void(const caf::error&)> on_force;
  /// The scopes the task opened that are still alive.
  std::vector<nested_scope> nested;
};

/// The bookkeeping scaf keeps for every task. It lives in the task actor's
/// `state`, so CAF destroys it before the task's down message is sent.
class task_core {
public:
  task_core() = default;
  task_core(const task_core&) = delete;
  task_core& operator=(const task_core&) = delete;

  /// Aborts nested scopes that are still alive (the task died abnormally),
  /// and tells its scope that their failures are now its own.
  ~task_core();

private:
  friend class scaf::task_base;

  task_extra& extra() {
    if (!extra_)
      extra_ = std::make_unique<task_extra>();
    return *extra_;
  }

  bool has_nested() const noexcept {
    return extra_ && !extra_->nested.empty();
  }

  caf::actor_id id_ = 0;
  caf::actor_addr parent_;
  std::optional<caf::timespan> grace_;
  bool record_outcomes_ = false;
  std::function<void(const caf::error&)> on_cancel_;
  std::unique_ptr<task_extra> extra_;
  caf::error cancel_reason_;
  std::optional<caf::error> pending_quit_;
  /// See node_context::on_started; empty once called.
  std::unique_ptr<std::function<void(caf::message)>> on_started_;
  /// Set for a function running in this actor: how its scope reaches it
  /// while it runs (owned by the function task's state).
  const stop_signal* stop_ = nullptr;
  bool cancelled_ = false;
  bool start_cancelled_ = false;
  bool defer_started_ = false;
  /// It signalled that it is up (or came up by returning its behavior).
  bool up_ = false;
};

/// State without user data.
struct no_state {};

/// The state type of a task: the user's `State` plus scaf's bookkeeping.
/// `State` is built in place, once (as `caf::stateful_actor` builds its
/// state): from the actor pointer when it has such a constructor, otherwise
/// by default. It need not be copyable or movable.
template <class State>
struct task_state : State, task_core {
  template <class Self>
  requires std::is_constructible_v<State, Self*>
  explicit task_state(Self* ptr) : State(ptr) {
    static_assert(!std::is_aggregate_v<State>,
                  "this State is an aggregate whose first member can be "
                  "initialized from the actor pointer: C++20 would silently "
                  "do so; give State a user-declared constructor");
    bind(ptr);
  }

  template <class Self>
  requires(!std::is_constructible_v<State, Self*>) explicit task_state(
    Self* ptr)
    : State() {
    bind(ptr);
  }

private:
  template <class Self>
  void bind(Self* self);
};

} // namespace detail
} // namespace scaf
