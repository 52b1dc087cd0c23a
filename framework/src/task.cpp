#include "scaf/task.hpp"

#include <algorithm>
#include <atomic>

#include <caf/actor_cast.hpp>
#include <caf/exit_reason.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message_id.hpp>

#include "scaf/atoms.hpp"
#include "scaf/detail/node.hpp"
#include "scaf/detail/task_exception.hpp"
#include "scaf/handle.hpp"

#include "events.hpp"
#include "log.hpp"
#include "send.hpp"

namespace scaf {

// -- task_core ----------------------------------------------------------------

detail::task_core::~task_core() {
  // Only non-empty when the task died abnormally (exception, kill): the normal
  // path of task_base::quit waits for every nested scope.
  if (!has_nested())
    return;
  auto& nested = extra_->nested;
  if (auto parent = caf::actor_cast<caf::actor>(parent_)) {
    task_died_event orphans{id_, {}, {}};
    for (auto& ns : nested)
      orphans.scopes.push_back(ns.handle.id());
    if (pending_quit_ && *pending_quit_ && !is_stopped(*pending_quit_))
      orphans.held.push_back(std::move(*pending_quit_));
    // Ahead of this task's down message, in the same (normal) queue.
    parent->enqueue(caf::make_mailbox_element(nullptr, caf::make_message_id(),
                                              {},
                                              scope_event{std::move(orphans)}),
                    nullptr);
  }
  for (auto& ns : nested)
    detail::send_urgent(nullptr, ns.handle, abort_atom::value);
}

// -- handles ------------------------------------------------------------------

uint64_t detail::next_resolution() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

// -- continuation_target ------------------------------------------------------

detail::continuation_target
detail::continuation_target::make(caf::strong_actor_ptr target,
                                  std::function<void()> fn) {
  continuation_target result;
  result.target_ = std::move(target);
  result.fn_ = std::move(fn);
  return result;
}

void detail::continuation_target::post_or_run(const caf::actor_addr& here) {
  if (!target_ || (here && caf::actor_cast<caf::actor_addr>(target_) == here))
    fn_();
  else
    post();
}

void detail::continuation_target::post() {
  if (!target_) {
    fn_();
    return;
  }
  // The message holds the target now; this reference goes.
  caf::anon_send(caf::actor_cast<caf::actor>(std::move(target_)),
                 continuation{std::move(fn_)});
}

// -- task_base ----------------------------------------------------------------

task_base::task_base(caf::actor_config& cfg) : super(cfg) {
  install_handler(handler_slot::exit);
  install_handler(handler_slot::down);
  install_handler(handler_slot::fallback);
  install_handler(handler_slot::exception);
}

void task_base::install_handler(handler_slot slot) {
  switch (slot) {
  case handler_slot::exit:
    super::set_exit_handler([this](caf::exit_msg& msg) {
      auto& core = *core_;
      auto from_scope = msg.source == core.parent_;
      // A stand-in's scope forces it with a message (spawn_options::stand_in).
      if (is(msg.reason, errc::killed) && from_scope) {
        force(std::move(msg.reason));
        return;
      }
      auto scafs = from_scope || is(msg.reason, errc::cancelled) ||
                   is(msg.reason, errc::killed);
      if (!scafs && own_ && own_->exit) {
        own_->exit(this, msg);
        return;
      }
      // A normal exit notification (reason none) from a link is not a
      // cancel.
      if (!msg.reason)
        return;
      cancel(std::move(msg.reason));
    });
    return;
  case handler_slot::down:
    super::set_down_handler([this](caf::down_msg& msg) { handle_down(msg); });
    return;
  case handler_slot::fallback:
    // Continuations of handles (handle::then) arrive as messages that no
    // user behavior knows; run them from the default handler.
    super::set_default_handler(
      [](caf::scheduled_actor* ptr,
         caf::message_view& x) -> caf::result<caf::message> {
        auto& content = x.content();
        if (content.size() == 1 &&
            content.match_element<detail::continuation>(0)) {
          auto fn =
            std::move(content.get_mutable_as<detail::continuation>(0).fn);
          fn();
          return caf::message{};
        }
        auto& own = static_cast<task_base*>(ptr)->own_;
        if (own && own->fallback)
          return own->fallback(ptr, x);
        return caf::print_and_drop(ptr, x);
      });
    return;
  case handler_slot::exception:
    super::set_exception_handler(
      [](caf::scheduled_actor* ptr, std::exception_ptr& eptr) -> caf::error {
        auto self = static_cast<task_base*>(ptr);
        if (self->own_ && self->own_->exception)
          return self->own_->exception(ptr, eptr);
        return detail::task_exception_error(eptr, self->path_.str());
      });
    return;
  }
}

void task_base::adopt_handler(handler_slot slot) {
  // CAF's setter just put the task's own handler in scaf's place: keep it,
  // and put scaf's back.
  if (!own_)
    own_ = std::make_unique<detail::own_handlers>();
  switch (slot) {
  case handler_slot::exit:
    own_->exit = std::move(exit_handler_);
    break;
  case handler_slot::down:
    own_->down = std::move(down_handler_);
    break;
  case handler_slot::fallback:
    own_->fallback = std::move(default_handler_);
    break;
  case handler_slot::exception:
    own_->exception = std::move(exception_handler_);
    break;
  }
  install_handler(slot);
}

task_base::~task_base() {
  // nop
}

void task_base::on_cancel(std::function<void(const caf::error&)> handler) {
  core_->on_cancel_ = std::move(handler);
}

void task_base::on_force(std::function<void(const caf::error&)> handler) {
  core_->extra().on_force = std::move(handler);
}

void task_base::force(caf::error reason) {
  auto& core = *core_;
  if (!core.extra_ || !core.extra_->on_force) {
    quit(std::move(reason));
    return;
  }
  // Once: a later force finds no handler and ends the task.
  auto handler = std::move(core.extra_->on_force);
  core.extra_->on_force = nullptr;
  handler(reason);
}

bool task_base::is_cancelled() const noexcept {
  auto& core = *core_;
  return core.cancelled_ || core.start_cancelled_ ||
         (core.stop_ != nullptr && core.stop_->source.stop_requested());
}

const caf::error& task_base::cancel_reason() const noexcept {
  auto& core = *core_;
  if (!core.cancel_reason_ && core.stop_ != nullptr &&
      core.stop_->source.stop_requested())
    return core.stop_->reason;
  return core.cancel_reason_;
}

void task_base::watch_stop(const detail::stop_signal* stop) noexcept {
  core_->stop_ = stop;
}

std::string task_base::path() const {
  return path_.str();
}

const caf::actor_addr& task_base::parent_scope() const noexcept {
  return core_->parent_;
}

void task_base::defer_started() {
  core_->defer_started_ = true;
}

void task_base::signal_started(caf::message info) {
  core_->up_ = true;
  if (auto f = std::move(core_->on_started_))
    (*f)(std::move(info));
}

void task_base::decline_start() {
  if (core_->up_) {
    quit(make_error(errc::invalid_argument, path_.str(),
                    "decline_start called once the task was up"));
    return;
  }
  quit();
}

bool task_base::has_quit() const noexcept {
  // CAF 0.17's quit() marks an actor as shutting down; it is terminated
  // once cleaned up.
  return getf(is_shutting_down_flag) || getf(is_terminated_flag);
}

void task_base::behavior_ready() {
  // A task that quit in its behavior function never was up.
  if (has_quit() || core_->pending_quit_)
    return;
  if (!core_->defer_started_)
    signal_started();
}

void task_base::on_down(std::function<void(caf::down_msg&)> handler) {
  core_->extra().on_down = std::move(handler);
}

void task_base::join_scope(detail::node_context&& ctx) {
  core_->parent_ = std::move(ctx.parent);
  core_->id_ = id();
  path_ = std::move(ctx.path);
  has_path_.store(true, std::memory_order_release);
  core_->grace_ = ctx.grace;
  core_->record_outcomes_ = ctx.record_outcomes;
  if (ctx.on_started)
    core_->on_started_ = std::make_unique<std::function<void(caf::message)>>(
      std::move(ctx.on_started));
  if (ctx.cancelled) {
    // Spawned into a cancelled scope: the cancel message is on its way, but
    // the task's code should see it from its first line.
    core_->start_cancelled_ = true;
    core_->cancel_reason_ = std::move(ctx.cancelled);
  }
  detail::log().debug("{}: task started", path_);
}

void task_base::fail_with_exception(std::exception_ptr eptr) {
  quit(detail::task_exception_error(std::move(eptr), path_.str()));
}

void task_base::yield(std::function<void()> next) {
  auto step = [this, next = std::move(next)] {
    if (!is_cancelled())
      next();
  };
  send(caf::actor_cast<caf::actor>(this),
       detail::continuation{std::move(step)});
}

caf::error task_base::detach(const caf::actor& nested) {
  auto& core = *core_;
  auto& owned = core.extra().nested;
  auto i = std::find_if(
    owned.begin(), owned.end(),
    [&](const detail::nested_scope& ns) { return ns.handle == nested; });
  auto parent = caf::actor_cast<caf::actor>(core.parent_);
  if (i == owned.end() || !parent)
    return make_error(errc::invalid_argument, path_.str(),
                      "detach needs a scope this task opened inside a scope");
  owned.erase(i);
  send(parent, detail::scope_event{detail::detach_event{nested}});
  return {};
}

void task_base::quit(caf::error reason) {
  auto& core = *core_;
  if (core.pending_quit_ || has_quit())
    return;
  if (!core.has_nested()) {
    detail::log().debug("{}: task done ({})", path_, detail::rendered{reason});
    super::quit(std::move(reason));
    return;
  }
  // Nested scopes are still running: cancel them and wait, so that this task
  // reports done only after they did.
  core.pending_quit_ = std::move(reason);
  auto why = make_error(errc::cancelled, path_.str(), "owner task quit");
  for (auto& ns : core.extra_->nested)
    detail::send_urgent(this, ns.handle, caf::exit_msg{address(), why});
  // Consume what still arrives without an answer: CAF's `drop` would answer
  // the sender with `unexpected_message`, and an actor's own timer message
  // answered that way ends it with that error.
  super::set_default_handler(
    [](caf::scheduled_actor*, caf::message_view&) -> caf::result<caf::message> {
      return caf::message{};
    });
  become([](detail::idle_atom) {
    // nop: only scope downs matter from now on
  });
}

void task_base::cancel(caf::error reason) {
  auto& core = *core_;
  if (core.cancelled_)
    return;
  core.cancelled_ = true;
  core.cancel_reason_ = reason;
  detail::log().debug("{}: task cancelled ({})", path_,
                      detail::rendered{reason});
  if (core.has_nested())
    for (auto& ns : core.extra_->nested)
      detail::send_urgent(this, ns.handle, caf::exit_msg{address(), reason});
  if (core.on_cancel_) {
    // Move the handler out: it may replace itself. The task runs on until
    // it quits; its scope forces it once the grace period is over.
    auto handler = std::move(core.on_cancel_);
    handler(reason);
    return;
  }
  quit(std::move(reason));
}

void task_base::handle_down(caf::down_msg& msg) {
  auto& core = *core_;
  auto& owned = core.extra().nested;
  auto i = std::find_if(owned.begin(), owned.end(),
                        [&](const detail::nested_scope& ns) {
                          return ns.handle.address() == msg.source;
                        });
  if (i == owned.end()) {
    if (core.extra_->on_down)
      core.extra_->on_down(msg);
    else if (own_ && own_->down)
      own_->down(this, msg);
    return;
  }
  auto on_done = std::move(i->on_done);
  owned.erase(i);
  if (!core.pending_quit_) {
    on_done(msg.reason);
    return;
  }
  // Quitting already: a failure of the scope must not be lost. It becomes
  // the task's failure if the task quits without one (or because it was
  // cancelled) or if it is an exception and the task's is not; otherwise it
  // is suppressed, in the report of the task's own scope.
  if (auto& failure = msg.reason; failure && !is_stopped(failure)) {
    auto& pending = *core.pending_quit_;
    if (!pending || is_stopped(pending)) {
      pending = std::move(failure);
    } else if (detail::outranks(failure, pending)) {
      suppress(std::exchange(pending, std::move(failure)));
    } else {
      suppress(std::move(failure));
    }
  }
  if (!core.has_nested()) {
    auto reason = std::move(*core.pending_quit_);
    detail::log().debug("{}: task done ({})", path_, detail::rendered{reason});
    super::quit(std::move(reason));
  }
}

void task_base::suppress(caf::error failure) {
  auto parent = caf::actor_cast<caf::actor>(core_->parent_);
  if (!parent) {
    detail::log().error("{}: lost error, no scope to report it to: {}", path_,
                        detail::rendered{failure});
    return;
  }
  auto report = std::make_shared<detail::nested_report>();
  report->suppressed.push_back(std::move(failure));
  send(parent, detail::scope_event{detail::report_event{std::move(report)}});
}

caf::actor
task_base::open_scope_impl(scope_options opts, std::function<void(scope&)> body,
                           std::shared_ptr<scope_report> report,
                           std::function<void(const caf::error&)> on_done) {
  auto& core = *core_;
  if (opts.name.empty())
    opts.name = "scope";
  if (!opts.grace)
    opts.grace = core.grace_;
  opts.record_outcomes |= core.record_outcomes_;
  auto name = opts.name;
  detail::scope_config cfg;
  cfg.context.parent = address();
  cfg.context.path = detail::node_path{path_.as_prefix(), name};
  cfg.context.grace = opts.grace;
  cfg.context.record_outcomes = opts.record_outcomes;
  if (is_cancelled())
    cfg.context.cancelled = core.cancel_reason_;
  cfg.options = std::move(opts);
  cfg.body = std::move(body);
  cfg.report = std::move(report);
  // Its subtree's failures, kills and stragglers go to the scope that
  // supervises this task.
  cfg.report_to = core.parent_;
  auto hdl = detail::spawn_scope_actor(this, std::move(cfg));
  core.extra().nested.push_back(detail::nested_scope{hdl, std::move(on_done)});
  // The scope that supervises this task waits for the nested scope too, so
  // it never reports done while the nested subtree runs, even if this task
  // is killed.
  if (auto parent = caf::actor_cast<caf::actor>(core.parent_))
    send(parent,
         detail::scope_event{detail::adopt_event{hdl, std::move(name)}});
  return hdl;
}

} // namespace scaf
