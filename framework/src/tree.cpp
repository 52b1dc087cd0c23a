// The live tree: a scope's snapshot of itself and its children, gathered on
// request (scaf/tree.hpp). Nothing here runs until someone asks.
#include <algorithm>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/abstract_actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/resumable.hpp>
#include <caf/scoped_actor.hpp>

#include "scaf/atoms.hpp"
#include "scaf/tree.hpp"

#include "scope_impl.hpp"

namespace scaf::detail {

namespace {

/// A snapshot being gathered: delivered once every child scope asked has
/// answered, or once the last reference to it goes (the scope finished
/// meanwhile and dropped the answers it waited for) with what it has.
class tree_gather {
public:
  explicit tree_gather(std::function<void(tree_node)> deliver)
    : deliver_(std::move(deliver)) {
    // nop
  }

  tree_gather(const tree_gather&) = delete;
  tree_gather& operator=(const tree_gather&) = delete;

  ~tree_gather() {
    if (deliver_) {
      for (auto node : waiting_for_)
        if (node != nullptr)
          node->unanswered = true;
      deliver_(std::move(root));
    }
  }

  /// Waits for the answer that will fill `node`; returns its slot.
  size_t wait_for(tree_node* node) {
    waiting_for_.push_back(node);
    return waiting_for_.size() - 1;
  }

  /// The answer for `slot` came (or its request failed).
  void answered(size_t slot) {
    waiting_for_[slot] = nullptr;
    if (++answers_ == waiting_for_.size())
      finish();
  }

  void finish() {
    if (auto f = std::exchange(deliver_, nullptr))
      f(std::move(root));
  }

  tree_node root;

private:
  std::function<void(tree_node)> deliver_;
  std::vector<tree_node*> waiting_for_;
  size_t answers_ = 0;
};

/// The last element of `path`.
std::string last_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

tree_node scope_impl::tree_self(time_point t) const {
  tree_node x;
  x.name = path_.name();
  x.path = path_.str();
  x.kind = kind_name();
  x.scope_state = state_;
  if (cancelled())
    x.state = node_state::cancelling;
  else if (state_ != scope_state::open)
    x.state = node_state::waiting;
  x.age = t - started_at_;
  for (auto n : live_)
    x.live_children += n;
  return x;
}

caf::actor scope_impl::tree_child(const child_record& c, time_point t,
                                  tree_node& x) const {
  x.path = child_path(c).str();
  x.name = last_name(x.path);
  x.kind = c.kind_name();
  x.age = t - c.spawned_at;
  if (c.extra)
    x.restarts = c.extra->restarts;
  switch (c.phase) {
  case child_phase::running:
    break;
  case child_phase::cancelled:
    x.state = node_state::cancelling;
    break;
  case child_phase::forced:
    x.state = node_state::killing;
    break;
  case child_phase::straggler:
    x.state = node_state::straggler;
    break;
  }
  // How long past its grace period: since it was forced, or since the
  // moment it would have been.
  if (c.forced()) {
    x.overdue = t - c.since;
  } else if (c.cancelled()) {
    auto grace = grace_of(c);
    auto due = c.has_own_grace() || c.deadline == time_point{}
                 ? (grace >= never ? time_point::max() : c.since + grace)
                 : c.deadline;
    if (due != time_point::max() && due <= t)
      x.overdue = t - due;
  }
  return c.kind->describe(*this, c, x);
}

std::optional<caf::timespan>
scope_impl::busy_for(const caf::actor& actor) const {
  if (runtime_ == nullptr || !actor || !runtime_->watch().any_busy())
    return std::nullopt;
  auto ptr = caf::actor_cast<caf::abstract_actor*>(actor);
  return runtime_->watch().busy_for(dynamic_cast<caf::resumable*>(ptr));
}

void scope_impl::collect_tree(std::function<void(tree_node)> deliver,
                              caf::timespan timeout) {
  auto gather = std::make_shared<tree_gather>(std::move(deliver));
  auto t = now();
  auto& root = gather->root;
  root = tree_self(t);
  // Spawn order; a scope a task opened goes under that task.
  std::vector<std::pair<caf::actor, std::pair<size_t, size_t>>> asks;
  std::unordered_map<caf::actor_id, size_t> index;
  constexpr auto direct = static_cast<size_t>(-1);
  root.children.reserve(children_.size());
  for (auto c = children_.first(); c != nullptr; c = c->next) {
    tree_node node;
    auto ask = tree_child(*c, t, node);
    if (c->owner != 0) {
      if (auto owner = index.find(c->owner); owner != index.end()) {
        auto& under = root.children[owner->second].children;
        under.push_back(std::move(node));
        if (ask)
          asks.push_back({std::move(ask), {owner->second, under.size() - 1}});
        continue;
      }
    }
    index.emplace(c->id, root.children.size());
    root.children.push_back(std::move(node));
    if (ask)
      asks.push_back({std::move(ask), {root.children.size() - 1, direct}});
  }
  if (asks.empty()) {
    gather->finish();
    return;
  }
  // The tree is built: its nodes stay where they are from here on.
  for (auto& [hdl, at] : asks) {
    auto node = &root.children[at.first];
    if (at.second != direct)
      node = &node->children[at.second];
    auto slot = gather->wait_for(node);
    self_->request(hdl, timeout, tree_atom::value)
      .then(
        [gather, node, slot](tree_node& own) {
          // The child's own view, but this scope knows when it forces it.
          auto overdue = node->overdue;
          auto state = node->state;
          auto restarts = node->restarts;
          *node = std::move(own);
          node->restarts = restarts;
          if (!node->overdue)
            node->overdue = overdue;
          if (state == node_state::killing || state == node_state::straggler)
            node->state = state;
          gather->answered(slot);
        },
        [gather, node, slot](caf::error&) {
          node->unanswered = true;
          gather->answered(slot);
        });
  }
}

// -- the roots ----------------------------------------------------------------

namespace {

std::mutex roots_mtx;

struct root {
  caf::actor_addr scope;
  std::string name;
};

std::unordered_map<const caf::actor_system*, std::vector<root>> roots;

} // namespace

void remember_top_level(caf::actor_system& sys, caf::actor_addr scope,
                        std::string name) {
  std::lock_guard<std::mutex> guard{roots_mtx};
  roots[&sys].push_back({std::move(scope), std::move(name)});
}

void forget_top_level(caf::actor_system& sys, const caf::actor_addr& scope) {
  std::lock_guard<std::mutex> guard{roots_mtx};
  auto i = roots.find(&sys);
  if (i == roots.end())
    return;
  std::erase_if(i->second, [&](const root& x) { return x.scope == scope; });
  if (i->second.empty())
    roots.erase(i);
}

std::vector<caf::actor> top_level_scopes(caf::actor_system& sys,
                                         std::string_view name) {
  std::vector<caf::actor> result;
  std::lock_guard<std::mutex> guard{roots_mtx};
  if (auto i = roots.find(&sys); i != roots.end())
    for (auto& x : i->second)
      if (name.empty() || x.name == name)
        if (auto scope = caf::actor_cast<caf::actor>(x.scope))
          result.push_back(std::move(scope));
  return result;
}

} // namespace scaf::detail

namespace scaf {

std::vector<tree_node> top_level_trees(caf::actor_system& sys,
                                       caf::timespan timeout) {
  std::vector<tree_node> result;
  caf::scoped_actor self{sys};
  for (auto& scope : detail::top_level_scopes(sys))
    self->request(scope, timeout, tree_atom::value)
      .receive([&](tree_node& x) { result.push_back(std::move(x)); },
               [](caf::error&) {
                 // Done meanwhile (or too busy): not part of the dump.
               });
  std::sort(
    result.begin(), result.end(),
    [](const tree_node& x, const tree_node& y) { return x.path < y.path; });
  return result;
}

} // namespace scaf
