// The scope's lifecycle at work: the table of states and inputs is
// `scaf::next` (scaf/scope_state.hpp); here each edge it takes is carried
// out, and the scope's progress (main work done, idle) is fed back into it.
#include "scaf/scope_state.hpp"

#include <string>
#include <utility>

#include "scope_impl.hpp"
#include "trace.hpp"

namespace scaf {

const char* to_string(scope_state x) {
  switch (x) {
  case scope_state::open:
    return "open";
  case scope_state::joined:
    return "joined";
  case scope_state::closed:
    return "closed";
  case scope_state::cancelling:
    return "cancelling";
  case scope_state::draining:
    return "draining";
  case scope_state::aborting:
    return "aborting";
  case scope_state::finished:
    return "finished";
  }
  return "<unknown scaf::scope_state>";
}

const char* to_string(scope_input x) {
  switch (x) {
  case scope_input::join:
    return "join";
  case scope_input::close:
    return "close";
  case scope_input::cancel:
    return "cancel";
  case scope_input::abort:
    return "abort";
  case scope_input::main_done:
    return "main_done";
  case scope_input::idle:
    return "idle";
  }
  return "<unknown scaf::scope_input>";
}

} // namespace scaf

namespace scaf::detail {

namespace {

bool closes(scope_state x) noexcept {
  return x == scope_state::closed || x == scope_state::draining;
}

} // namespace

void scope_impl::transition(scope_input input) {
  // Whoever joins, closes or aborts the scope lets its owner's hold go.
  if (input == scope_input::join || input == scope_input::close ||
      input == scope_input::abort)
    holds_ &= static_cast<uint8_t>(~hold_owner);
  auto from = state_;
  auto to = next(from, input);
  if (to == from)
    return;
  state_ = to;
  detail::log().debug("{}: {} -> {} ({})", path_, to_string(from),
                      to_string(to), to_string(input));
  // (A scope's span ends where it finished.)
  if (trace::on() && to != scope_state::finished)
    trace::instant(path_.str(), to_string(to), now(),
                   scaf::is_cancelled(to) ? render(cancel_reason_)
                                          : std::string{},
                   to_string(input));
  if (shared_)
    shared_->set_state(to, cancel_reason_);
  // What the edge means for the children, in this order: told to stop,
  // closed or joined with the scope, forced.
  if (!scaf::is_cancelled(from) && scaf::is_cancelled(to)) {
    detail::log().debug("{}: cancelled ({})", path_, rendered{cancel_reason_});
    drop_queued(cancel_reason_);
    if (job_cancel_)
      job_cancel_->cancel(cancel_reason_);
    auto stopped_by_handler = false;
    if (hooks_ && hooks_->on_cancel) {
      // The scope stops its children itself (a supervisor's ordered
      // shutdown). Whatever it leaves running is forced when the grace
      // period ends; if the handler throws, every child is cancelled at
      // once after all.
      for (auto c = children_.first(); c != nullptr; c = c->next)
        schedule_force(*c);
      arm_sweep();
      auto handler = hooks_->on_cancel;
      guarded([&] {
        handler(cancel_reason_);
        stopped_by_handler = true;
      });
    }
    if (!stopped_by_handler)
      for (auto c = children_.first(); c != nullptr; c = c->next)
        cancel_with_all(*c);
  }
  if (closes(to) && !closes(from))
    for (auto c = children_.first(); c != nullptr; c = c->next)
      c->kind->close(*this, *c);
  if (from == scope_state::open && to == scope_state::joined)
    for (auto c = children_.first(); c != nullptr; c = c->next)
      c->kind->join(*this, *c);
  if (to == scope_state::aborting)
    force_all();
  if (to == scope_state::finished)
    finish();
}

void scope_impl::cancel_scope(caf::error reason, bool external) {
  if (external)
    outcome_.cancelled(reason);
  if (cancelled() || state_ == scope_state::finished)
    return;
  cancel_reason_ = std::move(reason);
  // (A nested scope's cancel is traced by its parent, which sends it.)
  if (top_level_ && trace::on())
    trace::instant(path_.str(), "cancel", now(), render(cancel_reason_), "");
  transition(scope_input::cancel);
  check_progress();
}

void scope_impl::abort_scope() {
  if (state_ == scope_state::aborting || state_ == scope_state::finished)
    return;
  auto reason = make_cancel_error(path_.str(), "aborted");
  outcome_.cancelled(reason);
  if (!cancelled())
    cancel_reason_ = std::move(reason);
  transition(scope_input::abort);
  check_progress();
}

void scope_impl::release_owner() {
  if ((holds_ & hold_owner) == 0)
    return;
  holds_ &= static_cast<uint8_t>(~hold_owner);
  check_progress();
}

bool scope_impl::idle() const noexcept {
  return children_.size() == 0 && limiter_.queued() == 0 && holds_ == 0;
}

void scope_impl::notify_no_tasks() {
  if (!hooks_ || hooks_->no_tasks_waiters.empty() || children_.size() != 0 ||
      limiter_.queued() != 0)
    return;
  auto waiters = std::move(hooks_->no_tasks_waiters);
  hooks_->no_tasks_waiters.clear();
  for (auto& f : waiters)
    guarded(f);
}

void scope_impl::on_idle() {
  // A call through a reference that is on its way comes first: it was made
  // before the scope finished, whatever overtook it.
  if (next(state_, scope_input::idle) == scope_state::finished && shared_ &&
      !shared_->seal())
    return;
  transition(scope_input::idle);
}

void scope_impl::check_progress() {
  if (state_ == scope_state::finished)
    return;
  if (idle()) {
    on_idle();
    return;
  }
  if (finishes_after_main_work(state_) && main_running_ == 0 &&
      (holds_ & hold_body) == 0) {
    // Main work is done: the background children are cancelled.
    cancel_reason_ = make_cancel_error(path_.str(), "main tasks done");
    transition(scope_input::main_done);
    // Dropping queued background tasks may have left nothing.
    if (idle())
      on_idle();
  }
}

void scope_impl::finish() {
  auto report = outcome_.finish();
  auto reason = report.reason();
  // (A nested scope's span is traced by its parent, which sees it done.)
  if (top_level_ && trace::on())
    trace::span(path_.str(), kind_name(), started_at_, now(),
                to_string(report.status),
                reason ? render(reason) : std::string{});
  detail::log().debug("{}: scope done: {} ({})", path_,
                      to_string(report.status), rendered{reason});
  if (shared_)
    shared_->set_report(report);
  if (auto to = caf::actor_cast<caf::actor>(report_to_)) {
    // The subtree's failures, kills and stragglers go up, ahead of the down
    // message (same sender, same receiver: ordered).
    auto up = std::make_shared<nested_report>();
    up->suppressed = std::move(report.suppressed);
    up->killed = std::move(report.killed);
    up->stragglers = std::move(report.stragglers);
    up->children = std::move(report.children);
    up->omitted = report.omitted;
    if (!up->empty())
      self_->send(to, scope_event{report_event{std::move(up)}});
  }
  if (report_)
    *report_ = std::move(report);
  self_->quit(std::move(reason));
}

} // namespace scaf::detail
