// The scope actor: startup, messages, finishing, and abnormal death.
#include "scaf/scope.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <variant>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include "scaf/atoms.hpp"
#include "scaf/detail/continuation.hpp"
#include "scaf/run.hpp"
#include "scaf/scope_ref.hpp"
#include "scaf/spawn_in.hpp"

#include "config.hpp"
#include "log.hpp"
#include "scope_state.hpp"
#include "send.hpp"
#include "trace.hpp"

namespace scaf {

namespace detail {

namespace {

constexpr auto default_grace = std::chrono::seconds{5};

/// How long a scope asked for its tree (`tree_atom`) waits for each child
/// scope.
constexpr auto tree_timeout = std::chrono::seconds{2};

caf::behavior scope_main(scope_state::actor_type* self, scope_config cfg) {
  return self->state.make_behavior(std::move(cfg));
}

} // namespace

// -- free functions of detail/node.hpp and run.hpp ----------------------------

caf::actor spawn_scope_actor(caf::local_actor* parent, scope_config cfg) {
  return parent->spawn<caf::monitored>(scope_main, std::move(cfg));
}

caf::actor spawn_scope_actor(caf::actor_system& sys, scope_config cfg) {
  return sys.spawn(scope_main, std::move(cfg));
}

caf::actor spawn_nested_scope(caf::local_actor* parent, node_context ctx,
                              scope_options opts,
                              std::function<void(scope&)> body,
                              std::shared_ptr<scope_shared> shared) {
  if (!opts.grace)
    opts.grace = ctx.grace;
  opts.record_outcomes |= ctx.record_outcomes;
  opts.name = ctx.path.name();
  scope_config cfg;
  cfg.options = std::move(opts);
  cfg.report_to = ctx.parent;
  cfg.context = std::move(ctx);
  cfg.body = std::move(body);
  cfg.join_after_body = shared == nullptr;
  cfg.shared = std::move(shared);
  return spawn_scope_actor(parent, std::move(cfg));
}

void fail_scope(scope& s, caf::error reason) {
  s.fail(std::move(reason));
}

void run_scope(caf::actor_system& sys, scope_config cfg) {
  caf::scoped_actor waiter{sys};
  auto hdl = spawn_scope_actor(sys, std::move(cfg));
  waiter->monitor(hdl);
  auto done = false;
  while (!done)
    waiter->receive([&](caf::down_msg& msg) { done = msg.source == hdl; });
}

// -- constructors, destructors, and assignment operators ----------------------

scope_state::scope_state(actor_type* self) : scope(self) {
  // nop
}

scope_state::~scope_state() {
  if (top_level_)
    forget_top_level(self_->home_system(), self_->address());
  if (finished_)
    return;
  // The scope actor died abnormally: act like a link, and leave nothing
  // unresolved. Its down message is on its way already; nothing can make
  // its children finish first.
  const auto& died = self_->fail_state();
  auto why =
    make_cancel_error(path_.str(), "the scope died: " + render(died), died);
  detail::log().error("{}: the scope died ({}); stopping its children", path_,
                      rendered{died});
  // Jobs not yet run see `abandoned` and never run (every job holds the
  // cancel state, so there is none without it).
  if (job_cancel_) {
    job_cancel_->cancel(why);
    job_cancel_->abandoned.store(true, std::memory_order_release);
  }
  for (auto c = children_.first(); c != nullptr; c = c->next) {
    // A function busy in an actor of its own hears it first.
    if (c->stop)
      c->stop->request(why);
    switch (c->kind) {
    case child_kind::task:
      send_urgent(nullptr, c->handle,
                  caf::exit_msg{caf::actor_addr{}, caf::exit_reason::kill});
      break;
    case child_kind::blocking:
      break; // cannot be killed mid-call
    case child_kind::job:
      break; // sees `abandoned` and never runs
    case child_kind::scope:
    case child_kind::adopted:
      send_urgent(nullptr, c->handle, abort_atom::value);
      break;
    }
    // Nothing runs inline here (no `here`): continuations are posted.
    if (c->extra && c->extra->on_end)
      c->extra->on_end(why, child_path(*c), caf::actor_addr{});
  }
  drop_queued(why);
  for (auto c = children_.first(); c != nullptr; c = c->next)
    if (c->result)
      c->result->abandon();
  if (report_ || shared_) {
    auto report = outcome_.finish();
    if (!report.failure)
      report.failure =
        died ? died
             : make_error(errc::task_exception, path_.str(), "the scope died");
    report.status = scope_status::failed;
    if (shared_)
      shared_->set_report(report);
    if (report_)
      *report_ = std::move(report);
  }
}

// -- the actor ----------------------------------------------------------------

caf::behavior scope_state::make_behavior(scope_config cfg) {
  options_ = std::move(cfg.options);
  // (Before the path moves out of the context.)
  auto root = cfg.context.path.empty();
  path_ = root ? node_path{options_.name} : std::move(cfg.context.path);
  prefix_ = path_.as_prefix();
  started_at_ = now();
  if (root) {
    // A root: the signal dump (and `top_level_trees`) finds it.
    top_level_ = true;
    remember_top_level(self_->home_system(), self_->address());
  }
  report_ = std::move(cfg.report);
  report_to_ = std::move(cfg.report_to);
  outcome_.set_policy(options_.policy);
  if (cfg.keep_alive)
    keep_alive_ = caf::actor_cast<caf::actor>(self_);
  if (!options_.grace)
    options_.grace = caf::get_or(self_->system().config(), "scaf.grace-period",
                                 caf::timespan{default_grace});
  if (cfg.context.on_started)
    hooks().on_started = std::move(cfg.context.on_started);
  std::vector<scope_call_ptr> early_calls;
  if (cfg.shared) {
    shared_ = std::move(cfg.shared);
    early_calls =
      shared_->attach(caf::actor_cast<caf::actor>(self_), path_.str());
  }
  self_->set_exit_handler([this](caf::exit_msg& msg) {
    // A normal exit notification (reason none) is not a cancel.
    if (msg.reason)
      guarded([&] { cancel(std::move(msg.reason)); });
  });
  self_->set_down_handler(
    [this](caf::down_msg& msg) { guarded([&] { on_down(msg); }); });
  self_->set_exception_handler(
    [](caf::scheduled_actor* ptr, std::exception_ptr& eptr) -> caf::error {
      return task_exception_error(
        eptr, static_cast<actor_type*>(ptr)->state.path_.str());
    });
  detail::log().debug("{}: scope started", path_);
  in_body_ = true;
  // Opened inside something already cancelled: start cancelled, so that the
  // body's children see it from their first line (Trio, zksync).
  if (cfg.context.cancelled)
    cancel_scope(std::move(cfg.context.cancelled), true);
  // A top-level scope of a system whose scaf settings are invalid runs
  // nothing: it fails with what is wrong (scaf::init logged it too).
  auto refused = root ? config_error(self_->system()) : caf::error{};
  if (refused) {
    closed_ = true;
    fail_with(refused);
    cancel_scope(cancel_reason_for(refused), false);
    early_calls.clear();
  } else if (cfg.body) {
    guarded([&] { cfg.body(*this); });
  }
  // Calls made through references before the scope ran come first.
  for (auto& call : early_calls)
    guarded([&] { call->run(*this); });
  in_body_ = false;
  if (cfg.join_after_body && !keep_open_)
    joined_ = true;
  // A body that threw or failed the scope never brought it up: a `start`
  // handle resolves with the failure once the scope ends.
  if (!defer_started_ && !outcome_.has_failure())
    signal_started();
  check_progress();
  // Few cases on purpose: each case of a behavior costs every scope about 40
  // bytes, so the one-atom commands share a case and scaf's own messages
  // arrive as one `scope_event`.
  return {
    [this](cancel_atom, std::string& why) {
      guarded([&] { cancel(std::move(why)); });
    },
    [this](cancel_atom, caf::error& cause) {
      guarded([&] { cancel(std::move(cause)); });
    },
    [this](ref_atom) { return ref(); },
    [this](caf::atom_value command) -> caf::result<caf::message> {
      switch (static_cast<uint64_t>(command)) {
      case abort_atom::uint_value():
        guarded([&] { abort(); });
        return caf::message{};
      case close_atom::uint_value():
        guarded([&] { close(); });
        return caf::message{};
      case join_atom::uint_value():
        guarded([&] { join(); });
        return caf::message{};
      case tree_atom::uint_value(): {
        auto rp = self_->make_response_promise();
        collect_tree([rp](tree_node x) mutable { rp.deliver(std::move(x)); },
                     tree_timeout);
        return caf::delegated<caf::message>{};
      }
      case no_tasks_atom::uint_value(): {
        auto rp = self_->make_response_promise();
        guarded([&] {
          on_no_tasks([rp]() mutable { rp.deliver(no_tasks_atom::value); });
        });
        return caf::delegated<caf::message>{};
      }
      default: {
        // Another one-atom message: the scope's own handler, if any.
        auto msg = caf::make_message(command);
        return on_unknown_message(msg);
      }
      }
    },
    [this](spawn_atom, spawn_request& req) -> caf::result<caf::actor> {
      auto hdl = spawn_from(req.options, req.factory, {}, {});
      if (!hdl)
        return std::move(hdl.error());
      return std::move(*hdl);
    },
    [this](continuation& k) { guarded(k.fn); },
    [this](scope_event& event) {
      guarded([&] { std::visit([this](auto& x) { on_event(x); }, event); });
    },
  };
}

void scope_state::fail_with(caf::error reason) {
  if (finished_)
    return;
  take_failure(path_.str(), reason);
  check_progress();
}

scope_hooks& scope_state::hooks() {
  if (!hooks_)
    hooks_ = std::make_unique<scope_hooks>();
  return *hooks_;
}

void scope_state::on_event(cancel_event& x) {
  covered_until_ = x.force_at;
  cancel_scope(std::move(x.reason), true);
}

void scope_state::on_event(adopt_event& x) {
  adopt(std::move(x.nested), std::move(x.name));
}

void scope_state::on_event(detach_event& x) {
  detach(x.nested);
}

void scope_state::on_event(deadline_event& x) {
  auto what = "deadline of " + std::to_string(to_ms(x.timeout)) + " ms passed";
  if (x.fail) {
    // A failure, whatever the policy, and a cancel whose cause is it.
    auto err = make_error(errc::timeout, path_.str(), std::move(what));
    auto reason = make_cancel_error(path_.str(), render(err), err);
    outcome_.failed(std::move(err));
    cancel_scope(std::move(reason), false);
  } else {
    cancel_scope(make_cancel_error(path_.str(), what + ", moving on"), false);
  }
}

void scope_state::on_event(job_done_event& x) {
  if (auto c = children_.find(x.job->key()))
    child_done(*c, x.job->result());
}

void scope_state::on_event(call_event& x) {
  x.call->run(*this);
}

const std::shared_ptr<scope_shared>& scope_state::shared() {
  if (!shared_) {
    shared_ = std::make_shared<scope_shared>();
    shared_->attach(caf::actor_cast<caf::actor>(self_), path_.str());
    if (cancelled_)
      shared_->set_cancelled(cancel_reason_);
    if (closed_)
      shared_->set_closed();
    share_counts();
  }
  return shared_;
}

// -- finishing ----------------------------------------------------------------

void scope_state::notify_no_tasks() {
  if (!hooks_ || hooks_->no_tasks_waiters.empty() || children_.size() != 0 ||
      limiter_.queued() != 0)
    return;
  auto waiters = std::move(hooks_->no_tasks_waiters);
  hooks_->no_tasks_waiters.clear();
  for (auto& f : waiters)
    guarded(f);
}

void scope_state::check_progress() {
  if (finished_ || in_body_)
    return;
  auto idle = children_.size() == 0 && limiter_.queued() == 0;
  if (joined_ && main_running_ == 0 && !cancelled_ && !idle) {
    // Main work is done: background children are cancelled (cancel_scope
    // checks progress again).
    cancel_scope(make_cancel_error(path_.str(), "main tasks done"), false);
    return;
  }
  if (idle && (joined_ || cancelled_))
    finish();
}

void scope_state::finish() {
  finished_ = true;
  closed_ = true;
  auto report = outcome_.finish();
  auto reason = report.reason();
  // (A nested scope's span is traced by its parent, which sees it done.)
  if (top_level_ && trace::on())
    trace::span(path_.str(), options_.kind.empty() ? "scope" : options_.kind,
                started_at_, now(), to_string(report.status),
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
    if (!up->empty())
      self_->send(to, scope_event{report_event{std::move(up)}});
  }
  if (report_)
    *report_ = std::move(report);
  self_->quit(std::move(reason));
}

} // namespace detail

} // namespace scaf
