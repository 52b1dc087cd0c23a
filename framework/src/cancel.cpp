// Cancel, grace and force: when each child hears its cancel and when it is
// forced. How it hears and how it is forced is its kind's (src/kinds/).
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

#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>

#include "log.hpp"
#include "scope_impl.hpp"
#include "send.hpp"
#include "trace.hpp"

namespace scaf::detail {

namespace {

/// Orders a heap of grace entries earliest first.
bool later(const scope_impl::grace_entry& x,
           const scope_impl::grace_entry& y) noexcept {
  return x.deadline > y.deadline;
}

} // namespace

caf::error scope_impl::cancel_reason_for(caf::error cause) const {
  if (is(cause, errc::cancelled))
    return cause;
  auto detail = render(cause);
  return make_cancel_error(path_.str(), std::move(detail), std::move(cause));
}

caf::timespan scope_impl::grace_of(const child_record& c) const noexcept {
  return c.has_own_grace() ? c.grace : grace_;
}

void scope_impl::schedule_force(child_record& c) {
  auto deadline = std::max(deadline_after(grace_), last_deadline_);
  last_deadline_ = deadline;
  c.deadline = deadline;
  if (sweep_cursor_ == nullptr)
    sweep_cursor_ = &c;
}

void scope_impl::cancel_with_all(child_record& c) {
  schedule_force(c);
  if (!c.cancelled()) {
    if (c.has_own_grace()) {
      cancel_one(c, cancel_reason_, false);
    } else {
      c.phase = child_phase::cancelled;
      deliver_cancel(c, cancel_reason_, c.deadline, false);
    }
  }
  arm_sweep();
}

void scope_impl::cancel_one(child_record& c, const caf::error& reason,
                            bool alone) {
  if (c.cancelled())
    return;
  c.phase = child_phase::cancelled;
  c.since = now();
  auto grace = grace_of(c);
  if (grace.count() == 0) {
    // OTP's brutal kill: no cancel handler runs.
    force(c, force_cause::no_grace);
    return;
  }
  auto deadline = deadline_after(grace);
  deliver_cancel(c, reason, deadline, alone);
  if (deadline == time_point::max())
    return; // never forced
  grace_heap_.push_back({deadline, c.id});
  std::push_heap(grace_heap_.begin(), grace_heap_.end(), later);
  arm_grace();
}

void scope_impl::arm_grace() {
  if (grace_heap_.empty())
    return;
  auto at = grace_heap_.front().deadline;
  if (at >= grace_armed_at_)
    return; // a timer fires by then
  grace_armed_at_ = at;
  auto delay = std::max(at - now(), caf::actor_clock::duration_type{0});
  self_->delayed_send(self_, delay, scope_event{child_grace_event{at}});
}

void scope_impl::control_child(child_record& c, const cancel_request& x) {
  if (!c.kind->controlled_by_scope(*this, c))
    return; // its owner task decides
  if (x.abort) {
    c.aborted = true;
    force(c, force_cause::abort_one);
    return;
  }
  cancel_one(c, handle_cancel_reason(child_path(c).str(), x), true);
}

caf::error scope_impl::handle_cancel_reason(std::string path,
                                            const cancel_request& x) const {
  // Aborted before it ran (a queued task): forced, so killed.
  if (x.abort)
    return make_error(errc::killed, std::move(path),
                      "aborted through its handle");
  if (x.reason)
    return cancel_reason_for(x.reason);
  return make_cancel_error(std::move(path), "cancelled through its handle");
}

void scope_impl::on_event(child_control_event& x) {
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

path_answer::path_answer(std::string path, std::function<void(caf::error)> f)
  : path_(std::move(path)), answer_(std::move(f)) {
  // nop
}

path_answer::~path_answer() {
  if (answer_)
    answer_(make_error(errc::no_such_child, path_,
                       "it ended before the cancel reached it"));
}

void path_answer::operator()(caf::error result) {
  if (auto f = std::exchange(answer_, nullptr))
    f(std::move(result));
}

void scope_impl::on_event(cancel_path_event& x) {
  auto& target = x.answer->path();
  if (target == path_.str()) {
    cancel_scope(make_cancel_error(target, std::move(x.why)), true);
    (*x.answer)({});
    return;
  }
  // Its own child, or a child scope on the way to it; a task's scopes
  // are this scope's children, named under that task.
  child_record* on_the_way = nullptr;
  for (auto c = children_.first(); c != nullptr; c = c->next) {
    auto path = child_path(*c).str();
    if (path == target) {
      control_child(*c, {make_cancel_error(target, std::move(x.why)), false});
      (*x.answer)({});
      return;
    }
    if (target.size() > path.size() && target[path.size()] == '/' &&
        target.starts_with(path) &&
        (on_the_way == nullptr || c->kind->slot() == count_slot::scopes))
      on_the_way = c;
  }
  if (on_the_way == nullptr) {
    (*x.answer)(make_error(errc::no_such_child, target,
                           "no such node under " + path_.str()));
    return;
  }
  if (on_the_way->kind->slot() != count_slot::scopes || !on_the_way->handle) {
    auto what = on_the_way->stand_in
                  ? "it runs on another node: cancel " +
                      child_path(*on_the_way).str() + ", which stands in for it"
                  : "no such node under " + path_.str();
    (*x.answer)(make_error(errc::no_such_child, target, std::move(what)));
    return;
  }
  self_->send(on_the_way->handle, scope_event{std::move(x)});
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

void scope_impl::deliver_cancel(child_record& c, const caf::error& reason,
                                time_point force_at, bool alone) {
  if (trace::on())
    trace::instant(child_path(c).str(), "cancel", now(), render(reason),
                   path_.str());
  yield_fallback(c);
  c.kind->cancel(*this, c, reason, force_at, alone);
}

void scope_impl::force(child_record& c, force_cause cause) {
  if (c.forced())
    return;
  c.phase = child_phase::forced;
  c.since = now();
  c.forced_by = cause;
  arm_watchdog();
  yield_fallback(c);
  c.kind->force(*this, c);
}

caf::error scope_impl::forced_reason(force_cause cause) const {
  return cancel_reason_ ? cancel_reason_
                        : make_cancel_error(path_.str(), to_text(cause));
}

void scope_impl::kill(child_record& c) {
  c.kill_pending = false;
  if (trace::on())
    trace::instant(child_path(c).str(), "kill", now(), to_text(c.forced_by),
                   path_.str());
  // The report names it once its down says that the kill took effect: a
  // task busy in a call may end on its own first.
  detail::log().warn("{}: killing it ({})", log_path(c), to_text(c.forced_by));
  send_urgent(self_, c.handle,
              caf::exit_msg{self_->address(), caf::exit_reason::kill});
}

void scope_impl::mark_straggler(child_record& c) {
  c.phase = child_phase::straggler;
  if (trace::on())
    trace::instant(child_path(c).str(), "straggler", now(),
                   to_text(c.forced_by), path_.str());
  auto path = child_path(c).str();
  detail::log().warn("{}: straggler: it {} but cannot be stopped while it "
                     "runs; waiting for it",
                     path, to_text(c.forced_by));
  outcome_.straggler(std::move(path));
}

void scope_impl::arm_sweep() {
  if (sweep_armed_ || sweep_cursor_ == nullptr)
    return;
  auto at = sweep_cursor_->deadline;
  if (at == time_point::max())
    return; // never forced
  // Each timer is a round trip through CAF's clock thread. When the parent
  // forces this scope (and so every child) no later than that, none is
  // needed.
  if (covered_until_ <= at)
    return;
  sweep_armed_ = true;
  auto delay = std::max(at - now(), caf::actor_clock::duration_type{0});
  self_->delayed_send(self_, delay, scope_event{sweep_event{}});
}

void scope_impl::on_event(sweep_event&) {
  sweep_armed_ = false;
  auto t = now();
  while (sweep_cursor_ != nullptr && sweep_cursor_->deadline <= t) {
    auto& c = *sweep_cursor_;
    sweep_cursor_ = c.next;
    // Scopes a behavior task opened are forced through it; children
    // cancelled with a grace period of their own by their own timer.
    if (c.kind->controlled_by_scope(*this, c) &&
        !(c.cancelled() && c.has_own_grace()))
      force(c, force_cause::grace);
  }
  arm_sweep();
}

void scope_impl::arm_watchdog() {
  if (watchdog_armed_)
    return;
  auto interval = caf::get_or(self_->system().config(),
                              "scaf.watchdog-interval", default_watchdog);
  if (interval <= caf::timespan{0})
    return;
  watchdog_armed_ = true;
  send_after(interval, scope_event{watchdog_event{}});
}

void scope_impl::on_event(watchdog_event&) {
  watchdog_armed_ = false;
  auto t = now();
  auto stuck = false;
  for (auto c = children_.first(); c != nullptr; c = c->next) {
    if (!c->forced())
      continue;
    stuck = true;
    detail::log().warn("{}: still running {} ms after it {} ({}{})",
                       log_path(*c), to_ms(t - c->since), to_text(c->forced_by),
                       c->straggler() ? "a straggler: " : "being stopped: ",
                       c->kind->why_still_running());
  }
  if (stuck)
    arm_watchdog();
}

void scope_impl::on_event(child_grace_event& x) {
  auto t = now();
  while (!grace_heap_.empty() && grace_heap_.front().deadline <= t) {
    auto id = grace_heap_.front().id;
    std::pop_heap(grace_heap_.begin(), grace_heap_.end(), later);
    grace_heap_.pop_back();
    if (auto c = children_.find(id))
      force(*c, force_cause::own_grace);
  }
  // A timer that an earlier deadline overtook dies here; the armed one arms
  // the next.
  if (x.at != grace_armed_at_)
    return;
  grace_armed_at_ = time_point::max();
  arm_grace();
}

void scope_impl::force_all() {
  for (auto c = children_.first(); c != nullptr; c = c->next)
    if (c->kind->controlled_by_scope(*this, *c)) {
      c->aborted = true;
      force(*c, force_cause::abort);
    }
}

} // namespace scaf::detail
