// The public calls of scaf::scope that are not spawns: cancel, abort,
// close, join, fail, deadlines, limits, supervising children one by one,
// readiness and properties. Each forwards to the scope's state.
#include "scaf/scope.hpp"

#include <string>
#include <utility>

#include <caf/scheduled_actor.hpp>

#include "scaf/atoms.hpp"
#include "scaf/detail/continuation.hpp"
#include "scaf/scope_owner.hpp"
#include "scaf/scope_ref.hpp"

#include "scope_impl.hpp"

namespace scaf {

using detail::state_of;

namespace {

/// The record of `child` if it is a live child that the scope supervises
/// itself (not a scope that one of its behavior tasks opened), else null.
detail::child_record* supervised_child(detail::scope_impl& st,
                                       const caf::actor& child) {
  auto c = child ? st.children_.find(child.id()) : nullptr;
  return c != nullptr && c->kind->controlled_by_scope(st, *c) ? c : nullptr;
}

} // namespace

void scope::cancel(std::string why) {
  auto& st = state_of(*this);
  st.cancel_scope(make_cancel_error(st.path_.str(), std::move(why)), true);
}

void scope::cancel(caf::error cause) {
  auto& st = state_of(*this);
  if (!cause) {
    st.fail_with(make_error(errc::invalid_argument, st.path_.str(),
                            "cancel needs a reason, got an empty caf::error"));
    st.cancel_scope(
      make_cancel_error(st.path_.str(), "cancelled with an empty caf::error"),
      true);
    return;
  }
  st.cancel_scope(st.cancel_reason_for(std::move(cause)), true);
}

void scope::abort() {
  state_of(*this).abort_scope();
}

void scope::close() {
  auto& st = state_of(*this);
  st.transition(scope_input::close);
  st.check_progress();
}

void scope::join() {
  auto& st = state_of(*this);
  st.transition(scope_input::join);
  st.check_progress();
}

void scope::keep_open() {
  state_of(*this).keep_open_ = true;
}

void scope::fail(caf::error reason) {
  auto& st = state_of(*this);
  if (!reason) {
    st.fail_with(make_error(errc::invalid_argument, st.path_.str(),
                            "fail needs an error, got an empty caf::error"));
    return;
  }
  if (is_stopped(reason)) {
    st.cancel_scope(st.cancel_reason_for(std::move(reason)), true);
    return;
  }
  st.fail_with(std::move(reason));
}

caf::error detail::refuse_negative(caf::timespan x, std::string path,
                                   const char* what) {
  if (x.count() >= 0)
    return {};
  return make_error(errc::invalid_argument, std::move(path),
                    std::string{what} + " cannot be negative");
}

caf::error detail::scope_core::refuse_negative(caf::timespan x,
                                               const char* what) const {
  return detail::refuse_negative(x, state_of(*this).path(), what);
}

caf::error scope::fail_after(caf::timespan timeout) {
  if (auto err = refuse_negative(timeout, "a deadline"))
    return err;
  state_of(*this).send_after(
    timeout, detail::scope_event{detail::deadline_event{true, timeout}});
  return {};
}

caf::error scope::move_on_after(caf::timespan timeout) {
  if (auto err = refuse_negative(timeout, "a deadline"))
    return err;
  state_of(*this).send_after(
    timeout, detail::scope_event{detail::deadline_event{false, timeout}});
  return {};
}

caf::error scope::set_limit(size_t n) {
  auto& st = state_of(*this);
  if (n == 0)
    return make_error(errc::invalid_argument, st.path_.str(),
                      "the task limit must be at least 1");
  st.limiter_.set_limit(n);
  st.start_queued();
  return {};
}

limit_counts scope::counts() const noexcept {
  return state_of(*this).limiter_.counts();
}

void scope::on_no_tasks(std::function<void()> f) {
  auto& st = state_of(*this);
  if (!f) {
    st.fail_with(make_error(errc::invalid_argument, st.path_.str(),
                            "on_no_tasks needs a function, got an empty one"));
    return;
  }
  st.hooks().no_tasks_waiters.push_back(std::move(f));
  st.notify_no_tasks();
}

caf::error scope::set_grace(caf::timespan grace) {
  if (auto err = refuse_negative(grace, "a grace period"))
    return err;
  state_of(*this).grace_ = grace;
  return {};
}

caf::error scope::cancel_child(const caf::actor& child, caf::error reason) {
  auto& st = state_of(*this);
  auto c = supervised_child(st, child);
  if (c == nullptr)
    return make_error(errc::invalid_argument, st.path_.str(),
                      "cancel_child needs a live child of this scope");
  if (!reason)
    return make_error(errc::invalid_argument, st.path_.str(),
                      "cancel_child needs a reason, got an empty caf::error");
  st.control_child(*c, {std::move(reason), false});
  return {};
}

caf::error scope::abort_child(const caf::actor& child) {
  auto& st = state_of(*this);
  auto c = supervised_child(st, child);
  if (c == nullptr)
    return make_error(errc::invalid_argument, st.path_.str(),
                      "abort_child needs a live child of this scope");
  c->aborted = true;
  st.force(*c, detail::force_cause::abort_one);
  return {};
}

void scope::on_child_done(std::function<void(const child_exit&)> handler) {
  state_of(*this).hooks().on_child_done = std::move(handler);
}

void scope::on_cancel(std::function<void(const caf::error&)> handler) {
  state_of(*this).hooks().on_cancel = std::move(handler);
}

void scope::on_unmatched_message(
  std::function<caf::error(const caf::message&)> refuse) {
  state_of(*this).hooks().on_unmatched = std::move(refuse);
}

void scope::on_message(caf::message_handler handler) {
  auto& st = state_of(*this);
  // The default handler costs nothing until a scope asks for one.
  if (!st.hooks().on_message)
    self_->set_default_handler(
      [&st](caf::scheduled_actor* self, caf::message_view& x) {
        return st.on_unknown_message(self, x);
      });
  st.hooks().on_message = std::move(handler);
}

caf::result<caf::message>
detail::scope_impl::on_unknown_message(caf::scheduled_actor* self,
                                       caf::message_view& x) {
  if (!hooks().on_message)
    return caf::print_and_drop(self, x);
  auto msg = x.move_content_to_message();
  return on_unknown_message(msg);
}

caf::result<caf::message>
detail::scope_impl::on_unknown_message(caf::message& msg) {
  // A copy: the handler may replace itself.
  auto handler = hooks().on_message;
  if (!handler)
    return caf::sec::unexpected_message;
  caf::optional<caf::message> answer;
  try {
    answer = handler(msg);
  } catch (...) {
    auto err = task_exception_error(std::current_exception(), path_.str());
    fail_with(err);
    return err;
  }
  if (!answer) {
    if (auto& refuse = hooks().on_unmatched)
      if (auto err = refuse(msg))
        return err;
    return caf::sec::unexpected_message;
  }
  // The handler took a response promise: it answers later.
  if (self_->current_mailbox_element()->mid.is_answered())
    return caf::delegated<caf::message>{};
  return std::move(*answer);
}

caf::error scope::after(caf::timespan delay, std::function<void()> f) {
  if (auto err = refuse_negative(delay, "a delay"))
    return err;
  if (!f)
    return make_error(errc::invalid_argument, path(),
                      "after needs a function, got an empty one");
  state_of(*this).send_after(delay, detail::continuation{std::move(f)});
  return {};
}

void scope::defer_started() {
  state_of(*this).defer_started_ = true;
}

void scope::signal_started(caf::message info) {
  auto& st = state_of(*this);
  if (!st.hooks_ || !st.hooks_->on_started)
    return;
  auto f = std::move(st.hooks_->on_started);
  st.hooks_->on_started = nullptr;
  f(std::move(info));
}

std::string scope::path() const {
  return state_of(*this).path_.str();
}

caf::timespan scope::grace() const noexcept {
  return state_of(*this).grace_;
}

scope_state scope::state() const noexcept {
  return state_of(*this).state_;
}

bool scope::is_cancelled() const noexcept {
  return state_of(*this).cancelled();
}

bool scope::is_closed() const noexcept {
  return !accepts_children(state_of(*this).state_);
}

size_t scope::running() const noexcept {
  return state_of(*this).children_.size();
}

scope_ref scope::ref() {
  return detail::ref_access::make(state_of(*this).shared());
}

scope_owner scope::open_child(scope_options opts) {
  return open_child_with(std::move(opts), nullptr);
}

scope_owner
detail::scope_core::open_child_with(scope_options opts,
                                    std::function<void(scope&)> body) {
  auto shared = std::make_shared<detail::scope_shared>();
  if (auto err = open_child_scope(std::move(opts), shared, std::move(body)))
    shared->fail_to_start(err);
  return detail::ref_access::make_owner(std::move(shared));
}

child_counts scope::children() const noexcept {
  auto& st = state_of(*this);
  auto live = [&](detail::count_slot x) {
    return st.live_[static_cast<size_t>(x)];
  };
  child_counts x;
  x.behaviors = live(detail::count_slot::behaviors);
  x.functions = live(detail::count_slot::functions);
  x.blocking = live(detail::count_slot::blocking);
  x.scopes = live(detail::count_slot::scopes);
  x.queued = st.limiter_.queued();
  return x;
}

} // namespace scaf
