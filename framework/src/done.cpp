// The one done path of a scope: down messages of actor children and the
// done messages of jobs both end in `scope_state::child_done`.
#include <chrono>
#include <string>
#include <utility>

#include <caf/exit_reason.hpp>

#include "log.hpp"
#include "scope_state.hpp"
#include "trace.hpp"

namespace scaf::detail {

namespace {

bool is_kill(const caf::error& reason) {
  return reason == caf::make_error(caf::exit_reason::kill);
}

} // namespace

void scope_state::on_down(caf::down_msg& msg) {
  if (auto c = children_.find(msg.source.id()))
    child_done(*c, std::move(msg.reason));
}

node_status scope_state::classify(const child_record& c,
                                  caf::error& reason) const {
  if (!reason)
    return c.straggler ? node_status::straggler : node_status::done;
  if (is_kill(reason)) {
    if (c.forced) {
      reason = make_error(errc::killed, child_path(c).str(), c.forced_why);
      return node_status::killed;
    }
    reason = make_error(errc::killed, child_path(c).str(),
                        "killed by another actor (caf::exit_reason::kill)");
    return node_status::failed;
  }
  if (is(reason, errc::cancelled))
    return c.straggler ? node_status::straggler : node_status::cancelled;
  if (is(reason, errc::timeout))
    return node_status::timed_out;
  return node_status::failed;
}

void scope_state::child_done(child_record& rec, caf::error reason) {
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
    names_.erase(c.name);
  // Forced, yet it ended on its own: it overstayed its grace period all the
  // same, busy in a call that the kill waited for (a task), or started only
  // after it was forced (a job).
  // (Aborted, a task that ended on its cancel, sent with the kill, quit
  // before the kill took effect: it overstayed nothing.)
  auto ended_on_cancel = c.aborted && is(reason, errc::cancelled);
  if (c.forced && !c.straggler &&
      ((c.kind == child_kind::task && !is_kill(reason) && !ended_on_cancel) ||
       (c.kind == child_kind::job && c.job->started())))
    mark_straggler(c);
  if (c.straggler && (!reason || is(reason, errc::cancelled)))
    detail::log().warn("{}: straggler finished {} ms after its grace period",
                       log_path(c), to_ms(now() - c.forced_at));
  auto status = classify(c, reason);
  if (trace::on())
    trace::span(child_path(c).str(), kind_name(c), c.spawned_at, now(),
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
  if (c.kind == child_kind::adopted) {
    // A scope opened by a child task: its result belongs to that task. A
    // forced owner is killed once its last nested scope is done, so that the
    // owner's done still follows theirs.
    detail::log().debug("{}: done ({})", log_path(c), rendered{reason});
    auto failed =
      status == node_status::failed || status == node_status::timed_out;
    if (auto owner = children_.find(c.owner)) {
      auto& ext = owner->ext();
      std::erase(ext.owned, c.id);
      if (options_.record_outcomes) {
        if (!ext.report)
          ext.report = std::make_shared<nested_report>();
        auto x = outcome();
        x.name = c.name.substr(owner->name.size() + 1);
        ext.report->children.push_back(std::move(x));
      }
      // The owner handles it, unless it dies first (task_died_event).
      if (failed && !c.orphaned)
        ext.unhandled.push_back({c.id, child_path(c).str(), reason});
      if (--owner->nested == 0 && owner->kill_pending)
        kill(*owner);
    } else if (options_.record_outcomes) {
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
    if (options_.record_outcomes) {
      auto x = outcome();
      x.name = c.name;
      outcome_.add(std::move(x));
    }
    settle(c, status, reason);
  }
  if (c.extra && c.extra->on_end)
    guarded([&] { c.extra->on_end(reason, child_path(c), self_->address()); });
  if (c.result) {
    // Killed by this scope is cancelled, as far as its handle is concerned.
    auto ended = status == node_status::killed
                   ? make_cancel_error(child_path(c).str(), render(reason))
                   : reason;
    guarded([&] { c.result->publish(ended, self_->address()); });
  }
  start_queued();
  notify_no_tasks();
  check_progress();
}

void scope_state::settle(const child_record& c, node_status status,
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
    // Cancellation is not failure; a kill by this scope is in the report.
    detail::log().debug("{}: {}", log_path(c), to_string(status));
    return;
  }
}

void scope_state::take_failure(const std::string& origin,
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

void scope_state::on_event(task_died_event& x) {
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

void scope_state::on_event(report_event& x) {
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
