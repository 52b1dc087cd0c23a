#include "scaf/scope.hpp"

#include <algorithm>
#include <chrono>
#include <string_view>
#include <variant>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>
#include <caf/execution_unit.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include <fmt/format.h>

#include "scaf/atoms.hpp"
#include "scaf/detail/scope_event.hpp"
#include "scaf/errc.hpp"
#include "scaf/run.hpp"

#include "log.hpp"
#include "send.hpp"

namespace scaf {

namespace {

constexpr auto default_grace = std::chrono::seconds{5};

caf::behavior scope_main(scope::actor_type* self, detail::scope_config cfg) {
  return self->state.start(std::move(cfg));
}

bool is_kill(const caf::error& reason) {
  return reason == caf::make_error(caf::exit_reason::kill);
}

} // namespace

// -- free functions of detail/node.hpp ----------------------------------------

caf::actor detail::spawn_scope_actor(caf::local_actor* parent,
                                     scope_config cfg) {
  return parent->spawn<caf::monitored>(scope_main, std::move(cfg));
}

caf::actor detail::spawn_scope_actor(caf::actor_system& sys,
                                     scope_config cfg) {
  return sys.spawn(scope_main, std::move(cfg));
}

void detail::fail_scope(scope& s, caf::error reason) {
  s.fail(std::move(reason));
}

void detail::run_scope(caf::actor_system& sys, scope_config cfg) {
  caf::scoped_actor waiter{sys};
  auto hdl = spawn_scope_actor(sys, std::move(cfg));
  waiter->monitor(hdl);
  auto done = false;
  while (!done)
    waiter->receive([&](caf::down_msg& msg) { done = msg.source == hdl; });
}

// -- constructors, destructors, and assignment operators ----------------------

scope::scope(actor_type* self) : self_(self) {
  // nop
}

scope::~scope() {
  // Only non-empty if the scope actor died abnormally: act like a link. Jobs
  // cannot be stopped; those that have not started yet never will.
  if (jobs_head_ != nullptr) {
    job_cancel_state();
    if (!job_cancel_->cancelled.load()) {
      job_cancel_->reason = make_error(errc::cancelled, path_,
                                       "the scope died");
      job_cancel_->cancelled.store(true, std::memory_order_release);
    }
  }
  while (jobs_head_ != nullptr) {
    auto j = jobs_head_;
    jobs_head_ = j->next;
    intrusive_ptr_release(j);
  }
  for (auto& [id, c] : children_) {
    if (c.is_scope)
      detail::send_urgent(nullptr, c.handle, abort_atom::value);
    else
      detail::send_urgent(nullptr, c.handle,
                          caf::exit_msg{caf::actor_addr{},
                                        caf::exit_reason::kill});
  }
}

// -- startup ------------------------------------------------------------------

caf::behavior scope::start(detail::scope_config cfg) {
  options_ = std::move(cfg.options);
  path_ = cfg.context.path.empty() ? options_.name : std::move(cfg.context.path);
  report_ = std::move(cfg.report);
  parent_ = cfg.context.parent;
  report_to_parent_ = cfg.report_to_parent;
  if (cfg.keep_alive)
    keep_alive_ = caf::actor_cast<caf::actor>(self_);
  if (!options_.grace)
    options_.grace = caf::get_or(self_->system().config(), "scaf.grace-period",
                                 caf::timespan{default_grace});
  self_->set_exit_handler([this](caf::exit_msg& msg) {
    if (msg.reason)
      cancel(std::move(msg.reason));
  });
  self_->set_down_handler([this](caf::down_msg& msg) { on_child_down(msg); });
  detail::log().debug("{}: scope started", path_);
  in_body_ = true;
  // Opened inside something already cancelled: start cancelled, so that the
  // body's children see it from their first line (Trio, zksync).
  if (cfg.context.cancelled)
    cancel_impl(std::move(cfg.context.cancelled), true);
  if (cfg.body)
    run_user_code(cfg.body);
  in_body_ = false;
  if (cfg.join_after_body)
    joined_ = true;
  check_progress();
  // Few cases on purpose: each case of a behavior costs every scope about 40
  // bytes, so the one-atom commands share a case and scaf's own messages
  // arrive as one `scope_event`.
  return {
    [this](cancel_atom, std::string& why) { cancel(std::move(why)); },
    [this](cancel_atom, caf::error& reason) { cancel(std::move(reason)); },
    [this](caf::atom_value command) -> caf::result<void> {
      switch (static_cast<uint64_t>(command)) {
        case abort_atom::uint_value():
          abort();
          return {};
        case close_atom::uint_value():
          close();
          return {};
        case join_atom::uint_value():
          join();
          return {};
        case no_tasks_atom::uint_value(): {
          auto rp = self_->make_response_promise();
          on_no_tasks([rp]() mutable { rp.deliver(no_tasks_atom::value); });
          return caf::delegated<void>{};
        }
        default:
          return caf::sec::unexpected_message;
      }
    },
    [this](spawn_atom,
           detail::spawn_request& req) -> caf::result<caf::actor> {
      auto hdl = spawn_requested(req);
      if (!hdl)
        return std::move(hdl.error());
      return std::move(*hdl);
    },
    [this](detail::continuation& k) { run_user_code(k.fn); },
    [this](detail::scope_event& event) {
      std::visit([this](auto& x) { on_event(x); }, event);
    },
  };
}

void scope::on_event(detail::cancel_event& x) {
  covered_until_ = x.force_at;
  cancel_impl(std::move(x.reason), true);
}

void scope::on_event(detail::adopt_event& x) {
  adopt(std::move(x.nested));
}

void scope::on_event(detail::detach_event& x) {
  on_detach(x.nested);
}

void scope::on_event(detail::report_event& x) {
  auto i = children_.find(self_->current_sender()->id());
  if (i != children_.end())
    i->second.nested_outcomes = std::move(x.children);
}

void scope::on_event(detail::grace_event& x) {
  on_grace_expired(x.generation);
}

void scope::on_event(detail::deadline_event& x) {
  on_deadline(x.fail, x.timeout);
}

void scope::on_event(detail::job_done_event& x) {
  on_job_done(x.job);
}

template <class F>
void scope::run_user_code(F& f) {
  // An exception escaping into CAF would end the scope actor abnormally and
  // orphan its children for a moment: fail the scope instead.
  try {
    if constexpr (std::is_invocable_v<F&, scope&>)
      f(*this);
    else
      f();
  } catch (const std::exception& e) {
    fail(make_error(errc::task_exception, path_, e.what()));
  } catch (...) {
    fail(make_error(errc::task_exception, path_, "unknown exception"));
  }
}

// -- spawning -----------------------------------------------------------------

caf::error scope::check_open() const {
  if (closed_)
    return make_error(errc::scope_closed, path_,
                      finished_ ? "the scope has finished"
                                : "the scope is closed");
  return {};
}

std::string scope::child_name(const spawn_options& opts) const {
  return opts.name.empty() ? std::to_string(next_seq_) : opts.name;
}

detail::node_context scope::make_context(const std::string& name) const {
  detail::node_context ctx;
  ctx.parent = self_->address();
  ctx.path = path_ + "/" + name;
  ctx.grace = options_.grace;
  if (cancelled_)
    ctx.cancelled = cancel_reason_;
  return ctx;
}

caf::expected<caf::actor>
scope::add_child(caf::actor hdl, std::string name, bool background,
                 bool is_scope, std::shared_ptr<std::stop_source> stop) {
  auto id = hdl.id();
  auto& c = children_[id];
  c.handle = std::move(hdl);
  c.name = std::move(name);
  c.seq = next_seq_++;
  c.background = background;
  c.is_scope = is_scope;
  c.stop = std::move(stop);
  if (!background)
    ++main_running_;
  if (cancelled_) {
    // Cleanup work spawned during shutdown starts cancelled and gets a grace
    // period of its own.
    send_cancel(c, ++grace_generation_);
    arm_grace_timer();
  }
  return c.handle;
}

caf::expected<caf::actor>
scope::spawn_scope_impl(scope_options opts, std::function<void(scope&)> body,
                        bool background) {
  if (auto err = check_open())
    return err;
  auto name = opts.name.empty() ? child_name(spawn_options{}) : opts.name;
  detail::scope_config cfg;
  cfg.context = make_context(name);
  cfg.options = std::move(opts);
  cfg.options.name = name;
  if (!cfg.options.grace)
    cfg.options.grace = options_.grace;
  cfg.options.record_outcomes |= options_.record_outcomes;
  cfg.report_to_parent = true;
  cfg.body = std::move(body);
  auto hdl = detail::spawn_scope_actor(self_, std::move(cfg));
  return add_child(std::move(hdl), std::move(name), background, true);
}

caf::expected<caf::actor> scope::spawn_requested(detail::spawn_request& req) {
  if (auto err = check_open())
    return err;
  auto name = child_name(req.options);
  auto hdl = req.make(self_, make_context(name));
  return add_child(std::move(hdl), std::move(name), req.options.background,
                   false);
}

void scope::adopt(caf::actor nested) {
  auto owner = children_.find(self_->current_sender()->id());
  if (owner == children_.end() || !nested)
    return;
  auto background = owner->second.background;
  auto owner_id = owner->first;
  auto name = owner->second.name + "/scope";
  // Opened by a task that is being forced: forced with it.
  auto forced = owner->second.forced || owner->second.kill_pending;
  ++owner->second.nested;
  self_->monitor(nested);
  auto& c = children_[nested.id()];
  c.handle = std::move(nested);
  c.name = std::move(name);
  c.seq = next_seq_++;
  c.owner = owner_id;
  c.background = background;
  c.is_scope = true;
  if (!background)
    ++main_running_;
  if (forced) {
    c.forced = true;
    detail::send_urgent(self_, c.handle, abort_atom::value);
  }
}

void scope::on_detach(const caf::actor& nested) {
  auto i = children_.find(nested.id());
  if (i == children_.end() || i->second.owner != self_->current_sender()->id())
    return;
  auto& c = i->second;
  auto owner = children_.find(c.owner);
  c.owner = caf::invalid_actor_id;
  if (cancelled_ && c.cancelled_in == 0)
    send_cancel(c, grace_generation_);
  if (owner != children_.end()) {
    auto& oc = owner->second;
    if (--oc.nested == 0 && oc.kill_pending)
      kill(oc, "overstayed the grace period");
  }
}

// -- lifecycle ----------------------------------------------------------------

void scope::cancel(std::string why) {
  cancel_impl(make_error(errc::cancelled, path_, std::move(why)), true);
}

void scope::cancel(caf::error reason) {
  cancel_impl(std::move(reason), true);
}

void scope::abort() {
  closed_ = true;
  aborting_ = true;
  cancel_impl(make_error(errc::cancelled, path_, "aborted"), true);
  force_children([](const child&) { return true; }, "aborted");
  force_jobs(grace_generation_, "aborted");
  check_progress();
}

void scope::close() {
  closed_ = true;
  joined_ = true;
  check_progress();
}

void scope::join() {
  joined_ = true;
  check_progress();
}

void scope::fail(caf::error reason) {
  record_failure(path_, std::move(reason));
  check_progress();
}

void scope::fail_after(caf::timespan timeout) {
  self_->delayed_send(self_, timeout,
                      detail::scope_event{detail::deadline_event{true, timeout}});
}

void scope::move_on_after(caf::timespan timeout) {
  self_->delayed_send(self_, timeout,
                      detail::scope_event{detail::deadline_event{false, timeout}});
}

void scope::on_deadline(bool fail, caf::timespan timeout) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  auto what = "deadline of " + std::to_string(ms.count()) + " ms passed";
  if (fail)
    cancel_impl(make_error(errc::timeout, path_, std::move(what)), true);
  else
    cancel_impl(make_error(errc::cancelled, path_, what + ", moving on"),
                false);
}

caf::error scope::set_limit(size_t n) {
  if (n == 0)
    return make_error(errc::invalid_argument, path_,
                      "the task limit must be at least 1");
  limit_ = n;
  start_queued();
  return {};
}

void scope::on_no_tasks(std::function<void()> f) {
  no_tasks_waiters_.push_back(std::move(f));
  notify_no_tasks();
}

void scope::enqueue(bool background, std::function<void()> start,
                    std::function<void(const caf::error&)> drop) {
  if (!background)
    ++main_running_;
  queued_.push_back({background, std::move(start), std::move(drop)});
}

void scope::mark_limited(const caf::actor& hdl) {
  if (auto i = children_.find(hdl.id()); i != children_.end()) {
    i->second.limited = true;
    ++limited_running_;
  }
}

void scope::start_queued() {
  while (!queued_.empty() && (limit_ == 0 || limited_running_ < limit_)) {
    auto next = std::move(queued_.front());
    queued_.pop_front();
    if (!next.background)
      --main_running_;
    next.start();
  }
}

void scope::drop_queued(const caf::error& why) {
  // Tasks that never started: they never run, their handles say why.
  auto queue = std::move(queued_);
  queued_.clear();
  for (auto& q : queue) {
    if (!q.background)
      --main_running_;
    q.drop(why);
  }
}

void scope::notify_no_tasks() {
  if (running() != 0 || !queued_.empty() || no_tasks_waiters_.empty())
    return;
  auto waiters = std::move(no_tasks_waiters_);
  no_tasks_waiters_.clear();
  for (auto& f : waiters)
    run_user_code(f);
}

// -- function tasks as jobs ---------------------------------------------------

const std::shared_ptr<detail::job_cancel_state>& scope::job_cancel_state() {
  if (!job_cancel_) {
    job_cancel_ = std::make_shared<detail::job_cancel_state>();
    if (cancelled_) {
      job_cancel_->reason = cancel_reason_;
      job_cancel_->cancelled.store(true, std::memory_order_release);
    }
  }
  return job_cancel_;
}

void scope::launch(detail::job_ptr j, bool background, bool limited) {
  ++next_seq_;
  j->background = background;
  j->limited = limited;
  if (limited)
    ++limited_running_;
  if (!background)
    ++main_running_;
  if (cancelled_) {
    // It will not run, but it still gets a grace period like any child.
    j->cancelled_in = ++grace_generation_;
    arm_grace_timer();
  }
  // The list keeps one reference, the scheduler gets another.
  auto ptr = j.get();
  intrusive_ptr_add_ref(ptr);
  ptr->prev = jobs_tail_;
  (jobs_tail_ != nullptr ? jobs_tail_->next : jobs_head_) = ptr;
  jobs_tail_ = ptr;
  ++jobs_live_;
  if (auto eu = self_->context(); eu != nullptr)
    eu->exec_later(j.release());
  else
    self_->system().scheduler().enqueue(j.release());
}

void scope::on_job_done(const detail::job_ptr& j) {
  auto ptr = j.get();
  (ptr->prev != nullptr ? ptr->prev->next : jobs_head_) = ptr->next;
  (ptr->next != nullptr ? ptr->next->prev : jobs_tail_) = ptr->prev;
  ptr->prev = ptr->next = nullptr;
  --jobs_live_;
  intrusive_ptr_release(ptr); // the list's reference; `j` still holds one
  if (!ptr->background)
    --main_running_;
  if (ptr->limited) {
    --limited_running_;
    start_queued();
  }
  auto reason = ptr->result();
  if (options_.record_outcomes)
    record_outcome(ptr->path(), reason, ptr->forced, true, nullptr);
  auto name = std::string_view{ptr->path()}.substr(path_.size() + 1);
  if (ptr->forced && (!reason || is(reason, errc::cancelled)))
    log_straggler_done(name, ptr->forced_at);
  settle(name, std::move(reason));
  notify_no_tasks();
  check_progress();
}

void scope::force_jobs(uint64_t generation, const char* why) {
  for (auto j = jobs_head_; j != nullptr; j = j->next) {
    if (j->forced || j->cancelled_in == 0 || j->cancelled_in > generation
        || !j->started())
      continue; // Not started: it sees the cancel and never runs.
    j->forced = true;
    j->forced_at = self_->clock().now();
    detail::log().warn("{}: straggler: function task {}; it cannot be "
                       "stopped while it runs, waiting for it",
                       j->path(), why);
    outcome_.stragglers.push_back(j->path());
  }
}

void scope::set_grace(caf::timespan grace) {
  options_.grace = grace;
}

caf::timespan scope::grace() const noexcept {
  return *options_.grace;
}

// -- the node protocol --------------------------------------------------------

void scope::on_child_down(caf::down_msg& msg) {
  auto i = children_.find(msg.source.id());
  if (i == children_.end())
    return;
  auto c = std::move(i->second);
  children_.erase(i);
  if (!c.background)
    --main_running_;
  if (c.limited) {
    --limited_running_;
    start_queued();
  }
  auto& reason = msg.reason;
  if (options_.record_outcomes && c.owner == caf::invalid_actor_id)
    record_outcome(path_ + "/" + c.name, reason, c.forced, c.stop != nullptr,
                   std::move(c.nested_outcomes));
  if (c.owner != caf::invalid_actor_id) {
    // A scope opened by a child task: its result belongs to that task. A
    // forced owner is killed once its last nested scope is done, so that
    // the owner's done still follows theirs.
    detail::log().debug("{}/{}: done", path_, c.name);
    if (auto owner = children_.find(c.owner); owner != children_.end()) {
      auto& oc = owner->second;
      if (--oc.nested == 0 && oc.kill_pending)
        kill(oc, "overstayed the grace period");
    }
  } else if (c.forced && is_kill(reason)) {
    detail::log().debug("{}/{}: killed", path_, c.name);
  } else {
    if (c.stop && c.forced && (!reason || is(reason, errc::cancelled)))
      log_straggler_done(c.name, c.forced_at);
    settle(c.name, std::move(reason));
  }
  notify_no_tasks();
  check_progress();
}

void scope::settle(std::string_view name, caf::error reason) {
  if (!reason) {
    detail::log().debug("{}/{}: done", path_, name);
    if (options_.policy == failure_policy::race && !race_won_) {
      race_won_ = true;
      // Failures before the winner no longer decide the result.
      if (outcome_.result && !cancelled_) {
        outcome_.suppressed.insert(outcome_.suppressed.begin(),
                                   std::move(outcome_.result));
        outcome_.result = caf::error{};
      }
      cancel_impl(make_error(errc::cancelled, path_,
                             fmt::format("{}/{} won the race", path_, name)),
                  false);
    }
  } else if (cancelled_ && is(reason, errc::cancelled)) {
    detail::log().debug("{}/{}: cancelled", path_, name);
  } else {
    record_failure(fmt::format("{}/{}", path_, name), std::move(reason));
  }
}

void scope::log_straggler_done(std::string_view name,
                               caf::actor_clock::time_point forced_at) {
  auto overstay = std::chrono::duration_cast<std::chrono::milliseconds>(
    self_->clock().now() - forced_at);
  detail::log().warn("{}/{}: straggler finished {} ms after its grace period",
                     path_, name, overstay.count());
}

void scope::record_failure(const std::string& origin, caf::error reason) {
  if (outcome_.result) {
    detail::log().warn("{}: suppressed error from {}: {}", path_, origin,
                       detail::rendered{reason});
    outcome_.suppressed.push_back(std::move(reason));
    return;
  }
  detail::log().debug("{}: first error, from {}: {}", path_, origin,
                      detail::rendered{reason});
  if (options_.policy == failure_policy::race && race_won_) {
    outcome_.suppressed.push_back(std::move(reason));
    return;
  }
  outcome_.result = reason;
  if (options_.policy == failure_policy::errgroup)
    cancel_impl(make_error(errc::cancelled, path_,
                           origin + " failed: " + render(reason)),
                false);
}

void scope::cancel_impl(caf::error reason, bool sets_result) {
  if (sets_result && !outcome_.result)
    outcome_.result = reason;
  if (cancelled_)
    return;
  cancelled_ = true;
  // Children always hear an errc::cancelled reason, so that quitting with it
  // reads as an acknowledgement, not as a failure of their own.
  cancel_reason_ = is(reason, errc::cancelled)
                     ? std::move(reason)
                     : make_error(errc::cancelled, path_, render(reason));
  detail::log().debug("{}: cancelled ({})", path_,
                      detail::rendered{cancel_reason_});
  drop_queued(cancel_reason_);
  if (job_cancel_) {
    job_cancel_->reason = cancel_reason_;
    job_cancel_->cancelled.store(true, std::memory_order_release);
  }
  if (running() != 0) {
    ++grace_generation_;
    for (auto& [id, c] : children_)
      send_cancel(c, grace_generation_);
    for (auto j = jobs_head_; j != nullptr; j = j->next)
      j->cancelled_in = grace_generation_;
    arm_grace_timer();
  }
  check_progress();
}

void scope::send_cancel(child& c, uint64_t generation) {
  c.cancelled_in = generation;
  // A blocking task is busy in its function: its stop token is the only
  // thing it can notice.
  if (c.stop)
    c.stop->request_stop();
  // Scopes opened by a child task hear the cancel from that task: one
  // message per tree edge. A nested scope also learns when this scope will
  // force it, so that it needs no timer of its own if its grace ends later.
  if (c.owner != caf::invalid_actor_id)
    return;
  // An abort kills tasks at once (OTP's brutal kill): no cancel handler runs.
  // A task that opened scopes still hears it, so that it does not take their
  // ending for a failure to react to (a supervisor would restart children);
  // it is killed once they are done.
  if (aborting_ && !c.is_scope && !c.stop && c.nested == 0)
    return;
  if (c.is_scope)
    detail::send_urgent(self_, c.handle,
                        detail::scope_event{detail::cancel_event{
                          cancel_reason_, force_deadline()}});
  else
    detail::send_urgent(self_, c.handle,
                        caf::exit_msg{self_->address(), cancel_reason_});
}

caf::actor_clock::time_point scope::force_deadline() const {
  auto own = self_->clock().now() + *options_.grace;
  return covered_until_ ? std::min(own, *covered_until_) : own;
}

void scope::arm_grace_timer() {
  // Each timer is a round trip through CAF's clock thread. When the parent
  // forces this scope (and so every child) no later than this timer would
  // fire, the timer is not needed.
  if (covered_until_
      && *covered_until_ <= self_->clock().now() + *options_.grace)
    return;
  self_->delayed_send(self_, *options_.grace,
                      detail::scope_event{detail::grace_event{grace_generation_}});
}

void scope::on_grace_expired(uint64_t generation) {
  force_children(
    [generation](const child& c) {
      return c.cancelled_in != 0 && c.cancelled_in <= generation;
    },
    "overstayed the grace period");
  force_jobs(generation, "overstayed the grace period");
}

template <class Predicate>
void scope::force_children(Predicate pred, const char* why) {
  std::vector<child*> targets;
  for (auto& [id, c] : children_)
    if (!c.forced && c.owner == caf::invalid_actor_id && pred(c))
      targets.push_back(&c);
  std::sort(targets.begin(), targets.end(),
            [](const child* x, const child* y) { return x->seq < y->seq; });
  for (auto c : targets)
    force(*c, why);
}

void scope::force(child& c, const char* why) {
  c.forced = true;
  if (c.is_scope) {
    // A scope is never killed: it forces its own children and then reports
    // done, so the order of done signals holds.
    detail::send_urgent(self_, c.handle, abort_atom::value);
    return;
  }
  if (c.stop) {
    // A blocking task cannot be killed mid-call (CAF delivers the kill when
    // its function returns): request stop and keep waiting.
    c.stop->request_stop();
    c.forced_at = self_->clock().now();
    auto path = path_ + "/" + c.name;
    detail::log().warn("{}: straggler: blocking task {}; it cannot be killed, "
                       "waiting for it",
                       path, why);
    outcome_.stragglers.push_back(std::move(path));
    return;
  }
  if (c.nested == 0) {
    kill(c, why);
    return;
  }
  // Force bottom-up: abort the scopes the task opened, kill the task after
  // they are done.
  c.kill_pending = true;
  auto owner_id = c.handle.id();
  for (auto& [id, nested] : children_) {
    if (nested.owner == owner_id && !nested.forced) {
      nested.forced = true;
      detail::send_urgent(self_, nested.handle, abort_atom::value);
    }
  }
}

void scope::kill(child& c, const char* why) {
  c.kill_pending = false;
  auto path = path_ + "/" + c.name;
  detail::log().warn("{}: killed ({})", path, why);
  outcome_.killed.push_back(std::move(path));
  detail::send_urgent(self_, c.handle,
                      caf::exit_msg{self_->address(), caf::exit_reason::kill});
}

void scope::record_outcome(std::string path, const caf::error& reason,
                           bool forced, bool unkillable,
                           detail::outcomes nested) {
  node_outcome out;
  out.path = std::move(path);
  out.reason = reason;
  if (!reason)
    out.status = forced && unkillable ? node_status::straggler
                                      : node_status::done;
  else if (forced && is_kill(reason))
    out.status = node_status::killed;
  else if (is(reason, errc::timeout))
    out.status = node_status::timed_out;
  else if (is(reason, errc::cancelled))
    out.status = forced && unkillable ? node_status::straggler
                                      : node_status::cancelled;
  else
    out.status = node_status::failed;
  if (nested)
    out.children = std::move(*nested);
  outcome_.children.push_back(std::move(out));
}

void scope::check_progress() {
  if (finished_ || in_body_)
    return;
  if (joined_ && main_running_ == 0 && !cancelled_
      && (running() != 0 || !queued_.empty())) {
    // Main work is done: background children are cancelled (cancel_impl
    // checks progress again).
    cancel_impl(make_error(errc::cancelled, path_, "main tasks done"), false);
    return;
  }
  if (running() == 0 && queued_.empty() && (joined_ || cancelled_))
    finish();
}

void scope::finish() {
  finished_ = true;
  closed_ = true;
  auto result = outcome_.result;
  detail::log().debug("{}: scope done ({})", path_,
                      detail::rendered{result});
  if (report_to_parent_ && options_.record_outcomes) {
    // Ahead of the down message (same sender, same receiver: ordered).
    if (auto parent = caf::actor_cast<caf::actor>(parent_))
      self_->send(parent, detail::scope_event{detail::report_event{
                            std::make_shared<std::vector<node_outcome>>(
                              outcome_.children)}});
  }
  if (report_)
    *report_ = std::move(outcome_);
  self_->quit(std::move(result));
}

} // namespace scaf
