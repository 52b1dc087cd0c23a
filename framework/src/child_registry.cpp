#include "child_registry.hpp"

namespace scaf::detail {

child_record& child_registry::add(caf::actor_id id, const child_kind& kind) {
  auto& x = records_[id];
  x.id = id;
  x.kind = &kind;
  link_back(x);
  return x;
}

child_registry::node_type child_registry::take(child_record& x) {
  unlink(x);
  return records_.extract(x.id);
}

void child_registry::move_to_back(child_record& x) noexcept {
  unlink(x);
  link_back(x);
}

void child_registry::link_back(child_record& x) noexcept {
  x.prev = tail_;
  x.next = nullptr;
  (tail_ != nullptr ? tail_->next : head_) = &x;
  tail_ = &x;
}

void child_registry::unlink(child_record& x) noexcept {
  (x.prev != nullptr ? x.prev->next : head_) = x.next;
  (x.next != nullptr ? x.next->prev : tail_) = x.prev;
  x.prev = x.next = nullptr;
}

} // namespace scaf::detail
