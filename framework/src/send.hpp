// Internal: sending scaf's control messages at high priority.
#pragma once

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message_id.hpp>
#include <caf/message_priority.hpp>

namespace scaf::detail {

/// Enqueues `xs` to `dest` as a high-priority message, so that cancel, abort
/// and kill overtake a backlog of ordinary messages (CAF's `send_exit` uses
/// normal priority). `sender` may be null for an anonymous message.
template <class... Ts>
void send_urgent(caf::local_actor* sender, const caf::actor& dest, Ts&&... xs) {
  if (!dest)
    return;
  auto mid = caf::make_message_id(caf::message_priority::high);
  caf::strong_actor_ptr src;
  if (sender != nullptr)
    src = sender->ctrl();
  dest->enqueue(
    caf::make_mailbox_element(std::move(src), mid, {}, std::forward<Ts>(xs)...),
    sender != nullptr ? sender->context() : nullptr);
}

} // namespace scaf::detail
