// What a scope shares with the threads and actors that hold it from outside:
// handles' control and the calls of scope references.
#include "scaf/detail/scope_shared.hpp"

#include <string>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "scaf/errc.hpp"

#include "events.hpp"

namespace scaf::detail {

// -- handles ------------------------------------------------------------------

std::optional<cancel_request> handle_control::bind(caf::actor_addr scope,
                                                   caf::actor_id key,
                                                   caf::actor task) {
  std::lock_guard<std::mutex> guard{mtx_};
  scope_ = std::move(scope);
  key_ = key;
  task_ = task.address();
  std::optional<cancel_request> early;
  early.swap(early_);
  return early;
}

void handle_control::request_cancel(cancel_request x) {
  caf::actor scope;
  caf::actor_id key = 0;
  std::shared_ptr<handle_control> delegate;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    delegate = delegate_;
    if (!delegate) {
      // Kept for the next bind: a task on its way through a scope_ref, or
      // one that leaves the queue before this request reaches its scope
      // (the request names its place in the queue), hears it when
      // admitted; or for `delegate_to`.
      if (!early_ || x.abort)
        early_ = x;
      if (key_ == 0)
        return;
      scope = caf::actor_cast<caf::actor>(scope_);
      key = key_;
    }
  }
  if (delegate)
    delegate->request_cancel(std::move(x));
  else if (scope)
    caf::anon_send(scope, scope_event{child_control_event{key, std::move(x)}});
}

caf::actor handle_control::task() const {
  std::shared_ptr<handle_control> delegate;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!delegate_)
      return caf::actor_cast<caf::actor>(task_);
    delegate = delegate_;
  }
  return delegate->task();
}

void handle_control::delegate_to(std::shared_ptr<handle_control> other) {
  std::optional<cancel_request> early;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    delegate_ = other;
    early.swap(early_);
  }
  // Asked for while the call was on its way to the scope.
  if (early)
    other->request_cancel(std::move(*early));
}

// -- calls through scope references -------------------------------------------

scope_call::scope_call(std::function<void(scope&)> run,
                       std::function<void(const caf::error&)> refuse)
  : run_(std::move(run)), refuse_(std::move(refuse)) {
  // nop
}

scope_call::~scope_call() {
  if (refuse_)
    refuse_(make_error(errc::scope_closed, "",
                       "the scope has finished or never started"));
}

void scope_call::run(scope& s) {
  refuse_ = nullptr;
  auto f = std::move(run_);
  run_ = nullptr;
  if (f)
    f(s);
}

// -- the shared part of a scope -----------------------------------------------

scope_shared::scope_shared()
  : cancelled_(std::make_shared<handle_state<cancel_notice>>()),
    done_(std::make_shared<handle_state<scope_report>>()) {
  // nop
}

std::vector<scope_call_ptr> scope_shared::attach(caf::actor self,
                                                 std::string path) {
  std::vector<scope_call_ptr> calls;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (phase_ != phase::pending)
      return calls;
    phase_ = phase::running;
    addr_ = self.address();
    path_ = std::move(path);
    calls.swap(buffered_);
  }
  // Runs when the actor has terminated, after its state (and with it every
  // child) is gone.
  self->attach_functor([shared = shared_from_this()](const caf::error& reason) {
    shared->terminated(reason);
  });
  return calls;
}

} // namespace scaf::detail

namespace scaf::detail {

void scope_shared::fail_to_start(const caf::error& why) {
  std::vector<scope_call_ptr> calls;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (phase_ != phase::pending)
      return;
    phase_ = phase::gone;
    state_ = scope_state::finished;
    closed_ = true;
    calls.swap(buffered_);
  }
  calls.clear(); // refused
  cancelled_->resolve(caf::error{why});
  done_->resolve(why);
}

void scope_shared::set_state(scope_state x, const caf::error& reason) {
  auto cancelled = is_cancelled(x);
  {
    std::lock_guard<std::mutex> guard{mtx_};
    state_ = x;
    cancelled_flag_ |= cancelled;
    closed_ |= !accepts_children(x);
  }
  if (cancelled)
    cancelled_->resolve(cancel_notice{reason});
}

void scope_shared::note_requested(bool cancel, bool close) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (phase_ == phase::gone)
    return;
  cancelled_flag_ |= cancel;
  closed_ |= close;
}

void scope_shared::set_counts(const child_counts& x) {
  std::lock_guard<std::mutex> guard{mtx_};
  counts_ = x;
}

void scope_shared::set_report(scope_report report) {
  std::lock_guard<std::mutex> guard{mtx_};
  closed_ = true;
  report_ = std::move(report);
}

void scope_shared::terminated(const caf::error& reason) {
  std::optional<scope_report> report;
  std::string path;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    phase_ = phase::gone;
    state_ = scope_state::finished;
    closed_ = true;
    counts_ = child_counts{};
    report.swap(report_);
    path = path_;
  }
  cancelled_->resolve(make_error(errc::scope_closed, path,
                                 "the scope finished without being cancelled"));
  if (!report) {
    // Killed before it could write a report.
    report.emplace();
    report->status = scope_status::failed;
    report->failure = reason;
  }
  done_->resolve(std::move(*report));
}

void scope_shared::post(scope_call_ptr call) {
  caf::actor target;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    switch (phase_) {
    case phase::pending:
      buffered_.push_back(std::move(call));
      return;
    case phase::running:
      if (sealed_)
        break;
      target = caf::actor_cast<caf::actor>(addr_);
      if (target)
        ++in_flight_;
      break;
    case phase::gone:
      break;
    }
  }
  // A scope that is gone drops the message, and with it the call: refused.
  if (target)
    caf::anon_send(target, scope_event{call_event{std::move(call), true}});
}

void scope_shared::call_arrived() {
  std::lock_guard<std::mutex> guard{mtx_};
  --in_flight_;
}

bool scope_shared::seal() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (in_flight_ > 0)
    return false;
  sealed_ = true;
  return true;
}

bool scope_shared::cancelled() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return cancelled_flag_;
}

bool scope_shared::closed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return closed_;
}

scope_state scope_shared::state() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return state_;
}

child_counts scope_shared::counts() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return counts_;
}

std::string scope_shared::path() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return path_;
}

caf::actor scope_shared::actor() const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (phase_ != phase::running)
    return {};
  return caf::actor_cast<caf::actor>(addr_);
}

bool scope_shared::gone() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return phase_ == phase::gone;
}

} // namespace scaf::detail
