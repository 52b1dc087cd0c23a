#pragma once

#include <cstddef>
#include <string>

namespace scaf::detail {

/// The path of a node from the root of its tree, e.g. `root/db/3`.
///
/// Each node keeps its own name and a shared reference to its parent's path,
/// so the paths of a tree cost memory linear in its node count, however deep
/// it is (a string per node would cost the square of the depth). Rendering
/// the path as a string walks up to the root: do it when a line is written
/// or an error is made, not on the hot path. Immutable and safe to share
/// between threads.
class node_path {
public:
  // -- constructors, destructors, and assignment operators -------------------

  node_path() noexcept = default;

  /// The path of a root node.
  explicit node_path(std::string name);

  node_path(const node_path& other) noexcept;

  node_path(node_path&& other) noexcept;

  node_path& operator=(node_path other) noexcept;

  ~node_path();

  // -- properties -------------------------------------------------------------

  /// Returns the path of the child `name` of this node.
  node_path child(std::string name) const;

  /// Returns the last element of the path; empty for an empty path.
  const std::string& name() const noexcept;

  /// Returns whether this is the empty path (no node).
  bool empty() const noexcept {
    return last_ == nullptr;
  }

  /// Renders the path, e.g. `"root/db/3"`.
  std::string str() const;

private:
  struct segment;

  explicit node_path(segment* last) noexcept : last_(last) {
    // nop
  }

  segment* last_ = nullptr;
};

} // namespace scaf::detail
