#include "scaf/detail/node_path.hpp"

#include <atomic>
#include <utility>
#include <vector>

namespace scaf::detail {

struct node_path::segment {
  segment(segment* up, std::string x) : parent(up), name(std::move(x)) {
    // nop
  }

  std::atomic<size_t> rc{1};
  /// An owned reference, released by `release`.
  segment* parent;
  std::string name;
};

node_path::node_path(std::string name)
  : last_(new segment(nullptr, std::move(name))) {
  // nop
}

node_path::node_path(const node_path& other) noexcept : last_(other.last_) {
  if (last_ != nullptr)
    last_->rc.fetch_add(1, std::memory_order_relaxed);
}

node_path::node_path(node_path&& other) noexcept
  : last_(std::exchange(other.last_, nullptr)) {
  // nop
}

node_path& node_path::operator=(node_path other) noexcept {
  std::swap(last_, other.last_);
  return *this;
}

node_path::~node_path() {
  // Iterative: releasing the last reference to a deep path must not recurse
  // once per level.
  auto x = last_;
  while (x != nullptr && x->rc.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    auto up = x->parent;
    delete x;
    x = up;
  }
}

node_path node_path::child(std::string name) const {
  if (last_ != nullptr)
    last_->rc.fetch_add(1, std::memory_order_relaxed);
  return node_path{new segment(last_, std::move(name))};
}

const std::string& node_path::name() const noexcept {
  static const std::string none;
  return last_ != nullptr ? last_->name : none;
}

std::string node_path::str() const {
  std::vector<const segment*> up;
  size_t len = 0;
  for (auto x = last_; x != nullptr; x = x->parent) {
    up.push_back(x);
    len += x->name.size() + 1;
  }
  std::string out;
  out.reserve(len);
  for (auto i = up.rbegin(); i != up.rend(); ++i) {
    if (i != up.rbegin())
      out += '/';
    out += (*i)->name;
  }
  return out;
}

} // namespace scaf::detail
