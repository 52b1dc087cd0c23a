// The scopes a scope's tasks open: added as children owned by their task
// (`add_owned`), opened for a function task through its `task_context`
// (`open_owned`), adopted from a behavior task (`adopt`), and handed over to
// the scope itself when their task detaches them (`detach`).
#include <string>
#include <utility>

#include <caf/actor_cast.hpp>

#include "scaf/names.hpp"

#include "kinds.hpp"
#include "scope_impl.hpp"

namespace scaf::detail {

child_record& scope_impl::add_owned(child_record& owner, caf::actor nested,
                                    const std::string& name) {
  ++owner.nested;
  owner.ext().owned.push_back(nested.id());
  auto& c = children_.add(nested.id(), owned_scope_kind());
  c.handle = std::move(nested);
  // Its path is the owner's path and its own name.
  c.name = owner.name + "/" + name;
  c.owner = owner.id;
  c.background = owner.background;
  c.spawned_at = now();
  if (!c.background)
    ++main_running_;
  count(c, true);
  if (hooks_) {
    auto& early = hooks_->early_reports;
    if (auto i = early.find(c.id); i != early.end()) {
      c.ext().report = std::move(i->second);
      early.erase(i);
    }
  }
  if (cancelled())
    cancel_with_all(c);
  // Opened by a task that is being forced: forced with it.
  if (owner.forced())
    force(c, owner.forced_by);
  return c;
}

void scope_impl::adopt(caf::actor nested, std::string name) {
  auto owner = children_.find(self_->current_sender()->id());
  if (owner == nullptr || !owner->handle || !nested)
    return;
  self_->monitor(nested);
  add_owned(*owner, std::move(nested), name);
}

void scope_impl::open_owned(caf::actor_id key, scope_config cfg) {
  auto& shared = cfg.shared;
  auto owner = children_.find(key);
  if (owner == nullptr || (owner->extra && owner->extra->pending_end)) {
    shared->fail_to_start(make_error(errc::scope_closed, path_.str(),
                                     "the task that opens it has ended"));
    return;
  }
  auto& opts = cfg.options;
  auto name = opts.name.empty() ? std::to_string(next_seq_++) : opts.name;
  auto refuse = [&]() -> caf::error {
    spawn_options as_child;
    as_child.grace = opts.grace;
    if (auto err = check_spawn(as_child, name))
      return err;
    if (opts.name.empty())
      return {};
    if (auto err = check_name(opts.name, child_path(*owner).str()))
      return err;
    auto full = owner->name + "/" + name;
    for (auto id : owner->ext().owned)
      if (auto x = children_.find(id); x != nullptr && x->name == full)
        return make_error(errc::invalid_argument, child_path(*owner).str(),
                          "a live scope of this task is already named '" +
                            name + "'");
    return {};
  }();
  if (refuse) {
    // A task told to stop hears why, not that its scope is going: what it
    // returns then is a stop, not a failure.
    if (is(refuse, errc::scope_closed) && owner->stop &&
        owner->stop->source.stop_requested())
      refuse = owner->stop->reason;
    shared->fail_to_start(refuse);
    return;
  }
  node_context ctx;
  ctx.parent = self_->address();
  ctx.path = node_path{child_path(*owner).as_prefix(), name};
  ctx.grace = owner->has_own_grace() ? owner->grace : grace_;
  ctx.record_outcomes = record_outcomes_;
  ctx.runtime_known = true;
  ctx.sys_runtime = runtime_;
  if (cancelled())
    ctx.cancelled = cancel_reason_;
  else if (owner->stop && owner->stop->source.stop_requested())
    ctx.cancelled = owner->stop->reason;
  cfg.owned = true;
  auto hdl = spawn_nested_scope(self_, std::move(ctx), std::move(cfg));
  add_owned(*owner, std::move(hdl), name);
}

void scope_impl::detach(const caf::actor& nested) {
  auto c = children_.find(nested.id());
  if (c == nullptr || c->owner == 0 ||
      c->owner != self_->current_sender()->id())
    return;
  auto owner_id = std::exchange(c->owner, 0);
  c->kind = &child_scope_kind();
  if (cancelled() && !c->forced()) {
    // It now hears the cancel from this scope, as the newest child.
    if (sweep_cursor_ == c)
      sweep_cursor_ = c->next;
    children_.move_to_back(*c);
    c->phase = child_phase::running;
    cancel_with_all(*c);
  }
  if (auto owner = children_.find(owner_id))
    owned_scope_done(*owner, c->id);
}

} // namespace scaf::detail
