#pragma once

#include <cstddef>
#include <string>
#include <utility>

namespace scaf::detail {

class node_path;

/// The path of a node in the shared form its descendants build on: each
/// node that has children keeps one, and each of its children refers to it.
/// The paths of a tree thus cost memory linear in its node count, however
/// deep it is (a string per node would cost the square of the depth).
/// Immutable, cheap to copy, safe to share between threads.
class path_prefix {
public:
  path_prefix() noexcept = default;

  path_prefix(const path_prefix& other) noexcept;

  path_prefix(path_prefix&& other) noexcept
    : seg_(std::exchange(other.seg_, nullptr)) {
    // nop
  }

  path_prefix& operator=(path_prefix other) noexcept {
    std::swap(seg_, other.seg_);
    return *this;
  }

  ~path_prefix();

  bool empty() const noexcept {
    return seg_ == nullptr;
  }

  /// Appends the path, e.g. "root/db", to `out`.
  void append_to(std::string& out) const;

private:
  friend class node_path;

  struct segment;

  explicit path_prefix(segment* seg) noexcept : seg_(seg) {
    // nop
  }

  segment* seg_ = nullptr;
};

/// The path of a node from the root of its tree, e.g. `root/db/3`: the path
/// of its parent (shared) and its own name. Rendering it as a string walks up
/// to the root: do it when a line is written or an error is made, not on
/// the hot path.
class node_path {
public:
  node_path() = default;

  /// The path of a root node.
  explicit node_path(std::string name) : name_(std::move(name)) {
    // nop
  }

  /// The path of the child `name` of the node `parent`.
  node_path(path_prefix parent, std::string name)
    : parent_(std::move(parent)), name_(std::move(name)) {
    // nop
  }

  /// Returns the shared form of this path, for the paths of its children.
  /// Allocates: a node with children makes it once.
  path_prefix as_prefix() const;

  /// Returns the last element of the path; empty for an empty path.
  const std::string& name() const noexcept {
    return name_;
  }

  /// Returns whether this is the empty path (no node).
  bool empty() const noexcept {
    return parent_.empty() && name_.empty();
  }

  /// Renders the path, e.g. `"root/db/3"`.
  std::string str() const;

private:
  path_prefix parent_;
  std::string name_;
};

} // namespace scaf::detail
