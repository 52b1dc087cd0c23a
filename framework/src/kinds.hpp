// Internal: the kinds of children, each implementing the child contract
// (child.hpp) in a file of its own under src/kinds/.
#pragma once

#include "scaf/detail/node.hpp"

#include "child.hpp"

namespace scaf::detail {

/// An event-based task actor on CAF's scheduler (`scope::spawn`).
const child_kind& behavior_task_kind() noexcept;

/// A function task run as a job on scaf's function pool (`spawn_fn` with
/// `f()`, `f(std::stop_token)` or `f(task_context&)`).
const child_kind& function_job_kind() noexcept;

/// A function task that takes `task_base*`: a task actor on a thread of its
/// own.
const child_kind& function_thread_kind() noexcept;

/// A blocking task: a task actor on a thread of its own.
const child_kind& blocking_task_kind() noexcept;

/// A nested or child scope this scope spawned.
const child_kind& child_scope_kind() noexcept;

/// A scope one of this scope's tasks opened.
const child_kind& owned_scope_kind() noexcept;

/// The kind of an actor child spawned as `x`.
const child_kind& kind_of(actor_kind x) noexcept;

} // namespace scaf::detail
