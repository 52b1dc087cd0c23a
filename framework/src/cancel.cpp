// Cancel, grace and force: how a cancel reaches each kind of child, and how
// a child that overstays its grace period is forced.
//
// All children cancelled together share a deadline, and deadlines grow in
// spawn order (children spawned into a cancelled scope are cancelled as they
// come), so one timer and a cursor walking the children in spawn order force
// them all, each once, however many arrive during the shutdown. A child with
// a grace period of its own (`spawn_options::grace`), or cancelled on its
// own (`scope::cancel_child`), has a timer of its own.
#include <algorithm>
#include <chrono>
#include <utility>

#include <caf/exit_reason.hpp>

#include "scaf/atoms.hpp"

#include "log.hpp"
#include "scope_state.hpp"
#include "send.hpp"
#include "trace.hpp"

namespace scaf::detail {

caf::error scope_state::cancel_reason_for(caf::error cause) const {
  if (is(cause, errc::cancelled))
    return cause;
  auto detail = render(cause);
  return make_cancel_error(path_.str(), std::move(detail), std::move(cause));
}

void scope_state::cancel_scope(caf::error reason, bool external) {
  if (external)
    outcome_.cancelled(reason);
  if (cancelled_)
    return;
  cancelled_ = true;
  cancel_reason_ = std::move(reason);
  if (shared_)
    shared_->set_cancelled(cancel_reason_);
  // (A nested scope's cancel is traced by its parent, which sends it.)
  if (top_level_ && trace::on())
    trace::instant(path_.str(), "cancel", now(), render(cancel_reason_), "");
  detail::log().debug("{}: cancelled ({})", path_, rendered{cancel_reason_});
  drop_queued(cancel_reason_);
  if (job_cancel_)
    job_cancel_->cancel(cancel_reason_);
  if (hooks_ && hooks_->on_cancel) {
    // The scope stops its children itself (a supervisor's ordered shutdown).
    // Whatever it leaves running is forced when the grace period ends; if
    // the handler throws, every child is cancelled at once after all.
    for (auto c = children_.first(); c != nullptr; c = c->next)
      schedule_force(*c);
    arm_sweep();
    auto handler = hooks_->on_cancel;
    auto threw = false;
    guarded([&] {
      threw = true;
      handler(cancel_reason_);
      threw = false;
    });
    if (!threw) {
      check_progress();
      return;
    }
  }
  for (auto c = children_.first(); c != nullptr; c = c->next)
    cancel_with_all(*c);
  check_progress();
}

caf::timespan scope_state::grace_of(const child_record& c) const noexcept {
  return c.has_own_grace() ? c.grace : *options_.grace;
}

void scope_state::schedule_force(child_record& c) {
  auto deadline = std::max(deadline_after(*options_.grace), last_deadline_);
  last_deadline_ = deadline;
  c.deadline = deadline;
  if (sweep_cursor_ == nullptr)
    sweep_cursor_ = &c;
}

void scope_state::cancel_with_all(child_record& c) {
  schedule_force(c);
  auto deadline = c.deadline;
  if (!c.cancelled) {
    if (c.has_own_grace())
      cancel_one(c, cancel_reason_);
    else {
      c.cancelled = true;
      deliver_cancel(c, cancel_reason_, deadline);
    }
  }
  arm_sweep();
}

void scope_state::cancel_one(child_record& c, const caf::error& reason) {
  if (c.cancelled || c.forced)
    return;
  c.cancelled = true;
  c.cancelled_at = now();
  auto grace = grace_of(c);
  if (grace.count() == 0) {
    // OTP's brutal kill: no cancel handler runs.
    force(c, "cancelled without a grace period");
    return;
  }
  deliver_cancel(c, reason, deadline_after(grace));
  send_after(grace, scope_event{child_grace_event{c.id}});
}

void scope_state::control_child(child_record& c, const cancel_request& x) {
  if (c.kind == child_kind::adopted)
    return; // its owner task decides
  if (x.abort) {
    c.aborted = true;
    force(c, "aborted through its handle");
    return;
  }
  auto reason = handle_cancel_reason(child_path(c).str(), x);
  // A job hears it before it starts (the scope's own cancel reaches jobs
  // through the scope's cancel state).
  if (c.kind == child_kind::job && !c.cancelled)
    c.job->cancel(reason);
  cancel_one(c, reason);
}

caf::error scope_state::handle_cancel_reason(std::string path,
                                             const cancel_request& x) const {
  if (x.reason)
    return cancel_reason_for(x.reason);
  return make_cancel_error(std::move(path), x.abort
                                              ? "aborted through its handle"
                                              : "cancelled through its handle");
}

void scope_state::on_event(child_control_event& x) {
  if (auto c = children_.find(x.key)) {
    control_child(*c, x.request);
    return;
  }
  // Still waiting for a slot: it never runs.
  if (auto q = limiter_.take(x.key)) {
    if (!q->background)
      --main_running_;
    share_counts(); // before its handle resolves
    q->drop(handle_cancel_reason(path_.str(), x.request));
    check_progress();
  }
}

namespace {

/// A cancellable task's handle resolves with its fallback now.
void yield_fallback(child_record& c) {
  if (c.extra && c.extra->on_cancelled) {
    auto f = std::move(c.extra->on_cancelled);
    c.extra->on_cancelled = nullptr;
    f();
  }
}

} // namespace

void scope_state::deliver_cancel(child_record& c, const caf::error& reason,
                                 time_point force_at) {
  if (trace::on())
    trace::instant(child_path(c).str(), "cancel", now(), render(reason),
                   path_.str());
  yield_fallback(c);
  switch (c.kind) {
  case child_kind::task:
    // An abort kills tasks at once (OTP's brutal kill): no cancel handler
    // runs. A task that opened scopes still hears it, so that it does not
    // take their ending for a failure to react to; it is killed once they
    // are done.
    // `f(task_base*)` is busy in its function: it notices the stop signal
    // (`is_cancelled`); messages reach it once the function returned.
    if (c.stop)
      c.stop->request(reason);
    if (aborting_ && c.nested == 0)
      return;
    send_urgent(self_, c.handle, caf::exit_msg{self_->address(), reason});
    return;
  case child_kind::blocking:
    // Busy in its function: its stop token is all it can notice.
    c.stop->request(reason);
    return;
  case child_kind::job:
    // It sees the scope's cancel before it starts; once running it cannot
    // be stopped.
    return;
  case child_kind::scope:
    // It also learns when this scope forces it, so that it needs no timer
    // of its own if its own grace ends later.
    send_urgent(self_, c.handle, scope_event{cancel_event{reason, force_at}});
    return;
  case child_kind::adopted:
    // Its owner task relays the cancel: one message per tree edge.
    return;
  }
}

void scope_state::force(child_record& c, const char* why) {
  if (c.forced)
    return;
  c.forced = true;
  c.forced_at = now();
  c.forced_why = why;
  arm_watchdog();
  yield_fallback(c);
  switch (c.kind) {
  case child_kind::task:
    if (c.stop)
      c.stop->request(forced_reason(why));
    if (c.nested == 0) {
      kill(c);
      return;
    }
    // Force bottom-up: abort the scopes the task opened, kill the task
    // once they are done, so that its done still follows theirs.
    c.kill_pending = true;
    for (auto id : c.ext().owned)
      if (auto nested = children_.find(id))
        force(*nested, why);
    return;
  case child_kind::blocking:
    // It cannot be killed mid-call (CAF delivers the kill when its function
    // returns): keep waiting for it.
    c.stop->request(forced_reason(why));
    mark_straggler(c);
    return;
  case child_kind::job:
    // A job that has not started yet sees the cancel and never runs.
    if (!c.cancelled)
      c.job->cancel(forced_reason(why));
    if (c.job->started())
      mark_straggler(c);
    return;
  case child_kind::scope:
  case child_kind::adopted:
    // A scope is never killed: it forces its own children and then reports
    // done, so the order of done signals holds.
    send_urgent(self_, c.handle, abort_atom::value);
    return;
  }
}

caf::error scope_state::forced_reason(const char* why) const {
  return cancel_reason_ ? cancel_reason_ : make_cancel_error(path_.str(), why);
}

void scope_state::kill(child_record& c) {
  c.kill_pending = false;
  if (trace::on())
    trace::instant(child_path(c).str(), "kill", now(), c.forced_why,
                   path_.str());
  // The report names it once its down says that the kill took effect: a
  // task busy in a call may end on its own first.
  detail::log().warn("{}: killing it ({})", log_path(c), c.forced_why);
  send_urgent(self_, c.handle,
              caf::exit_msg{self_->address(), caf::exit_reason::kill});
}

void scope_state::mark_straggler(child_record& c) {
  c.straggler = true;
  if (trace::on())
    trace::instant(child_path(c).str(), "straggler", now(), c.forced_why,
                   path_.str());
  auto path = child_path(c).str();
  detail::log().warn("{}: straggler: it {} but cannot be stopped while it "
                     "runs; waiting for it",
                     path, c.forced_why);
  outcome_.straggler(std::move(path));
}

void scope_state::arm_sweep() {
  if (sweep_armed_ || sweep_cursor_ == nullptr)
    return;
  auto at = sweep_cursor_->deadline;
  if (at == time_point::max())
    return; // never forced
  // Each timer is a round trip through CAF's clock thread. When the parent
  // forces this scope (and so every child) no later than that, none is
  // needed.
  if (covered_until_ && *covered_until_ <= at)
    return;
  sweep_armed_ = true;
  auto delay = std::max(at - now(), caf::actor_clock::duration_type{0});
  self_->delayed_send(self_, delay, scope_event{sweep_event{}});
}

void scope_state::on_event(sweep_event&) {
  sweep_armed_ = false;
  auto t = now();
  while (sweep_cursor_ != nullptr && sweep_cursor_->deadline <= t) {
    auto& c = *sweep_cursor_;
    sweep_cursor_ = c.next;
    // Adopted scopes are forced through their owner; children cancelled
    // with a grace period of their own by their own timer.
    if (c.kind != child_kind::adopted && !(c.cancelled && c.has_own_grace()))
      force(c, "overstayed the grace period");
  }
  arm_sweep();
}

void scope_state::arm_watchdog() {
  if (watchdog_armed_)
    return;
  auto interval = caf::get_or(self_->system().config(),
                              "scaf.watchdog-interval", default_watchdog);
  if (interval <= caf::timespan{0})
    return;
  watchdog_armed_ = true;
  send_after(interval, scope_event{watchdog_event{}});
}

void scope_state::on_event(watchdog_event&) {
  watchdog_armed_ = false;
  auto t = now();
  auto stuck = false;
  for (auto c = children_.first(); c != nullptr; c = c->next) {
    if (!c->forced)
      continue;
    stuck = true;
    detail::log().warn("{}: still running {} ms after it {} ({}{})",
                       log_path(*c), to_ms(t - c->forced_at), c->forced_why,
                       c->straggler ? "a straggler: " : "being stopped: ",
                       c->kind == child_kind::scope ||
                           c->kind == child_kind::adopted
                         ? "a scope waiting for its children"
                         : "it cannot be stopped while it runs");
  }
  if (stuck)
    arm_watchdog();
}

void scope_state::on_event(child_grace_event& x) {
  if (auto c = children_.find(x.id))
    force(*c, "overstayed its grace period");
}

void scope_state::abort_all() {
  closed_ = true;
  if (shared_)
    shared_->set_closed();
  aborting_ = true;
  cancel_scope(make_cancel_error(path_.str(), "aborted"), true);
  for (auto c = children_.first(); c != nullptr; c = c->next)
    if (c->kind != child_kind::adopted) {
      c->aborted = true;
      force(*c, "aborted");
    }
  check_progress();
}

} // namespace scaf::detail
