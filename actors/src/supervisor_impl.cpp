// The restart strategy, the ordered shutdown and the admin calls of
// scaf::supervisor (see supervisor_impl.hpp).
#include "supervisor_impl.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "scaf/atoms.hpp"
#include "scaf/errc.hpp"
#include "scaf/logger.hpp"
#include "scaf/names.hpp"

namespace scaf::supervision {

namespace {

long long to_ms(caf::timespan x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
}

std::string render_end(const caf::error& reason) {
  return reason ? render(reason) : std::string{"success"};
}

} // namespace

/// What is wrong with one child spec, if anything.
caf::error check_child(const supervisor_options& opts, const child_spec& c,
                       const std::string& path) {
  auto invalid = [&](std::string what) {
    return make_error(errc::invalid_argument, path, std::move(what));
  };
  auto& name = c.options.name;
  if (name.empty())
    return invalid("every child needs a name");
  if (auto err = check_name(name, path))
    return err;
  if (!c.start)
    return invalid("child '" + name + "' has no task");
  if (c.options.shutdown < caf::timespan{0})
    return invalid("child '" + name + "' has a negative shutdown time");
  if (c.options.significant) {
    if (opts.shutdown_when == auto_shutdown::never)
      return invalid("child '" + name +
                     "' is significant, but the supervisor never shuts down "
                     "by itself (auto_shutdown::never)");
    if (c.options.restart == restart_type::permanent)
      return invalid("child '" + name +
                     "' is significant and permanent: only a transient or "
                     "temporary child can end its supervisor");
  }
  return {};
}

caf::error check(const supervisor_options& opts,
                 const std::vector<child_spec>& children,
                 const std::string& path) {
  auto invalid = [&](std::string what) {
    return make_error(errc::invalid_argument, path, std::move(what));
  };
  if (opts.period <= caf::timespan{0})
    return invalid("the restart period must be positive");
  if (opts.backoff < caf::timespan{0} || opts.max_backoff < opts.backoff)
    return invalid("the backoff must be at least 0 and at most max_backoff");
  if (!(opts.backoff_jitter >= 0.0 && opts.backoff_jitter <= 1.0))
    return invalid("the backoff jitter must be between 0 and 1");
  if (opts.backoff_reset && *opts.backoff_reset < caf::timespan{0})
    return invalid("the backoff reset cannot be negative");
  std::set<std::string> names;
  for (auto& c : children) {
    if (auto err = check_child(opts, c, path))
      return err;
    if (!names.insert(c.options.name).second)
      return invalid("two children are named '" + c.options.name + "'");
  }
  return {};
}

supervisor_impl::supervisor_impl(scope& s, supervisor_options opts,
                                 std::vector<child_spec> specs)
  : s_(s), path_(s.path()), options_(std::move(opts)) {
  for (auto& spec : specs)
    add(std::move(spec));
}

supervisor_impl::~supervisor_impl() {
  // The scope is gone (`s_` with it): nobody waits for an answer that
  // cannot come.
  refuse_all(closed_error());
}

void supervisor_impl::start() {
  auto self = shared_from_this();
  link_ = std::make_shared<supervisor_ref::link>();
  link_->scope = s_.ref();
  link_->impl = self;
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
  for (auto& [key, c] : children_)
    to_start_.push_back(key);
  start_next();
}

void supervisor_impl::start_child(child_spec spec, reply<caf::actor> done) {
  enqueue_call([this, spec = std::move(spec), done = std::move(done)] {
    if (auto err = refuse_start(spec)) {
      done(err);
      return true;
    }
    if (waiting_backoff_)
      return false; // the restart the backoff waits for comes first
    auto key = add(std::move(spec));
    children_.at(key).fresh = true;
    start_by_call(key, std::move(done));
    return true;
  });
}

void supervisor_impl::terminate_child(const std::string& name,
                                      reply<void> done) {
  enqueue_call([this, name, done = std::move(done)] {
    auto key = find(name);
    if (!key) {
      done(no_such_child(name));
      return true;
    }
    auto& c = children_.at(*key);
    c.terminated = true;
    if (!c.actor) {
      // Stopped, or waiting for its restart: it stays stopped.
      std::erase(to_start_, *key);
      stopped(*key);
      done(caf::unit);
      return true;
    }
    c.stop_waiters.push_back(std::move(done));
    // (A shutdown under way stops it anyway.)
    if (!shutting_down_)
      stop_one(*key);
    return true;
  });
}

void supervisor_impl::restart_child(const std::string& name,
                                    reply<caf::actor> done) {
  enqueue_call([this, name, done = std::move(done)] {
    if (auto err = refuse_restart(name)) {
      done(err);
      return true;
    }
    if (waiting_backoff_)
      return false; // the restart the backoff waits for comes first
    start_by_call(*find(name), std::move(done));
    return true;
  });
}

void supervisor_impl::delete_child(const std::string& name, reply<void> done) {
  enqueue_call([this, name, done = std::move(done)] {
    auto key = find(name);
    if (!key)
      done(no_such_child(name));
    else if (auto err = refuse_unless_stopped(*key))
      done(err);
    else {
      forget(*key);
      done(caf::unit);
    }
    return true;
  });
}

void supervisor_impl::which_children(reply<std::vector<child_info>> done) {
  enqueue_call([this, done = std::move(done)] {
    done(children());
    return true;
  });
}

void supervisor_impl::count_children(reply<supervisor_counts> done) {
  enqueue_call([this, done = std::move(done)] {
    done(counts());
    return true;
  });
}

std::vector<child_info> supervisor_impl::children() const {
  std::vector<child_info> result;
  result.reserve(children_.size());
  for (auto& [key, c] : children_)
    result.push_back({c.spec.options.name, c.state, c.actor, c.restarts,
                      c.spec.options.restart, c.spec.options.significant,
                      c.spec.start.spawns_scope()});
  return result;
}

supervisor_counts supervisor_impl::counts() const {
  supervisor_counts result;
  result.specs = children_.size();
  for (auto& [key, c] : children_) {
    if (c.actor)
      ++result.active;
    if (c.spec.start.spawns_scope())
      ++result.supervisors;
    else
      ++result.workers;
  }
  return result;
}

supervisor_ref supervisor_impl::ref() const {
  return supervisor_ref{link_};
}

uint64_t supervisor_impl::add(child_spec spec) {
  add_shutdown(spec.options.shutdown, 1);
  auto key = next_key_++;
  names_.emplace(spec.options.name, key);
  child_entry entry;
  entry.spec = std::move(spec);
  entry.next_backoff = options_.backoff;
  children_.emplace(key, std::move(entry));
  return key;
}

void supervisor_impl::forget(uint64_t key) {
  auto i = children_.find(key);
  if (i == children_.end())
    return;
  add_shutdown(i->second.spec.options.shutdown, -1);
  names_.erase(i->second.spec.options.name);
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
  if (c.spec.options.restart == restart_type::temporary || c.drop_when_stopped)
    forget(key);
  for (auto& done : waiters)
    done(caf::unit);
}

void supervisor_impl::add_shutdown(caf::timespan shutdown, int sign) {
  if (shutdown == caf::timespan::max())
    waits_forever_ += sign;
  else
    shutdown_sum_ += sign * std::max(shutdown, caf::timespan{0});
  s_.set_grace(waits_forever_ > 0 ? caf::timespan::max() : shutdown_sum_);
}

void supervisor_impl::start_by_call(uint64_t key, reply<caf::actor> done) {
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
  opts.grace = c.spec.options.shutdown;
  auto up = s_.start(opts, c.spec.start);
  c.actor = up.task();
  if (!c.actor && s_.is_closed()) {
    // The scope is closing: nothing starts any more.
    settle_up_waiters(c, closed_error());
    c.state = child_state::stopped;
    return;
  }
  if (c.starts++ > 0)
    ++c.restarts;
  c.started_at = s_.self()->clock().now();
  starting_ = key;
  if (!c.actor) {
    // The spawn failed (its arguments threw when copied): like OTP's
    // failing start function, a failure of a child that never came up.
    ended_before_up(key, up.get().error(), true);
    return;
  }
  c.state = child_state::starting;
  actors_.emplace(c.actor.id(), key);
  up.then(s_.self(), [self = shared_from_this(), key,
                      n = c.starts](const caf::expected<void>& result) {
    if (result)
      self->child_up(key, n);
  });
}

void supervisor_impl::child_up(uint64_t key, uint64_t start) {
  auto c = entry(key);
  if (starting_ != key || c == nullptr || c->starts != start)
    return;
  starting_.reset();
  c->state = child_state::running;
  c->by_call = false;
  c->fresh = false;
  settle_up_waiters(*c, c->actor);
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

void supervisor_impl::ended_before_up(uint64_t key, const caf::error& reason,
                                      bool failed) {
  starting_.reset();
  auto& c = children_.at(key);
  c.state = child_state::stopped;
  auto declined = !failed;
  if (c.by_call) {
    // start_child / restart_child: the caller gets the outcome; nothing
    // restarts it.
    c.by_call = false;
    if (declined) {
      settle_up_waiters(c, caf::actor{});
      if (c.spec.options.restart == restart_type::temporary)
        forget(key);
    } else {
      settle_up_waiters(c, reason);
      if (c.fresh)
        forget(key);
    }
    start_next();
    return;
  }
  if (declined) {
    // OTP's `ignore`: not running, not restarted, and the start goes on.
    logger().info("{}/{}: declined to start", s_.path(), c.spec.options.name);
    if (c.spec.options.restart == restart_type::temporary)
      forget(key);
    start_next();
    return;
  }
  if (initial_) {
    // The supervisor's own start fails with the child's error.
    logger().warn("{}/{}: failed to start: {}", s_.path(), c.spec.options.name,
                  render(reason));
    shut_down(reason, final_action::fail);
    return;
  }
  if (options_.strategy == restart_strategy::one_for_one) {
    // The others do not depend on it: start them, then handle it.
    pending_.push_back({key, c.starts, reason, true});
    start_next();
    return;
  }
  // The children after it depend on it: do not start them now;
  // restarting it restarts them (OTP's try_again).
  auto rest = std::move(to_start_);
  to_start_.clear();
  handle_exit(key, reason, true);
  if (!busy() && !shutting_down_) {
    // Not restarted: go on.
    to_start_ = std::move(rest);
    start_next();
  }
}

void supervisor_impl::on_child_exit(const child_exit& x) {
  auto i = actors_.find(x.id);
  if (i == actors_.end())
    return;
  auto key = i->second;
  actors_.erase(i);
  auto& c = children_.at(key);
  c.actor = caf::actor{};
  auto failed =
    x.status == node_status::failed || x.status == node_status::timed_out;
  if (starting_ == key) {
    ended_before_up(key, x.reason, failed);
    return;
  }
  if (auto stop = std::find(stopping_.begin(), stopping_.end(), key);
      stop != stopping_.end()) {
    // Being stopped (or ended on its own while waiting to be stopped).
    auto was_first = stop == stopping_.begin();
    stopping_.erase(stop);
    if (shutting_down_ || c.terminated || c.drop_when_stopped)
      stopped(key);
    else
      c.state = child_state::restarting;
    if (was_first)
      stop_next();
    return;
  }
  if (shutting_down_) {
    stopped(key);
    return;
  }
  // A supervisor child that gave up ended as OTP's `shutdown`: no failure
  // for its restart type.
  if (is(x.reason, errc::restart_limit))
    failed = false;
  c.state = child_state::restarting;
  if (busy()) {
    pending_.push_back({key, c.starts, x.reason, failed});
    return;
  }
  handle_exit(key, x.reason, failed);
}

void supervisor_impl::handle_exit(uint64_t key, const caf::error& reason,
                                  bool failed) {
  auto& c = children_.at(key);
  auto type = c.spec.options.restart;
  if (type == restart_type::temporary ||
      (type == restart_type::transient && !failed)) {
    auto significant = c.spec.options.significant;
    auto name = c.spec.options.name;
    stopped(key);
    if (significant)
      check_auto_shutdown(name, reason);
    return;
  }
  if (!restart_allowed()) {
    auto detail =
      c.spec.options.name + " ended with " + render_end(reason) +
      "; restarting it would make " + std::to_string(restarts_.size()) +
      (restarts_.size() == 1 ? " restart" : " restarts") + " within " +
      std::to_string(to_ms(options_.period)) + " ms, more than the intensity " +
      std::to_string(options_.intensity);
    auto err = make_error(errc::restart_limit, s_.path(), std::move(detail));
    logger().warn("{}: giving up: {}", s_.path(), render(err));
    shut_down(std::move(err), final_action::fail);
    return;
  }
  logger().info("{}/{}: restarting ({} of at most {} within {} ms): ended "
                "with {}",
                s_.path(), c.spec.options.name, restarts_.size(),
                options_.intensity, to_ms(options_.period), render_end(reason));
  backoff_ = backoff_for(c);
  std::vector<uint64_t> to_stop;
  std::vector<uint64_t> to_start;
  for (auto& [k, other] : children_) {
    auto in_group =
      k == key || options_.strategy == restart_strategy::one_for_all ||
      (options_.strategy == restart_strategy::rest_for_one && k > key);
    if (!in_group)
      continue;
    if (k != key && other.actor)
      to_stop.push_back(k);
    if (k != key && other.spec.options.restart == restart_type::temporary) {
      // A temporary bystander is stopped, not restarted (OTP).
      other.drop_when_stopped = true;
      continue;
    }
    other.terminated = false;
    other.state = child_state::restarting;
    to_start.push_back(k);
  }
  stop_then(std::move(to_stop), std::move(to_start));
}

bool supervisor_impl::restart_allowed() {
  auto now = s_.self()->clock().now();
  while (!restarts_.empty() && now - restarts_.front() >= options_.period)
    restarts_.pop_front();
  restarts_.push_back(now);
  return restarts_.size() <= options_.intensity;
}

caf::timespan supervisor_impl::backoff_for(child_entry& c) {
  if (options_.backoff == caf::timespan{0})
    return caf::timespan{0};
  auto ran = s_.self()->clock().now() - c.started_at;
  if (ran >= options_.backoff_reset.value_or(options_.period))
    c.next_backoff = options_.backoff;
  auto delay = c.next_backoff;
  c.next_backoff =
    delay > options_.max_backoff / 2 ? options_.max_backoff : delay * 2;
  if (options_.backoff_jitter > 0.0) {
    std::uniform_real_distribution<double> extra{0.0, options_.backoff_jitter};
    delay += std::chrono::duration_cast<caf::timespan>(delay * extra(random_));
  }
  return delay;
}

void supervisor_impl::check_auto_shutdown(const std::string& name,
                                          const caf::error& reason) {
  if (options_.shutdown_when == auto_shutdown::never)
    return;
  if (options_.shutdown_when == auto_shutdown::all_significant)
    for (auto& [key, c] : children_)
      if (c.spec.options.significant && c.state != child_state::stopped)
        return;
  logger().info("{}: shutting down: significant child {} ended with {}",
                s_.path(), name, render_end(reason));
  shut_down(make_error(errc::cancelled, s_.path(),
                       "significant child " + name + " ended"),
            final_action::complete);
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
    if (auto delay = std::exchange(backoff_, caf::timespan{0});
        delay > caf::timespan{0}) {
      logger().info("{}: backing off {} ms before restarting", s_.path(),
                    to_ms(delay));
      waiting_backoff_ = true;
      s_.after(delay, [self = shared_from_this(), gen = ++generation_] {
        if (gen != self->generation_ || !self->waiting_backoff_)
          return;
        self->waiting_backoff_ = false;
        self->start_next();
      });
      // Calls that start nothing are answered meanwhile (OTP serves calls
      // between restart attempts).
      run_calls();
      return;
    }
    start_next();
    return;
  }
  auto& c = children_.at(stopping_.front());
  settle_up_waiters(
    c, shutting_down_
         ? closed_error()
         : make_error(errc::cancelled, s_.path(),
                      c.spec.options.name + " was stopped before it was up"));
  if (c.spec.options.shutdown == caf::timespan{0}) {
    s_.abort_child(c.actor);
    return;
  }
  s_.cancel_child(c.actor, stop_reason(c));
}

caf::error supervisor_impl::stop_reason(const child_entry& c) const {
  if (shutting_down_)
    return is(final_reason_, errc::cancelled)
             ? final_reason_
             : make_error(errc::cancelled, s_.path(), render(final_reason_));
  if (c.terminated)
    return make_error(errc::cancelled, s_.path(), "terminate_child");
  return make_error(errc::cancelled, s_.path(), "restarting its children");
}

void supervisor_impl::shut_down(caf::error reason, final_action action) {
  if (shutting_down_)
    return;
  shutting_down_ = true;
  final_reason_ = std::move(reason);
  final_action_ = action;
  waiting_backoff_ = false;
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
  stop_next();
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

void supervisor_impl::enqueue_call(std::function<bool()> call) {
  calls_.push_back(std::move(call));
  run_calls();
}

void supervisor_impl::run_calls() {
  // In order: a call sees what the calls before it did. During a shutdown
  // each runs at once (and refuses, or waits for its child's stop).
  while (!calls_.empty()) {
    auto stepping = !stopping_.empty() || starting_ ||
                    (!to_start_.empty() && !waiting_backoff_);
    if (stepping && !shutting_down_)
      return;
    // A call that must wait (a start during a backoff) keeps its place.
    if (!calls_.front()())
      return;
    calls_.pop_front();
  }
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
    handle_exit(next.key, next.reason, next.failed);
  }
  run_calls();
}

caf::error supervisor_impl::closed_error() const {
  return make_error(errc::scope_closed, path_,
                    "the supervisor is shutting down");
}

caf::error supervisor_impl::no_such_child(const std::string& name) const {
  return make_error(errc::no_such_child, s_.path(),
                    "no child is named '" + name + "'");
}

caf::error supervisor_impl::refuse_if_closing() const {
  return shutting_down_ || s_.is_closed() ? closed_error() : caf::error{};
}

caf::error supervisor_impl::refuse_start(const child_spec& spec) const {
  if (auto err = refuse_if_closing())
    return err;
  if (auto err = check_child(options_, spec, path_))
    return err;
  if (auto i = names_.find(spec.options.name); i != names_.end()) {
    auto running = children_.at(i->second).actor != nullptr;
    return make_error(errc::child_exists, path_,
                      "child '" + spec.options.name + "' is " +
                        (running ? "already started" : "already present"));
  }
  return {};
}

caf::error supervisor_impl::refuse_restart(const std::string& name) const {
  if (auto err = refuse_if_closing())
    return err;
  auto key = find(name);
  if (!key)
    return no_such_child(name);
  return refuse_unless_stopped(*key);
}

caf::error supervisor_impl::refuse_unless_stopped(uint64_t key) const {
  auto& c = children_.at(key);
  auto& name = c.spec.options.name;
  switch (c.state) {
  case child_state::starting:
  case child_state::running:
    return make_error(errc::child_running, s_.path(),
                      "child '" + name + "' is running");
  case child_state::restarting:
    return make_error(errc::child_restarting, s_.path(),
                      "child '" + name + "' is restarting");
  case child_state::stopped:
    break;
  }
  return {};
}

void supervisor_impl::settle_up_waiters(child_entry& c,
                                        caf::expected<caf::actor> x) {
  auto waiters = std::move(c.up_waiters);
  c.up_waiters.clear();
  for (auto& done : waiters)
    done(x);
}

void supervisor_impl::refuse_all(const caf::error& why) {
  for (auto& [key, c] : children_) {
    settle_up_waiters(c, why);
    auto waiters = std::move(c.stop_waiters);
    c.stop_waiters.clear();
    for (auto& done : waiters)
      done(caf::unit);
  }
}

caf::message_handler supervisor_impl::admin_handler() {
  auto self = shared_from_this();
  return {
    [self](start_child_atom, child_spec& spec) {
      self->answer<caf::actor>([&](reply<caf::actor> done) {
        self->start_child(std::move(spec), std::move(done));
      });
    },
    [self](terminate_child_atom, std::string& name) {
      self->answer<void>([&](reply<void> done) {
        self->terminate_child(name, std::move(done));
      });
    },
    [self](restart_child_atom, std::string& name) {
      self->answer<caf::actor>([&](reply<caf::actor> done) {
        self->restart_child(name, std::move(done));
      });
    },
    [self](delete_child_atom, std::string& name) {
      self->answer<void>(
        [&](reply<void> done) { self->delete_child(name, std::move(done)); });
    },
    [self](which_children_atom) {
      self->answer<std::vector<child_info>>(
        [&](reply<std::vector<child_info>> done) {
          self->which_children(std::move(done));
        });
    },
    [self](count_children_atom) {
      self->answer<supervisor_counts>([&](reply<supervisor_counts> done) {
        self->count_children(std::move(done));
      });
    },
    [self](supervisor_ref_atom) { return self->ref(); },
  };
}

} // namespace scaf::supervision
