#pragma once

#include <functional>
#include <utility>

#include <caf/actor_addr.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

namespace scaf {

class task_base;

namespace detail {

/// A closure to run in the context of a task; delivered as the message
/// `(continuation)`, which every scaf task handles.
struct continuation {
  std::function<void()> fn;
};

/// Where and what to post when a result becomes available.
class continuation_target {
public:
  /// Binds `fn` to the actor `target`, which must handle `continuation`
  /// messages (every scaf task and scope does), and keeps it alive until
  /// `fn` is posted to it (as a pending CAF request keeps its sender).
  /// Without a target, `fn` runs inline, on the thread that resolves the
  /// handle (forwarding one handle to another).
  static continuation_target make(caf::strong_actor_ptr target,
                                  std::function<void()> fn);

  /// Sends the closure to the task; nothing if the task is gone.
  void post();

  /// Runs the closure at once if `here` (the actor resolving the handle, in
  /// its own context) is the target, else posts it: a continuation must not
  /// wait for a message its target may not live to read.
  void post_or_run(const caf::actor_addr& here);

private:
  caf::strong_actor_ptr target_;
  std::function<void()> fn_;
};

} // namespace detail
} // namespace scaf

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::detail::continuation)
