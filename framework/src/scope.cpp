// The scope actor: startup, messages, finishing, and abnormal death.
#include "scaf/scope.hpp"

#include <chrono>
#include <limits>
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
#include "kinds.hpp"
#include "log.hpp"
#include "scope_impl.hpp"
#include "send.hpp"
#include "trace.hpp"

namespace scaf {

namespace detail {

namespace {

constexpr auto default_grace = std::chrono::seconds{5};

/// How long a scope asked for its tree (`tree_atom`) waits for each child
/// scope.
constexpr auto tree_timeout = std::chrono::seconds{2};

caf::behavior scope_main(scope_impl::actor_type* self, scope_config cfg) {
  return self->state.make_behavior(std::move(cfg));
}

} // namespace

// -- free functions of detail/node.hpp and run.hpp ----------------------------

caf::actor spawn_scope_actor(caf::local_actor* parent, scope_config&& cfg) {
  return parent->spawn<caf::monitored>(scope_main, std::move(cfg));
}

caf::actor spawn_scope_actor(caf::actor_system& sys, scope_config&& cfg) {
  return sys.spawn(scope_main, std::move(cfg));
}

caf::actor spawn_nested_scope(caf::local_actor* parent, node_context&& ctx,
                              scope_config&& cfg) {
  auto& opts = cfg.options;
  if (!opts.grace)
    opts.grace = ctx.grace;
  opts.record_outcomes |= ctx.record_outcomes;
  opts.name = ctx.path.name();
  cfg.report_to = ctx.parent;
  cfg.context = std::move(ctx);
  return spawn_scope_actor(parent, std::move(cfg));
}

void fail_scope(scope& s, caf::error reason) {
  s.fail(std::move(reason));
}

void run_scope(caf::actor_system& sys, scope_config cfg) {
  blocking_section section{"scaf::run"};
  caf::scoped_actor waiter{sys};
  auto hdl = spawn_scope_actor(sys, std::move(cfg));
  waiter->monitor(hdl);
  auto done = false;
  while (!done)
    waiter->receive([&](caf::down_msg& msg) { done = msg.source == hdl; });
}

// -- constructors, destructors, and assignment operators ----------------------

scope_impl::scope_impl(actor_type* self) : scope(self) {
  // nop
}

scope_impl::~scope_impl() {
  if (top_level_)
    forget_top_level(self_->home_system(), self_->address());
  if (state_ == scope_state::finished)
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
    c->kind->abandon(*c, why);
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

caf::behavior scope_impl::make_behavior(scope_config cfg) {
  auto& opts = cfg.options;
  // (Before the path moves out of the context.)
  auto root = cfg.context.path.empty();
  path_ = root ? node_path{std::move(opts.name)} : std::move(cfg.context.path);
  prefix_ = path_.as_prefix();
  started_at_ = now();
  if (root) {
    // A root: the signal dump (and `top_level_trees`) finds it.
    top_level_ = true;
    remember_top_level(self_->home_system(), self_->address(), path_.str());
  }
  report_ = std::move(cfg.report);
  report_to_ = std::move(cfg.report_to);
  outcome_.set_policy(opts.policy);
  // A scope asked to record every outcome keeps every failure as well.
  outcome_.set_record_limit(opts.record_outcomes
                              ? std::numeric_limits<std::size_t>::max()
                              : opts.record_limit);
  record_outcomes_ = opts.record_outcomes;
  if (!opts.kind.empty())
    hooks().kind = std::move(opts.kind);
  if (cfg.keep_alive)
    keep_alive_ = caf::actor_cast<caf::actor>(self_);
  runtime_ = cfg.context.runtime_known ? cfg.context.sys_runtime
                                       : runtime::of(self_->home_system());
  grace_ = opts.grace
             ? *opts.grace
             : caf::get_or(self_->system().config(), "scaf.grace-period",
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
  holds_ |= hold_body;
  // Opened inside something already cancelled: start cancelled, so that the
  // body's children see it from their first line (Trio, zksync); a scope
  // with an owner stays open for it (cleanup work spawned through it runs)
  // until the owner lets go.
  if (cfg.context.cancelled) {
    if (cfg.owned)
      holds_ |= hold_owner;
    cancel_scope(std::move(cfg.context.cancelled), true);
  }
  // A top-level scope of a system whose scaf settings are invalid runs
  // nothing: it fails with what is wrong (scaf::init logged it too).
  auto refused = root ? config_error(self_->system()) : caf::error{};
  if (refused) {
    transition(scope_input::close);
    fail_with(refused);
    cancel_scope(cancel_reason_for(refused), false);
    early_calls.clear();
  } else if (cfg.body) {
    guarded([&] { cfg.body(*this); });
  }
  // Calls made through references before the scope ran come first.
  for (auto& call : early_calls)
    guarded([&] { call->run(*this); });
  holds_ &= static_cast<uint8_t>(~hold_body);
  if (cfg.join_after_body && !keep_open_)
    transition(scope_input::join);
  else if (cfg.join_after_body && cfg.context.runtime_known)
    // Kept open by its body: the join of the scope that spawned it (it
    // told its context's runtime, so it is one) must reach it now.
    if (auto parent = caf::actor_cast<caf::actor>(cfg.context.parent))
      self_->send(parent, scope_event{keeps_open_event{}});
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

void scope_impl::fail_with(caf::error reason) {
  if (state_ == scope_state::finished)
    return;
  take_failure(path_.str(), reason);
  check_progress();
}

scope_hooks& scope_impl::hooks() {
  if (!hooks_)
    hooks_ = std::make_unique<scope_hooks>();
  return *hooks_;
}

void scope_impl::on_event(cancel_event& x) {
  covered_until_ = x.force_at;
  cancel_scope(std::move(x.reason), true);
}

void scope_impl::on_event(adopt_event& x) {
  adopt(std::move(x.nested), std::move(x.name));
}

void scope_impl::on_event(detach_event& x) {
  detach(x.nested);
}

void scope_impl::on_event(deadline_event& x) {
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

void scope_impl::on_event(job_done_event& x) {
  if (auto c = children_.find(x.job->key()))
    child_ended(*c, x.job->result());
}

void scope_impl::on_event(call_event& x) {
  if (x.posted)
    shared_->call_arrived();
  x.call->run(*this);
  // The scope may have waited for this call to finish.
  check_progress();
}

void scope_impl::on_event(keeps_open_event&) {
  auto c = children_.find(self_->current_sender()->id());
  if (c == nullptr || c->stays_open)
    return;
  c->stays_open = true;
  // Joined already: the join that skipped it reaches it now.
  if (state_ != scope_state::open)
    c->kind->join(*this, *c);
}

const std::shared_ptr<scope_shared>& scope_impl::shared() {
  if (!shared_) {
    shared_ = std::make_shared<scope_shared>();
    shared_->attach(caf::actor_cast<caf::actor>(self_), path_.str());
    shared_->set_state(state_, cancel_reason_);
    share_counts();
  }
  return shared_;
}

} // namespace detail

} // namespace scaf
