// The core of scaf::supervisor (see supervisor_impl.hpp): its children's
// bookkeeping, start sequences, stop sequences and shutdown, and the order in
// which exits and admin calls get their turn.
#include "supervisor_impl.hpp"

#include <algorithm>
#include <utility>

#include "scaf/errc.hpp"
#include "scaf/logger.hpp"

namespace scaf::supervision {

supervisor_impl::supervisor_impl(scope& s, supervisor_options opts,
                                 std::vector<child_spec> specs,
                                 std::shared_ptr<const pool_template> pool)
  : s_(s), path_(s.path()), options_(std::move(opts)), pool_(std::move(pool)) {
  for (auto& spec : specs)
    add(std::move(spec));
}

supervisor_impl::~supervisor_impl() {
  // The scope is gone (`s_` with it), killed perhaps: nobody waits for an
  // answer that cannot come.
  auto why = closed_error();
  for (auto& call : calls_)
    call.refuse(why);
  refuse_all(why);
}

void supervisor_impl::start() {
  auto self = shared_from_this();
  link_ = std::make_shared<supervisor_ref::link>();
  link_->scope = s_.ref();
  link_->impl = self;
  link_->pool = pool_;
  // A pool's workers stop together: its grace period is one shutdown time.
  if (pool_)
    s_.set_grace(child_spec{pool_->options, {}}.shutdown());
  // It runs until cancelled, like OTP's, even when no child is left.
  s_.keep_open();
  // Up once all children are up (OTP: start_link returns then).
  s_.defer_started();
  s_.on_child_done([self](const child_exit& x) { self->on_child_exit(x); });
  // Children are stopped one at a time, in reverse start order.
  s_.on_cancel([self](const caf::error& why) {
    self->shut_down(why, final_action::cancelled);
  });
  s_.on_message(admin_handler());
  s_.on_unmatched_message([path = path_](const caf::message& msg) {
    return refuse_shape(path, msg);
  });
  for (auto& [key, c] : children_)
    to_start_.push_back(key);
  start_next();
}

uint64_t supervisor_impl::add(child_spec spec) {
  add_shutdown(spec.shutdown(), 1);
  auto key = next_key_++;
  names_.emplace(spec.options.name, key);
  child_entry entry;
  entry.scope = spec.start.spawns_scope();
  entry.shutdown = spec.shutdown();
  entry.spec = std::move(spec);
  entry.next_backoff = options_.backoff;
  children_.emplace(key, std::move(entry));
  return key;
}

void supervisor_impl::forget(uint64_t key) {
  auto i = children_.find(key);
  if (i == children_.end())
    return;
  add_shutdown(i->second.shutdown, -1);
  names_.erase(i->second.spec.options.name);
  actors_.erase(i->second.last_actor);
  actors_.erase(i->second.first_actor);
  children_.erase(i);
}

std::optional<uint64_t> supervisor_impl::find(const std::string& name) const {
  if (auto i = names_.find(name); i != names_.end())
    return i->second;
  return std::nullopt;
}

supervisor_impl::child_entry* supervisor_impl::entry(uint64_t key) {
  auto i = children_.find(key);
  return i == children_.end() ? nullptr : &i->second;
}

void supervisor_impl::stopped(uint64_t key) {
  auto& c = children_.at(key);
  c.state = child_state::stopped;
  auto waiters = std::move(c.stop_waiters);
  c.stop_waiters.clear();
  if (forgotten_when_stopped(c))
    forget(key);
  for (auto& done : waiters)
    done(caf::unit);
}

bool supervisor_impl::forgotten_when_stopped(const child_entry& c) const {
  // A pool keeps no stopped workers: nothing could start them again.
  return pool_ || c.spec.options.restart == restart_type::temporary ||
         c.drop_when_stopped;
}

void supervisor_impl::add_shutdown(caf::timespan shutdown, int sign) {
  if (pool_)
    return; // one shutdown time for all (see start)
  if (shutdown == caf::timespan::max())
    waits_forever_ += sign;
  else
    shutdown_sum_ += sign * std::max(shutdown, caf::timespan{0});
  s_.set_grace(waits_forever_ > 0 ? caf::timespan::max() : shutdown_sum_);
}

void supervisor_impl::start_by_call(uint64_t key, reply<started_child> done) {
  auto& c = children_.at(key);
  c.terminated = false;
  c.by_call = true;
  c.up_waiters.push_back(std::move(done));
  to_start_.push_back(key);
  start_next();
}

void supervisor_impl::start_child_now(uint64_t key) {
  auto& c = children_.at(key);
  spawn_options opts;
  opts.name = c.spec.options.name;
  opts.grace = c.shutdown;
  // (Only the supervisor's own restarts count, not restart_child calls.)
  auto restart = c.starts > 0 && !c.by_call;
  opts.restarts = c.restarts + (restart ? 1 : 0);
  auto up = s_.start_with_info(opts, c.spec.start);
  c.actor = up.task();
  if (!c.actor && s_.is_closed()) {
    // The scope is closing: nothing starts any more.
    settle_up_waiters(c, closed_error());
    c.state = child_state::stopped;
    return;
  }
  ++c.starts;
  if (restart)
    ++c.restarts;
  // (Only a backoff needs to know how long a start ran.)
  if (options_.backoff > caf::timespan{0})
    c.started_at = s_.self()->clock().now();
  starting_ = key;
  starting_up_ = up;
  if (!c.actor) {
    // The spawn failed (its arguments threw when copied): like OTP's
    // failing start function, a failure of a child that never came up.
    ended_before_up(key, up.get().error(), true);
    return;
  }
  c.state = child_state::starting;
  // A child is found by its current actor and by its first, which is what
  // its start returned: a pool worker stays addressable while it restarts.
  if (c.last_actor != c.first_actor)
    actors_.erase(c.last_actor);
  c.last_actor = c.actor.id();
  if (c.first_actor == 0)
    c.first_actor = c.last_actor;
  actors_.emplace(c.last_actor, key);
  up.then(s_.self(), [self = shared_from_this(), key,
                      n = c.starts](const caf::expected<caf::message>& result) {
    if (result)
      self->child_up(key, n, *result);
  });
}

void supervisor_impl::child_up(uint64_t key, uint64_t start,
                               caf::message info) {
  auto c = entry(key);
  if (starting_ != key || c == nullptr || c->starts != start)
    return;
  starting_.reset();
  c->state = child_state::running;
  c->by_call = false;
  c->fresh = false;
  // A temporary child is never started again: its arguments can go (OTP
  // drops them too).
  if (c->spec.options.restart == restart_type::temporary)
    c->spec.start = child_factory{};
  settle_up_waiters(*c, c->actor, std::move(info));
  start_next();
}

void supervisor_impl::start_next() {
  while (!to_start_.empty()) {
    auto key = to_start_.front();
    to_start_.pop_front();
    auto c = entry(key);
    if (c == nullptr || c->actor || c->terminated)
      continue;
    start_child_now(key);
    if (starting_ || shutting_down_)
      return;
  }
  if (initial_) {
    initial_ = false;
    s_.signal_started();
  }
  after_sequence();
}

void supervisor_impl::stop_one(uint64_t key) {
  // The restart a backoff waits for keeps its children to start.
  stopping_.assign({key});
  stop_next();
}

void supervisor_impl::stop_then(std::vector<uint64_t> to_stop,
                                std::vector<uint64_t> to_start) {
  // Reverse start order.
  std::sort(to_stop.begin(), to_stop.end(), std::greater<>{});
  stopping_.assign(to_stop.begin(), to_stop.end());
  to_start_.assign(to_start.begin(), to_start.end());
  stop_next();
}

void supervisor_impl::stop_next() {
  // (Children that ended or were forgotten meanwhile need no stop.)
  while (!stopping_.empty()) {
    auto c = entry(stopping_.front());
    if (c != nullptr && c->actor)
      break;
    stopping_.pop_front();
  }
  if (stopping_.empty()) {
    if (shutting_down_) {
      finish();
      return;
    }
    if (waiting_backoff_) {
      // A call stopped a child during a backoff: the restart still waits.
      run_calls();
      return;
    }
    auto delay = std::exchange(backoff_, caf::timespan{0});
    auto retry = std::exchange(retry_later_, false);
    if (delay > caf::timespan{0} || retry) {
      wait_before_starts(delay);
      return;
    }
    start_next();
    return;
  }
  auto& c = children_.at(stopping_.front());
  if (!c.up_waiters.empty())
    settle_up_waiters(
      c, shutting_down_
           ? closed_error()
           : make_error(errc::cancelled, path_,
                        c.spec.options.name + " was stopped before it was up"));
  if (c.shutdown == caf::timespan{0}) {
    s_.abort_child(c.actor);
    return;
  }
  s_.cancel_child(c.actor, stop_reason(c));
}

void supervisor_impl::wait_before_starts(caf::timespan delay) {
  waiting_backoff_ = true;
  auto gen = ++generation_;
  if (delay == caf::timespan{0}) {
    // A retry: the calls already in the mailbox go first.
    auto me = caf::actor_cast<caf::actor>(s_.self());
    s_.self()->send(me, resume_starts_atom::value, gen);
  } else {
    logger().info("{}: backing off {} ms before restarting", s_.path(),
                  to_ms(delay));
    s_.after(delay, [self = shared_from_this(), gen] { self->wait_over(gen); });
  }
  // Calls that start nothing are answered meanwhile (OTP serves calls
  // between restart attempts).
  run_calls();
}

void supervisor_impl::wait_over(uint64_t gen) {
  if (gen != generation_ || !waiting_backoff_)
    return;
  waiting_backoff_ = false;
  // A call stopped a child meanwhile: the starts wait for that stop (its
  // end calls stop_next, which starts them).
  if (!stopping_.empty())
    return;
  start_next();
}

bool supervisor_impl::from_self() const {
  return s_.self()->current_sender() == s_.self()->ctrl();
}

const caf::error& supervisor_impl::stop_reason(const child_entry& c) {
  // Made once each: a pool may stop thousands of workers for one reason.
  if (shutting_down_) {
    if (!shutdown_reason_)
      shutdown_reason_ =
        is(final_reason_, errc::cancelled)
          ? final_reason_
          : make_error(errc::cancelled, path_, render(final_reason_));
    return shutdown_reason_;
  }
  if (c.terminated) {
    if (!terminate_reason_)
      terminate_reason_ = make_error(errc::cancelled, path_, "terminate_child");
    return terminate_reason_;
  }
  if (!restart_reason_)
    restart_reason_ =
      make_error(errc::cancelled, path_, "restarting its children");
  return restart_reason_;
}

void supervisor_impl::shut_down(caf::error reason, final_action action) {
  if (shutting_down_)
    return;
  shutting_down_ = true;
  final_reason_ = std::move(reason);
  final_action_ = action;
  waiting_backoff_ = false;
  retry_later_ = false;
  starting_.reset();
  pending_.clear();
  to_start_.clear();
  stopping_.clear();
  for (auto& [key, c] : children_) {
    if (c.actor)
      stopping_.push_front(key);
    else if (c.state == child_state::restarting)
      c.state = child_state::stopped;
  }
  // Calls that waited for their turn get it now: they refuse, or wait for
  // the stop under way.
  run_calls();
  if (pool_)
    stop_all_at_once();
  else
    stop_next();
}

void supervisor_impl::stop_all_at_once() {
  // OTP stops a simple_one_for_one pool's children together, in no order,
  // and kills what remains after the one shutdown time: each worker's own
  // grace period, started now for all of them.
  auto to_stop = std::move(stopping_);
  stopping_.clear();
  draining_ = to_stop.size();
  if (draining_ == 0) {
    finish();
    return;
  }
  for (auto key : to_stop) {
    auto& c = children_.at(key);
    if (!c.up_waiters.empty())
      settle_up_waiters(c, closed_error());
    if (c.shutdown == caf::timespan{0})
      s_.abort_child(c.actor);
    else
      s_.cancel_child(c.actor, stop_reason(c));
  }
}

void supervisor_impl::finish() {
  switch (final_action_) {
  case final_action::cancelled:
    // The cancel ends the scope by itself once its children are done.
    break;
  case final_action::fail:
    s_.fail(final_reason_);
    break;
  case final_action::complete:
    s_.close();
    break;
  }
}

bool supervisor_impl::busy() const noexcept {
  return !stopping_.empty() || waiting_backoff_ || starting_ ||
         !to_start_.empty();
}

void supervisor_impl::run_calls() {
  // A call's body can finish a sequence and get here again: the loop below
  // goes on with the calls after it.
  if (running_calls_)
    return;
  running_calls_ = true;
  // In order: a call sees what the calls before it did. During a shutdown
  // each runs at once (and refuses, or waits for its child's stop). A call
  // that must wait (a start during a group restart's wait) keeps its place,
  // and the calls after it that start nothing are answered meanwhile.
  for (auto i = calls_.begin(); i != calls_.end();) {
    auto stepping = !stopping_.empty() || starting_ ||
                    (!to_start_.empty() && !waiting_backoff_);
    if (stepping && !shutting_down_)
      break;
    if (i->run())
      i = calls_.erase(i);
    else
      ++i;
  }
  running_calls_ = false;
}

void supervisor_impl::after_sequence() {
  while (!busy() && !shutting_down_ && !pending_.empty()) {
    auto next = std::move(pending_.front());
    pending_.pop_front();
    auto c = entry(next.key);
    // Started again by the restart that just finished, or stopped by a
    // call meanwhile: that exit is handled.
    if (c == nullptr || c->actor || c->terminated || c->starts != next.start)
      continue;
    handle_exit(next.key, next.reason, next.failed, next.before_up);
  }
  // Calls before due restarts: they came first (a restart's timer or retry
  // message is handled after them), and children that loop in restarts
  // must not starve them.
  run_calls();
  while (!busy() && !shutting_down_ && !due_.empty()) {
    auto [key, gen] = due_.front();
    due_.pop_front();
    auto c = entry(key);
    // Stopped, deleted or started by a call meanwhile: nothing is due.
    if (c == nullptr || c->actor || c->state != child_state::restarting ||
        c->backoffs != gen)
      continue;
    to_start_.push_back(key);
    start_next();
  }
  run_calls();
}

} // namespace scaf::supervision
