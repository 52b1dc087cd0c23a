// The one spawn path of a scope: every kind of child gets its name, its
// place (main or background), its slot under the limit and, in a cancelled
// scope, its cancel in `scope_impl::admit`; its kind then starts it. The
// scopes that tasks open are added in owned_scopes.cpp.
#include <algorithm>
#include <exception>
#include <string>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/execution_unit.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include "scaf/child_factory.hpp"
#include "scaf/names.hpp"
#include "scaf/scope_owner.hpp"

#include "kinds.hpp"
#include "log.hpp"
#include "scope_impl.hpp"

namespace scaf {

namespace detail {

namespace {

std::string child_name(const spawn_options& opts, uint64_t seq) {
  return opts.name.empty() ? std::to_string(seq) : opts.name;
}

/// Jobs and queued tasks have no actor id; theirs come from a range no
/// actor id reaches.
caf::actor_id job_key(uint64_t n) {
  return (caf::actor_id{1} << 63) | n;
}

/// Runs `make` (user code: it copies the task's arguments) and turns an
/// exception into the spawn's error.
template <class Make>
auto try_make(Make&& make, const path_prefix& parent, const std::string& name)
  -> caf::expected<decltype(make())> {
  try {
    return make();
  } catch (...) {
    return task_exception_error(std::current_exception(),
                                node_path{parent, name}.str());
  }
}

} // namespace

caf::error scope_impl::check_spawn(const spawn_options& opts,
                                   const std::string& name) const {
  if (!accepts_children(state_))
    return make_error(errc::scope_closed, path_.str(),
                      state_ == scope_state::finished ? "the scope has finished"
                                                      : "the scope is closed");
  if (opts.grace && opts.grace->count() < 0)
    return make_error(errc::invalid_argument, node_path{prefix_, name}.str(),
                      "a grace period cannot be negative");
  if (!opts.name.empty()) {
    if (auto err = check_name(opts.name, path_.str()))
      return err;
    if (hooks_ && hooks_->names.count(opts.name) != 0)
      return make_error(errc::invalid_argument, path_.str(),
                        "a live child is already named '" + opts.name + "'");
  }
  return {};
}

caf::expected<caf::actor>
scope_impl::spawn_actor_child(const spawn_options& opts, actor_kind kind,
                              actor_maker make, spawn_extras extras) {
  auto name = child_name(opts, next_seq_);
  if (auto err = check_spawn(opts, name))
    return err;
  node_context ctx;
  ctx.parent = self_->address();
  ctx.path = node_path{prefix_, name};
  ctx.grace = opts.grace ? *opts.grace : grace_;
  ctx.record_outcomes = record_outcomes_;
  ctx.runtime_known = true;
  ctx.sys_runtime = runtime_;
  if (cancelled())
    ctx.cancelled = cancel_reason_;
  // A function spawned into a cancelled scope starts with stop requested:
  // before its thread exists, which may look at it at once.
  if (cancelled() && extras.stop)
    extras.stop->request(cancel_reason_);
  auto hdl =
    try_make([&] { return make(self_, std::move(ctx)); }, prefix_, name);
  if (!hdl)
    return std::move(hdl.error());
  auto& c = children_.add(hdl->id(), kind_of(kind));
  c.handle = std::move(*hdl);
  admit(c, opts, std::move(name), std::move(extras));
  c.kind->start(*this, c);
  return c.handle;
}

caf::error scope_impl::spawn_job_child(const spawn_options& opts,
                                       job_maker make, spawn_extras extras) {
  auto name = child_name(opts, next_seq_);
  if (auto err = check_spawn(opts, name))
    return err;
  if (cancelled() && extras.stop)
    extras.stop->request(cancel_reason_);
  auto key = job_key(++next_job_);
  auto j = try_make(
    [&] {
      return make(job_context{caf::actor_cast<caf::actor>(self_), job_cancel(),
                              node_path{prefix_, name}, key, cancelled(),
                              extras.stop});
    },
    prefix_, name);
  if (!j)
    return std::move(j.error());
  auto& c = children_.add(key, function_job_kind());
  c.job = std::move(*j);
  admit(c, opts, std::move(name), std::move(extras));
  c.kind->start(*this, c);
  return {};
}

caf::expected<caf::actor>
scope_impl::spawn_from(const spawn_options& opts, const child_factory& factory,
                       spawn_extras extras,
                       std::function<void(caf::message)> on_started) {
  if (!factory)
    return make_error(errc::invalid_argument, path_.str(),
                      "cannot spawn from an empty child_factory");
  auto kind = factory.spawns_scope() ? actor_kind::scope : actor_kind::behavior;
  auto& impl = factory_access::impl(factory);
  auto make = [&](caf::local_actor* parent, node_context&& ctx) {
    ctx.on_started = std::move(on_started);
    return impl.spawn(parent, std::move(ctx));
  };
  return spawn_actor_child(opts, kind, make, std::move(extras));
}

void scope_impl::admit(child_record& c, const spawn_options& opts,
                       std::string name, spawn_extras extras) {
  ++next_seq_;
  c.spawned_at = now();
  c.name = std::move(name);
  if (!opts.name.empty()) {
    c.named = true;
    hooks().names.insert(c.name);
  }
  if (!opts.kind.empty())
    c.ext().label = opts.kind;
  if (opts.restarts > 0)
    c.ext().restarts = opts.restarts;
  c.background = opts.background;
  c.stand_in = opts.stand_in;
  if (opts.grace)
    c.grace = *opts.grace;
  if (!c.background)
    ++main_running_;
  if (extras.limited) {
    c.limited = true;
    limiter_.acquire();
  }
  c.stays_open = extras.stays_open;
  c.stop = std::move(extras.stop);
  if (extras.on_end)
    c.ext().on_end = std::move(extras.on_end);
  if (extras.on_cancelled)
    c.ext().on_cancelled = std::move(extras.on_cancelled);
  count(c, true);
  std::optional<cancel_request> early;
  if (extras.result) {
    early = extras.result->bind(self_->address(), c.id, c.handle);
    c.result = std::move(extras.result);
  }
  // Cleanup work spawned during shutdown starts cancelled (Trio, zksync),
  // with a grace period of its own.
  if (cancelled())
    cancel_with_all(c);
  // Cancelled through its handle while it waited in the queue.
  if (early)
    control_child(c, *early);
}

void scope_impl::count(const child_record& c, bool alive) {
  auto& n = live_[static_cast<size_t>(c.kind->slot())];
  if (alive)
    ++n;
  else
    --n;
  share_counts();
}

void scope_impl::share_counts() {
  if (shared_)
    shared_->set_counts(children());
}

const std::shared_ptr<job_cancel_state>& scope_impl::job_cancel() {
  if (!job_cancel_) {
    job_cancel_ = std::make_shared<job_cancel_state>();
    if (cancelled())
      job_cancel_->cancel(cancel_reason_);
  }
  return job_cancel_;
}

void scope_impl::submit(job_ptr job) {
  // A function that takes a token or a context may poll or wait: it runs
  // on the pool, off the scheduler. `f()` is short work: a job of CAF's
  // scheduler, next to the scope that spawned it.
  if (runtime_ != nullptr && job->stop())
    runtime_->functions().submit(job.release());
  else if (auto eu = self_->context(); eu != nullptr)
    eu->exec_later(job.release());
  else
    self_->system().scheduler().enqueue(job.release());
}

// -- limits -------------------------------------------------------------------

void scope_impl::start_queued() {
  while (limiter_.ready()) {
    auto next = limiter_.pop();
    if (!next.background)
      --main_running_;
    next.start();
  }
  share_counts();
}

void scope_impl::drop_queued(const caf::error& why) {
  // Tasks that never started: they never run, their handles say why (once
  // they are no longer counted).
  auto dropped = limiter_.take_all();
  share_counts();
  for (auto& q : dropped) {
    if (!q.background)
      --main_running_;
    q.drop(why);
  }
}

} // namespace detail

// -- the spawn hooks of scaf::scope -------------------------------------------

using detail::state_of;

caf::expected<caf::actor>
detail::scope_core::spawn_actor(const spawn_options& opts,
                                detail::actor_kind kind, actor_maker make,
                                detail::spawn_extras extras) {
  return state_of(*this).spawn_actor_child(opts, kind, make, std::move(extras));
}

caf::error detail::scope_core::spawn_job(const spawn_options& opts,
                                         job_maker make,
                                         detail::spawn_extras extras) {
  return state_of(*this).spawn_job_child(opts, make, std::move(extras));
}

caf::expected<caf::actor> scope::spawn(const spawn_options& opts,
                                       const child_factory& factory) {
  return state_of(*this).spawn_from(opts, factory, {}, {});
}

caf::expected<caf::actor>
detail::scope_core::spawn_child(const spawn_options& opts,
                                const child_factory& factory,
                                detail::spawn_extras extras) {
  return state_of(*this).spawn_from(opts, factory, std::move(extras), {});
}

namespace {

/// Spawns a child from `factory` into `st` and returns a handle that
/// `up(state, info)` resolves once the child is up.
template <class T, class Up>
handle<T> start_from(detail::scope_impl& st, caf::local_actor* self,
                     const spawn_options& opts, const child_factory& factory,
                     Up up) {
  auto state = std::make_shared<detail::handle_state<T>>();
  detail::spawn_extras extras;
  extras.on_end = detail::resolve_unless_up(state);
  auto hdl = st.spawn_from(
    opts, factory, std::move(extras),
    [state, up](caf::message info) { up(*state, std::move(info)); });
  if (!hdl)
    state->resolve(hdl.error());
  else
    state->bind(self->address(), hdl->id(), *hdl);
  return detail::handle_access::make<handle<T>>(std::move(state));
}

} // namespace

handle<void> scope::start(const spawn_options& opts,
                          const child_factory& factory) {
  return start_from<void>(state_of(*this), self_, opts, factory,
                          [](detail::handle_state<void>& st, caf::message) {
                            st.resolve(caf::unit);
                          });
}

handle<caf::message> scope::start_with_info(const spawn_options& opts,
                                            const child_factory& factory) {
  return start_from<caf::message>(
    state_of(*this), self_, opts, factory,
    [](detail::handle_state<caf::message>& st, caf::message info) {
      st.resolve(std::move(info));
    });
}

caf::expected<handle<void>> scope::handle_of(const caf::actor& child) {
  auto& st = state_of(*this);
  auto c = child ? st.children_.find(child.id()) : nullptr;
  if (c == nullptr || !c->kind->offers_handle_of())
    return make_error(errc::invalid_argument, st.path_.str(),
                      "handle_of needs a live behavior task or nested scope "
                      "of this scope");
  // Asked for before (or spawned through a scope_ref): one handle per
  // child, and behavior tasks and scopes only have `handle<void>`s.
  if (c->result)
    return detail::handle_access::make<handle<void>>(
      std::static_pointer_cast<detail::handle_state<void>>(c->result));
  auto state = std::make_shared<detail::handle_state<void>>();
  state->bind(st.self_->address(), c->id, c->handle);
  c->result = state;
  return detail::handle_access::make<handle<void>>(std::move(state));
}

caf::error detail::scope_core::open_child_scope(
  scope_options opts, std::shared_ptr<detail::scope_shared> shared,
  std::function<void(scope&)> body) {
  if (opts.grace)
    if (auto err = refuse_negative(*opts.grace, "a grace period"))
      return err;
  spawn_options child_opts;
  child_opts.name = opts.name;
  auto make = [&](caf::local_actor* parent, detail::node_context&& ctx) {
    detail::scope_config cfg;
    cfg.options = std::move(opts);
    cfg.body = std::move(body);
    cfg.shared = shared;
    cfg.owned = true;
    cfg.join_after_body = false;
    return detail::spawn_nested_scope(parent, std::move(ctx), std::move(cfg));
  };
  detail::spawn_extras extras;
  extras.stays_open = true;
  auto hdl =
    spawn_actor(child_opts, detail::actor_kind::scope, make, std::move(extras));
  if (!hdl)
    return std::move(hdl.error());
  return {};
}

bool detail::scope_core::must_queue() const noexcept {
  auto& st = state_of(*this);
  return st.limiter_.full() && accepts_children(st.state_);
}

void detail::scope_core::enqueue(
  bool background, std::function<void()> start,
  std::function<void(const caf::error&)> drop,
  std::shared_ptr<detail::handle_control> result) {
  auto& st = state_of(*this);
  auto key = detail::job_key(++st.next_job_);
  auto early = result->bind(self_->address(), key, caf::actor{});
  if (early) {
    // Cancelled through its handle before the scope saw it: never queued.
    drop(st.handle_cancel_reason(st.path_.str(), *early));
    return;
  }
  if (!background)
    ++st.main_running_;
  st.limiter_.push({background, key, std::move(start), std::move(drop)});
  st.share_counts();
}

caf::error detail::scope_core::refuse_if_full() {
  auto& st = state_of(*this);
  if (!st.limiter_.full())
    return {};
  st.limiter_.count_rejected();
  return make_error(errc::limit_reached, st.path_.str(),
                    "at most " + std::to_string(st.limiter_.limit()) +
                      " tasks may run at once");
}

} // namespace scaf
