// The one done path of a scope: down messages of actor children and the
// done messages of jobs both end in `scope_impl::child_done`.
#include <chrono>
#include <string>
#include <utility>

#include "log.hpp"
#include "scope_impl.hpp"
#include "trace.hpp"

namespace scaf::detail {

void scope_impl::on_down(caf::down_msg& msg) {
  if (auto c = children_.find(msg.source.id()))
    child_ended(*c, std::move(msg.reason));
}

void scope_impl::child_ended(child_record& c, caf::error reason) {
  // An owner that does not relay (a function or blocking task) is done only
  // after the scopes it opened: they are cancelled now, and it ends with
  // the last of them.
  if (c.nested > 0 && !c.kind->relays_to_owned()) {
    c.ext().pending_end = std::move(reason);
    auto why = make_cancel_error(child_path(c).str(), "its task returned");
    for (auto id : c.ext().owned)
      if (auto x = children_.find(id))
        cancel_one(*x, why, true);
    return;
  }
  child_done(c, std::move(reason));
}

void scope_impl::owned_scope_done(child_record& owner, caf::actor_id id) {
  std::erase(owner.ext().owned, id);
  if (--owner.nested > 0)
    return;
  if (owner.kill_pending) {
    kill(owner);
    return;
  }
  if (owner.extra && owner.extra->pending_end) {
    auto reason = std::move(*owner.extra->pending_end);
    owner.extra->pending_end.reset();
    child_done(owner, std::move(reason));
  }
}

void scope_impl::child_done(child_record& rec, caf::error reason) {
  if (sweep_cursor_ == &rec)
    sweep_cursor_ = rec.next;
  auto node = children_.take(rec);
  auto& c = node.mapped();
  if (!c.background)
    --main_running_;
  if (c.limited)
    limiter_.release();
  // No longer counted before its handle can resolve.
  count(c, false);
  if (c.named)
    hooks().names.erase(c.name);
  if (c.straggler() && (!reason || is(reason, errc::cancelled)))
    detail::log().warn("{}: straggler finished {} ms after its grace period",
                       log_path(c), to_ms(now() - c.since));
  auto status = c.kind->ended(*this, c, reason);
  if (trace::on())
    trace::span(child_path(c).str(), c.kind_name(), c.spawned_at, now(),
                to_string(status), reason ? render(reason) : std::string{});
  if (status == node_status::killed)
    outcome_.killed(child_path(c).str());
  // What the child's subtree reported goes up with this scope's own.
  auto sub = c.extra ? std::move(c.extra->report) : nullptr;
  if (sub)
    outcome_.merge(*sub);
  auto outcome = [&] {
    node_outcome x;
    x.status = status;
    x.reason = reason;
    if (sub)
      x.children = std::move(sub->children);
    return x;
  };
  if (c.owner != 0) {
    // A scope opened by a child task: its result belongs to that task. An
    // owner that waits for it (forced, or ended) ends once its last scope
    // is done, so that the owner's done still follows theirs.
    detail::log().debug("{}: done ({})", log_path(c), rendered{reason});
    auto failed =
      status == node_status::failed || status == node_status::timed_out;
    if (auto owner = children_.find(c.owner)) {
      auto& ext = owner->ext();
      if (record_outcomes_) {
        if (!ext.report)
          ext.report = std::make_shared<nested_report>();
        auto x = outcome();
        x.name = c.name.substr(owner->name.size() + 1);
        ext.report->children.push_back(std::move(x));
      }
      // A behavior task handles it, unless it dies first (task_died_event).
      if (failed && !c.orphaned && owner->kind->relays_to_owned())
        ext.unhandled.push_back({c.id, child_path(c).str(), reason});
      owned_scope_done(*owner, c.id);
    } else if (record_outcomes_) {
      // Its owner is done already: the outcome stands at this scope's level,
      // named by its path below this scope ("owner/scope").
      auto x = outcome();
      x.name = c.name;
      outcome_.add(std::move(x));
    }
    // An owner that died abnormally never handles it; one whose down came
    // first handled it before it ended.
    if (failed && c.orphaned)
      take_failure(child_path(c).str(), reason);
  } else {
    if (record_outcomes_) {
      auto x = outcome();
      x.name = c.name;
      outcome_.add(std::move(x));
    }
    settle(c, status, reason);
  }
  if (c.extra && c.extra->on_end)
    guarded([&] { c.extra->on_end(reason, child_path(c), self_->address()); });
  if (c.result)
    guarded([&] { c.result->publish(reason, self_->address()); });
  start_queued();
  notify_no_tasks();
  check_progress();
}

void scope_impl::settle(const child_record& c, node_status status,
                        const caf::error& reason) {
  if (hooks_ && hooks_->on_child_done) {
    guarded([&] {
      hooks_->on_child_done(child_exit{c.id, c.name, status, reason});
    });
    return;
  }
  switch (status) {
  case node_status::done:
  case node_status::straggler:
    detail::log().debug("{}: done", log_path(c));
    if (!reason && outcome_.succeeded() == policy_action::cancel_siblings)
      cancel_scope(
        make_cancel_error(path_.str(), child_path(c).str() + " won the race"),
        false);
    return;
  case node_status::failed:
  case node_status::timed_out:
    take_failure(child_path(c).str(), reason);
    return;
  case node_status::cancelled:
  case node_status::killed:
    // Stopping is not failing; a kill by this scope is in the report.
    detail::log().debug("{}: {}", log_path(c), to_string(status));
    return;
  }
}

void scope_impl::take_failure(const std::string& origin,
                              const caf::error& reason) {
  auto taken = outcome_.failed(reason);
  switch (taken.fate) {
  case failure_fate::first:
    detail::log().debug("{}: first failure, from {}: {}", path_, origin,
                        rendered{reason});
    break;
  case failure_fate::outranking:
    detail::log().warn("{}: the exception from {} outranks the earlier "
                       "failure, which is now suppressed: {}",
                       path_, origin, rendered{outcome_.displaced()});
    break;
  case failure_fate::suppressed:
    detail::log().warn("{}: suppressed error from {}: {}", path_, origin,
                       rendered{reason});
    break;
  }
  if (taken.action == policy_action::cancel_siblings)
    cancel_scope(make_cancel_error(
                   path_.str(), origin + " failed: " + render(reason), reason),
                 false);
}

// -- what done signals bring up -----------------------------------------------

void scope_impl::on_event(task_died_event& x) {
  auto owner = children_.find(x.owner);
  if (owner != nullptr)
    for (auto& failure : x.held)
      take_failure(child_path(*owner).str(), failure);
  for (auto id : x.scopes) {
    if (auto c = children_.find(id)) {
      c->orphaned = true;
      continue;
    }
    // Already done: its failure waited for the owner, which never came.
    if (owner == nullptr || !owner->extra)
      continue;
    auto& unhandled = owner->extra->unhandled;
    for (auto i = unhandled.begin(); i != unhandled.end();) {
      if (i->scope != id) {
        ++i;
        continue;
      }
      take_failure(i->origin, i->failure);
      i = unhandled.erase(i);
    }
  }
}

void scope_impl::on_event(report_event& x) {
  auto id = self_->current_sender()->id();
  auto c = children_.find(id);
  // An adopted scope whose adopt_event is still on its way reports early.
  auto& slot = c != nullptr ? c->ext().report : hooks().early_reports[id];
  if (!slot) {
    slot = std::move(x.report);
    return;
  }
  // A task may report suppressed errors besides its scopes' outcomes.
  auto& from = *x.report;
  append_moved(slot->suppressed, from.suppressed);
  append_moved(slot->killed, from.killed);
  append_moved(slot->stragglers, from.stragglers);
  append_moved(slot->children, from.children);
}

} // namespace scaf::detail
