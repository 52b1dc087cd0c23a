#include "scaf/detail/node_path.hpp"

#include <atomic>
#include <string>
#include <vector>

#include "scaf/errc.hpp"
#include "scaf/names.hpp"

namespace scaf::detail {

struct path_prefix::segment {
  segment(segment* up, std::string x) : parent(up), name(std::move(x)) {
    // nop
  }

  std::atomic<size_t> rc{1};
  /// An owned reference.
  segment* parent;
  std::string name;
};

path_prefix::path_prefix(const path_prefix& other) noexcept : seg_(other.seg_) {
  if (seg_ != nullptr)
    seg_->rc.fetch_add(1, std::memory_order_relaxed);
}

path_prefix::~path_prefix() {
  // Iterative: releasing the last reference to a deep path must not recurse
  // once per level.
  auto x = seg_;
  while (x != nullptr && x->rc.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    auto up = x->parent;
    delete x;
    x = up;
  }
}

void path_prefix::append_to(std::string& out) const {
  std::vector<const segment*> up;
  for (auto x = seg_; x != nullptr; x = x->parent)
    up.push_back(x);
  for (auto i = up.rbegin(); i != up.rend(); ++i) {
    if (i != up.rbegin())
      out += '/';
    out += (*i)->name;
  }
}

path_prefix node_path::as_prefix() const {
  auto up = parent_.seg_;
  if (up != nullptr)
    up->rc.fetch_add(1, std::memory_order_relaxed);
  return path_prefix{new path_prefix::segment(up, name_)};
}

std::string node_path::str() const {
  std::string out;
  parent_.append_to(out);
  if (!parent_.empty())
    out += '/';
  out += name_;
  return out;
}

} // namespace scaf::detail

namespace scaf {

caf::error check_name(std::string_view name, std::string path) {
  auto invalid = [&](std::string rule) {
    auto shown = std::string{name.substr(0, 32)};
    for (auto& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        c = '?';
    if (name.size() > 32)
      shown += "...";
    return make_error(errc::invalid_argument, std::move(path),
                      "the child name '" + shown + "' " + rule);
  };
  if (name.size() > max_name_length)
    return invalid("is longer than " + std::to_string(max_name_length) +
                   " characters");
  auto digits = !name.empty();
  for (auto c : name) {
    if (c == '/')
      return invalid("contains '/', which separates the elements of a path");
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return invalid("contains a control character");
    digits = digits && c >= '0' && c <= '9';
  }
  if (digits)
    return invalid("is only digits, like the automatic names");
  return {};
}

} // namespace scaf
