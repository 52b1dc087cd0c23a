// Internal: the children of a scope, by id and in spawn order.
#pragma once

#include <cstddef>
#include <unordered_map>

#include <caf/fwd.hpp>

#include "child.hpp"

namespace scaf::detail {

/// The children of a scope: found by actor id (jobs get ids no actor has),
/// walked in spawn order.
class child_registry {
public:
  using node_type = std::unordered_map<caf::actor_id, child_record>::node_type;

  child_registry() = default;
  child_registry(const child_registry&) = delete;
  child_registry& operator=(const child_registry&) = delete;

  /// Adds a record for `id` of `kind` at the end of the spawn order.
  child_record& add(caf::actor_id id, const child_kind& kind);

  child_record* find(caf::actor_id id) noexcept {
    auto i = records_.find(id);
    return i != records_.end() ? &i->second : nullptr;
  }

  const child_record* find(caf::actor_id id) const noexcept {
    auto i = records_.find(id);
    return i != records_.end() ? &i->second : nullptr;
  }

  /// Removes `x` and hands it over; `x` stays valid while the node lives.
  node_type take(child_record& x);

  /// Moves `x` to the end of the spawn order.
  void move_to_back(child_record& x) noexcept;

  /// The oldest child, or null; continue with `next`.
  child_record* first() const noexcept {
    return head_;
  }

  size_t size() const noexcept {
    return records_.size();
  }

private:
  void link_back(child_record& x) noexcept;

  void unlink(child_record& x) noexcept;

  std::unordered_map<caf::actor_id, child_record> records_;
  child_record* head_ = nullptr;
  child_record* tail_ = nullptr;
};

} // namespace scaf::detail
