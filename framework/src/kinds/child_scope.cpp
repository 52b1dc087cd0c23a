// The child contract for scopes: nested and child scopes this scope spawned
// (`child_scope`), and scopes its tasks opened (`owned_scope`). A scope
// hears a cancel together with the time it will be forced (so that it needs
// no timer of its own if its own grace ends later) and is aborted, never
// killed, when forced: it forces its own children and reports done after
// them, so done signals keep their order.
#include "scaf/atoms.hpp"

#include "../kinds.hpp"
#include "../scope_impl.hpp"
#include "../send.hpp"

namespace scaf::detail {

namespace {

class scope_kind : public child_kind {
public:
  const char* name() const noexcept override {
    return "scope";
  }

  count_slot slot() const noexcept override {
    return count_slot::scopes;
  }

  void cancel(scope_impl& s, child_record& c, const caf::error& reason,
              time_point force_at, bool) const override {
    send_urgent(s.self(), c.handle,
                scope_event{cancel_event{reason, force_at}});
  }

  void force(scope_impl& s, child_record& c) const override {
    send_urgent(s.self(), c.handle, abort_atom::value);
  }

  void abandon(child_record& c, const caf::error&) const override {
    send_urgent(nullptr, c.handle, abort_atom::value);
  }

  caf::actor describe(const scope_impl&, const child_record& c,
                      tree_node&) const override {
    return c.handle;
  }

  const char* why_still_running() const noexcept override {
    return "a scope waiting for its children";
  }

protected:
  ~scope_kind() = default;
};

class child_scope final : public scope_kind {
public:
  void join(scope_impl& s, child_record& c) const override {
    // One that joins itself after its body needs no message.
    if (c.stays_open)
      s.self()->send(c.handle, join_atom::value);
  }

  void close(scope_impl& s, child_record& c) const override {
    s.self()->send(c.handle, close_atom::value);
  }

  bool offers_handle_of() const noexcept override {
    return true;
  }
};

/// A scope that a task of this scope opened belongs to that task: its join
/// and close are the task's business. A behavior task relays cancel and
/// force to it; the scope cancels and forces those of other owners itself.
class owned_scope final : public scope_kind {
public:
  void cancel(scope_impl& s, child_record& c, const caf::error& reason,
              time_point force_at, bool alone) const override {
    if (controlled_by_scope(s, c))
      scope_kind::cancel(s, c, reason, force_at, alone);
  }

  bool controlled_by_scope(const scope_impl& s,
                           const child_record& c) const override {
    auto owner = s.children_.find(c.owner);
    return owner == nullptr || !owner->kind->relays_to_owned();
  }
};

} // namespace

const child_kind& child_scope_kind() noexcept {
  static const child_scope instance;
  return instance;
}

const child_kind& owned_scope_kind() noexcept {
  static const owned_scope instance;
  return instance;
}

} // namespace scaf::detail
