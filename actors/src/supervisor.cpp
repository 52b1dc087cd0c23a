// scaf::supervisor: OTP's supervisor as a scope, built on scaf's public API
// only (a check in tests/ keeps it that way). The scope's children are the
// supervised children; the handlers installed with `scope::on_child_done`,
// `scope::on_cancel` and `scope::on_message` are the restart strategy, the
// ordered shutdown and the admin calls of `supervisor_ref`.
//
// One thing happens at a time, as in OTP's gen_server loop: a start sequence
// (children started one after another, each once the one before is up) or a
// stop sequence (one at a time, in reverse start order), possibly followed
// by a backoff. Exits and admin calls that arrive meanwhile wait their turn.
#include "scaf/supervisor.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/error.hpp>
#include <caf/message_handler.hpp>
#include <caf/scoped_actor.hpp>

#include "scaf/atoms.hpp"
#include "scaf/errc.hpp"
#include "scaf/logger.hpp"
#include "scaf/names.hpp"
#include "scaf/promise.hpp"
#include "scaf/scope.hpp"
#include "scaf/scope_ref.hpp"
#include "scaf/supervisor_ref.hpp"

namespace scaf {

namespace {

class supervisor_impl;

} // namespace

/// What a `supervisor_ref` holds: the supervisor's scope, and its state,
/// which only that scope's context touches.
class supervisor_ref::link {
public:
  scope_ref scope;
  std::weak_ptr<supervisor_impl> impl;
};

namespace {

long long to_ms(caf::timespan x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
}

std::string render_end(const caf::error& reason) {
  return reason ? render(reason) : std::string{"success"};
}

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

/// Where the answer to an admin call goes: a `supervisor_ref`'s handle or a
/// CAF response promise. Called once, in the supervisor's context.
template <class T>
using reply = std::function<void(caf::expected<T>)>;

/// Sums durations, saturating: a shutdown of `caf::timespan::max()` waits
/// forever.
caf::timespan saturating_sum(caf::timespan x, caf::timespan y) {
  return y > caf::timespan::max() - x ? caf::timespan::max() : x + y;
}

/// The state of one supervisor, owned by the handlers it installs in its
/// scope, so that it lives exactly as long as the scope's state.
class supervisor_impl : public std::enable_shared_from_this<supervisor_impl> {
public:
  supervisor_impl(scope& s, supervisor_options opts,
                  std::vector<child_spec> specs)
    : s_(s), path_(s.path()), options_(std::move(opts)) {
    for (auto& spec : specs)
      add(std::move(spec));
  }

  ~supervisor_impl() {
    // The scope is gone (`s_` with it): nobody waits for an answer that
    // cannot come.
    refuse_all(closed_error());
  }

  void start() {
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

  // -- admin calls (supervisor_ref and messages) -----------------------------

  void start_child(child_spec spec, reply<caf::actor> done) {
    // Refusals are answered at once; the start waits for its turn.
    if (auto err = refuse_start(spec))
      return done(err);
    when_idle([this, spec = std::move(spec), done = std::move(done)] {
      if (auto err = refuse_start(spec))
        return done(err);
      grow_grace(spec.options.shutdown);
      auto key = add(std::move(spec));
      children_.at(key).fresh = true;
      start_by_call(key, std::move(done));
    });
  }

  void terminate_child(const std::string& name, reply<void> done) {
    auto key = find(name);
    if (!key)
      return done(no_such_child(name));
    auto& c = children_.at(*key);
    if (!c.actor) {
      // Stopped, or waiting for its restart: it stays stopped.
      c.terminated = true;
      std::erase(to_start_, *key);
      stopped(*key);
      return done(caf::unit);
    }
    c.stop_waiters.push_back(std::move(done));
    if (shutting_down_)
      return; // the shutdown under way stops it
    when_idle([this, name] {
      // Its turn: unless it has stopped meanwhile (then it was answered).
      auto key = find(name);
      if (!key)
        return;
      auto& c = children_.at(*key);
      if (c.stop_waiters.empty())
        return;
      c.terminated = true;
      if (!c.actor)
        return stopped(*key);
      stop_then({*key}, {});
    });
  }

  void restart_child(const std::string& name, reply<caf::actor> done) {
    if (auto err = refuse_restart(name))
      return done(err);
    when_idle([this, name, done = std::move(done)] {
      if (auto err = refuse_restart(name))
        return done(err);
      start_by_call(*find(name), std::move(done));
    });
  }

  void delete_child(const std::string& name, reply<void> done) {
    // No sequence needed: answered at once, between steps of one.
    auto key = find(name);
    if (!key)
      return done(no_such_child(name));
    if (auto err = refuse_unless_stopped(*key))
      return done(err);
    forget(*key);
    done(caf::unit);
  }

  std::vector<child_info> which_children() const {
    std::vector<child_info> result;
    result.reserve(children_.size());
    for (auto& [key, c] : children_)
      result.push_back({c.spec.options.name, c.state, c.actor, c.restarts,
                        c.spec.options.restart, c.spec.options.significant,
                        c.spec.start.spawns_scope()});
    return result;
  }

  supervisor_counts count_children() const {
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

  supervisor_ref ref() const {
    return supervisor_ref{link_};
  }

private:
  enum class final_action { cancelled, fail, complete };

  struct child_entry {
    child_spec spec;
    child_state state = child_state::stopped;
    /// The running start of the child; empty while it is not running.
    caf::actor actor;
    /// How often the child was started.
    uint64_t starts = 0;
    /// How often it was started again after its first start.
    size_t restarts = 0;
    /// The delay before its next automatic restart, if backing off.
    caf::timespan next_backoff{0};
    caf::actor_clock::time_point started_at;
    /// Admin calls waiting for this child to be up, or to have stopped.
    std::vector<reply<caf::actor>> up_waiters;
    std::vector<reply<void>> stop_waiters;
    /// The running start was asked for by `start_child`/`restart_child`:
    /// a failure before it is up goes to the caller, not to a restart.
    bool by_call = false;
    /// Added by `start_child` and never up: a failed start forgets it.
    bool fresh = false;
    /// Stopped with `terminate_child`: its end restarts nothing.
    bool terminated = false;
    /// A temporary child stopped for a sibling's restart: forgotten once
    /// it has stopped.
    bool drop_when_stopped = false;
  };

  struct exit_record {
    uint64_t key;
    /// Which start of the child ended.
    uint64_t start;
    caf::error reason;
    bool failed;
  };

  // -- children ---------------------------------------------------------------

  uint64_t add(child_spec spec) {
    auto key = next_key_++;
    names_.emplace(spec.options.name, key);
    child_entry entry;
    entry.spec = std::move(spec);
    entry.next_backoff = options_.backoff;
    children_.emplace(key, std::move(entry));
    return key;
  }

  void forget(uint64_t key) {
    auto i = children_.find(key);
    if (i == children_.end())
      return;
    names_.erase(i->second.spec.options.name);
    children_.erase(i);
  }

  std::optional<uint64_t> find(const std::string& name) const {
    if (auto i = names_.find(name); i != names_.end())
      return i->second;
    return std::nullopt;
  }

  child_entry* entry(uint64_t key) {
    auto i = children_.find(key);
    return i == children_.end() ? nullptr : &i->second;
  }

  /// The child `key` no longer runs and will not start again by itself.
  void stopped(uint64_t key) {
    auto& c = children_.at(key);
    c.state = child_state::stopped;
    auto waiters = std::move(c.stop_waiters);
    c.stop_waiters.clear();
    if (c.spec.options.restart == restart_type::temporary ||
        c.drop_when_stopped)
      forget(key);
    for (auto& done : waiters)
      done(caf::unit);
  }

  void grow_grace(caf::timespan shutdown) {
    grace_ = saturating_sum(grace_, std::max(shutdown, caf::timespan{0}));
    s_.set_grace(grace_);
  }

  // -- starting ---------------------------------------------------------------

  void start_by_call(uint64_t key, reply<caf::actor> done) {
    auto& c = children_.at(key);
    c.terminated = false;
    c.by_call = true;
    c.up_waiters.push_back(std::move(done));
    to_start_.push_back(key);
    start_next();
  }

  void start_child_now(uint64_t key) {
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

  void child_up(uint64_t key, uint64_t start) {
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

  void start_next() {
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

  /// The child `key` ended, or could not be spawned, while the supervisor
  /// waited for it to come up.
  void ended_before_up(uint64_t key, const caf::error& reason, bool failed) {
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
      logger().warn("{}/{}: failed to start: {}", s_.path(),
                    c.spec.options.name, render(reason));
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

  // -- exits
  // --------------------------------------------------------------------

  void on_child_exit(const child_exit& x) {
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

  void handle_exit(uint64_t key, const caf::error& reason, bool failed) {
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
        " restarts within " + std::to_string(to_ms(options_.period)) +
        " ms, more than the intensity " + std::to_string(options_.intensity);
      auto err = make_error(errc::restart_limit, s_.path(), std::move(detail));
      logger().warn("{}: giving up: {}", s_.path(), render(err));
      shut_down(std::move(err), final_action::fail);
      return;
    }
    logger().info("{}/{}: restarting ({} of at most {} within {} ms): ended "
                  "with {}",
                  s_.path(), c.spec.options.name, restarts_.size(),
                  options_.intensity, to_ms(options_.period),
                  render_end(reason));
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

  bool restart_allowed() {
    auto now = s_.self()->clock().now();
    while (!restarts_.empty() && now - restarts_.front() >= options_.period)
      restarts_.pop_front();
    restarts_.push_back(now);
    return restarts_.size() <= options_.intensity;
  }

  /// The delay before restarting `c`, and the one after that.
  caf::timespan backoff_for(child_entry& c) {
    if (options_.backoff == caf::timespan{0})
      return caf::timespan{0};
    auto ran = s_.self()->clock().now() - c.started_at;
    if (ran >= options_.backoff_reset.value_or(options_.period))
      c.next_backoff = options_.backoff;
    auto delay = c.next_backoff;
    c.next_backoff =
      delay > options_.max_backoff / 2 ? options_.max_backoff : delay * 2;
    if (options_.backoff_jitter > 0.0) {
      std::uniform_real_distribution<double> extra{0.0,
                                                   options_.backoff_jitter};
      delay +=
        std::chrono::duration_cast<caf::timespan>(delay * extra(random_));
    }
    return delay;
  }

  void check_auto_shutdown(const std::string& name, const caf::error& reason) {
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

  // -- stopping
  // -----------------------------------------------------------------

  void stop_then(std::vector<uint64_t> to_stop,
                 std::vector<uint64_t> to_start) {
    // Reverse start order.
    std::sort(to_stop.begin(), to_stop.end(), std::greater<>{});
    stopping_.assign(to_stop.begin(), to_stop.end());
    to_start_.assign(to_start.begin(), to_start.end());
    stop_next();
  }

  void stop_next() {
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
        return;
      }
      start_next();
      return;
    }
    auto& c = children_.at(stopping_.front());
    settle_up_waiters(
      c, make_error(errc::cancelled, s_.path(),
                    c.spec.options.name + " was stopped before it was up"));
    if (c.spec.options.shutdown == caf::timespan{0}) {
      s_.abort_child(c.actor);
      return;
    }
    s_.cancel_child(c.actor, stop_reason(c));
  }

  caf::error stop_reason(const child_entry& c) const {
    if (shutting_down_)
      return is(final_reason_, errc::cancelled)
               ? final_reason_
               : make_error(errc::cancelled, s_.path(), render(final_reason_));
    if (c.terminated)
      return make_error(errc::cancelled, s_.path(), "terminate_child");
    return make_error(errc::cancelled, s_.path(), "restarting its children");
  }

  /// Stops every child in reverse start order, then ends the supervisor as
  /// `action` says: cancelled (it was cancelled), failed with `reason`, or
  /// done (auto shutdown).
  void shut_down(caf::error reason, final_action action) {
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
    // Calls that waited for their turn get theirs now, and refuse.
    auto waiting = std::move(deferred_);
    deferred_.clear();
    for (auto& call : waiting)
      call();
    stop_next();
  }

  void finish() {
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

  // -- sequencing
  // ---------------------------------------------------------------

  /// Whether a start or stop sequence (or a backoff) is under way.
  bool busy() const noexcept {
    return !stopping_.empty() || waiting_backoff_ || starting_ ||
           !to_start_.empty();
  }

  /// Runs `call` now, or once the sequence under way is done.
  void when_idle(std::function<void()> call) {
    if (busy() && !shutting_down_)
      deferred_.push_back(std::move(call));
    else
      call();
  }

  void after_sequence() {
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
    while (!busy() && !shutting_down_ && !deferred_.empty()) {
      auto call = std::move(deferred_.front());
      deferred_.pop_front();
      call();
    }
  }

  // -- answers
  // --------------------------------------------------------------------

  caf::error closed_error() const {
    return make_error(errc::scope_closed, path_,
                      "the supervisor is shutting down");
  }

  caf::error no_such_child(const std::string& name) const {
    return make_error(errc::no_such_child, s_.path(),
                      "no child is named '" + name + "'");
  }

  caf::error refuse_if_closing() const {
    return shutting_down_ || s_.is_closed() ? closed_error() : caf::error{};
  }

  caf::error refuse_start(const child_spec& spec) const {
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

  caf::error refuse_restart(const std::string& name) const {
    if (auto err = refuse_if_closing())
      return err;
    auto key = find(name);
    if (!key)
      return no_such_child(name);
    return refuse_unless_stopped(*key);
  }

  caf::error refuse_unless_stopped(uint64_t key) const {
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

  void settle_up_waiters(child_entry& c, caf::expected<caf::actor> x) {
    auto waiters = std::move(c.up_waiters);
    c.up_waiters.clear();
    for (auto& done : waiters)
      done(x);
  }

  void refuse_all(const caf::error& why) {
    for (auto& [key, c] : children_) {
      settle_up_waiters(c, why);
      auto waiters = std::move(c.stop_waiters);
      c.stop_waiters.clear();
      for (auto& done : waiters)
        done(caf::unit);
    }
  }

  /// Answers a CAF request with what `call` produces.
  template <class T, class Call>
  void answer(Call call) {
    auto rp = s_.self()->make_response_promise();
    call([rp](caf::expected<T> x) mutable {
      if (!x)
        rp.deliver(std::move(x.error()));
      else if constexpr (std::is_void_v<T>)
        rp.deliver(caf::unit);
      else
        rp.deliver(std::move(*x));
    });
  }

  caf::message_handler admin_handler() {
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
      [self](which_children_atom) { return self->which_children(); },
      [self](count_children_atom) { return self->count_children(); },
      [self](supervisor_ref_atom) { return self->ref(); },
    };
  }

  scope& s_;
  /// The supervisor's path, for errors made once `s_` is gone.
  std::string path_;
  supervisor_options options_;
  std::shared_ptr<supervisor_ref::link> link_;
  /// Every child the supervisor knows, by key: the order they were added,
  /// which is their start order.
  std::map<uint64_t, child_entry> children_;
  std::unordered_map<std::string, uint64_t> names_;
  std::unordered_map<caf::actor_id, uint64_t> actors_;
  uint64_t next_key_ = 0;
  /// The sum of the children's shutdown times: the scope's grace period.
  caf::timespan grace_{0};
  /// Restart times within the current period.
  std::deque<caf::actor_clock::time_point> restarts_;
  /// Children being stopped, in order; the first one has been told.
  std::deque<uint64_t> stopping_;
  /// Children to start, one after another, once `stopping_` is done and the
  /// backoff passed.
  std::deque<uint64_t> to_start_;
  /// The child started last, until it is up.
  std::optional<uint64_t> starting_;
  /// Exits of other children while a sequence was under way.
  std::deque<exit_record> pending_;
  /// Admin calls that wait for the sequence under way.
  std::deque<std::function<void()>> deferred_;
  /// The backoff before the starts of the restart under way.
  caf::timespan backoff_{0};
  std::minstd_rand random_{std::random_device{}()};
  uint64_t generation_ = 0;
  bool waiting_backoff_ = false;
  /// Until the first start sequence is done: a failure there fails the
  /// supervisor's start.
  bool initial_ = true;
  /// Cancelled, given up or shutting down by itself: no more restarts; the
  /// scope ends once every child is stopped.
  bool shutting_down_ = false;
  final_action final_action_ = final_action::cancelled;
  caf::error final_reason_;

public:
  /// The grace period of a supervisor with these children.
  static caf::timespan grace_of(const std::vector<child_spec>& children) {
    caf::timespan result{0};
    for (auto& c : children)
      result =
        saturating_sum(result, std::max(c.options.shutdown, caf::timespan{0}));
    return result;
  }

  void set_initial_grace(caf::timespan x) {
    grace_ = x;
  }
};

} // namespace

// -- supervisor_ref
// -------------------------------------------------------------

const char* to_string(child_state x) {
  switch (x) {
  case child_state::starting:
    return "starting";
  case child_state::running:
    return "running";
  case child_state::restarting:
    return "restarting";
  case child_state::stopped:
    return "stopped";
  }
  return "<unknown scaf::child_state>";
}

supervisor_ref::supervisor_ref(std::shared_ptr<supervisor_ref::link> x)
  : link_(std::move(x)) {
  // nop
}

caf::expected<supervisor_ref> supervisor_ref::of(caf::actor_system& sys,
                                                 const caf::actor& supervisor,
                                                 caf::timespan timeout) {
  // The checks (scheduler thread, gone, no scope) are those of a scope.
  auto scope = scope_ref::of(sys, supervisor, timeout);
  if (!scope)
    return std::move(scope.error());
  caf::scoped_actor self{sys};
  caf::expected<supervisor_ref> result{
    make_error(errc::invalid_argument, scope->path(), "no supervisor")};
  self->request(supervisor, timeout, supervisor_ref_atom::value)
    .receive([&](supervisor_ref& x) { result = std::move(x); },
             [&](caf::error& err) {
               if (err == caf::sec::request_receiver_down)
                 result = make_error(errc::scope_closed, scope->path(),
                                     "the supervisor is gone");
             });
  return result;
}

namespace {

/// Runs `call(impl, reply)` in the supervisor's context; the handle
/// resolves with the reply.
template <class T, class Call>
handle<T> call_supervisor(const std::shared_ptr<supervisor_ref::link>& link,
                          Call call) {
  if (!link) {
    promise<T> p;
    p.resolve(make_error(errc::invalid_argument, "",
                         "a supervisor_ref that refers to no supervisor"));
    return p.get_handle();
  }
  return link->scope.call([weak = link->impl, call](scope& s) {
    promise<T> p;
    if (auto impl = weak.lock())
      call(*impl, [p](caf::expected<T> x) { p.resolve(std::move(x)); });
    else
      p.resolve(make_error(errc::scope_closed, s.path(),
                           "the supervisor is shutting down"));
    return p.get_handle();
  });
}

} // namespace

handle<caf::actor> supervisor_ref::start_child(child_spec spec) const {
  return call_supervisor<caf::actor>(
    link_, [spec](supervisor_impl& impl, reply<caf::actor> done) {
      impl.start_child(spec, std::move(done));
    });
}

handle<void> supervisor_ref::terminate_child(std::string name) const {
  return call_supervisor<void>(link_,
                               [name](supervisor_impl& impl, reply<void> done) {
                                 impl.terminate_child(name, std::move(done));
                               });
}

handle<caf::actor> supervisor_ref::restart_child(std::string name) const {
  return call_supervisor<caf::actor>(
    link_, [name](supervisor_impl& impl, reply<caf::actor> done) {
      impl.restart_child(name, std::move(done));
    });
}

handle<void> supervisor_ref::delete_child(std::string name) const {
  return call_supervisor<void>(link_,
                               [name](supervisor_impl& impl, reply<void> done) {
                                 impl.delete_child(name, std::move(done));
                               });
}

handle<std::vector<child_info>> supervisor_ref::which_children() const {
  return call_supervisor<std::vector<child_info>>(
    link_, [](supervisor_impl& impl, reply<std::vector<child_info>> done) {
      done(impl.which_children());
    });
}

handle<supervisor_counts> supervisor_ref::count_children() const {
  return call_supervisor<supervisor_counts>(
    link_, [](supervisor_impl& impl, reply<supervisor_counts> done) {
      done(impl.count_children());
    });
}

scope_ref supervisor_ref::scope() const {
  return link_ ? link_->scope : scope_ref{};
}

// -- supervisor
// -------------------------------------------------------------------

child_factory supervisor(supervisor_options opts,
                         std::vector<child_spec> children) {
  // Its grace period bounds its ordered shutdown, in which each child gets
  // its own shutdown time, one after another.
  scope_options scope_opts;
  scope_opts.grace = supervisor_impl::grace_of(children);
  auto grace = *scope_opts.grace;
  return scope_factory(
    std::move(scope_opts),
    [opts = std::move(opts), children = std::move(children), grace](scope& s) {
      if (auto err = check(opts, children, s.path())) {
        s.fail(std::move(err));
        return;
      }
      auto impl = std::make_shared<supervisor_impl>(s, opts, children);
      impl->set_initial_grace(grace);
      impl->start();
    });
}

} // namespace scaf
