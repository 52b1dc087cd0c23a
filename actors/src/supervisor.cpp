// scaf::supervisor: OTP's supervisor as a scope, built on scaf's public API
// only (a check in tests/ keeps it that way). The scope's children are the
// supervised children; the handlers installed with `scope::on_child_done` and
// `scope::on_cancel` are the restart strategy and the ordered shutdown.
#include "scaf/supervisor.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/error.hpp>

#include "scaf/errc.hpp"
#include "scaf/logger.hpp"
#include "scaf/names.hpp"
#include "scaf/scope.hpp"

namespace scaf {

namespace {

long long to_ms(caf::timespan x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
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
  std::set<std::string> names;
  for (auto& c : children) {
    auto& name = c.options.name;
    if (name.empty())
      return invalid("every child needs a name");
    if (auto err = check_name(name, path))
      return err;
    if (!names.insert(name).second)
      return invalid("two children are named '" + name + "'");
    if (!c.start)
      return invalid("child '" + name + "' has no task");
    if (c.options.shutdown < caf::timespan{0})
      return invalid("child '" + name + "' has a negative shutdown time");
  }
  return {};
}

/// The state of one supervisor, owned by the handlers it installs in its
/// scope, so that it lives exactly as long as the scope's state.
class supervisor_impl : public std::enable_shared_from_this<supervisor_impl> {
public:
  supervisor_impl(scope& s, supervisor_options opts,
                  std::vector<child_spec> specs)
    : s_(s), options_(std::move(opts)) {
    for (auto& spec : specs)
      children_.push_back(child_entry{std::move(spec), {}, 0, false});
  }

  void start() {
    auto self = shared_from_this();
    // It runs until cancelled, like OTP's, even when no child is left.
    s_.keep_open();
    // Up once all children are up (OTP: start_link returns then).
    s_.defer_started();
    s_.on_child_done([self](const child_exit& x) { self->on_child_exit(x); });
    // Children are stopped one at a time, in reverse start order.
    s_.on_cancel([self](const caf::error& why) { self->shut_down(why); });
    for (size_t i = 0; i < children_.size(); ++i)
      to_start_.push_back(i);
    start_next();
  }

private:
  struct child_entry {
    child_spec spec;
    /// The running start of the child; empty while it is not running.
    caf::actor actor;
    /// How often the child was started.
    uint64_t starts = 0;
    /// A temporary child that ended.
    bool gone = false;
  };

  struct exit_record {
    size_t index;
    /// Which start of the child ended.
    uint64_t start;
    caf::error reason;
    bool failed;
  };

  void start_child(size_t i) {
    auto& c = children_[i];
    auto n = c.starts++;
    spawn_options opts;
    opts.name = c.spec.options.name;
    opts.grace = c.spec.options.shutdown;
    auto up = s_.start(opts, c.spec.start);
    c.actor = up.task();
    if (!c.actor && s_.is_closed())
      return; // the scope is closing: nothing starts any more
    starting_ = i;
    if (!c.actor) {
      // The spawn failed (its arguments threw when copied): like OTP's
      // failing start function, a failure of a child that never came up.
      ended_before_up(i, n, up.get().error(), true);
      return;
    }
    up.then(s_.self(), [self = shared_from_this(), i,
                        n](const caf::expected<void>& result) {
      if (result)
        self->child_up(i, n);
    });
  }

  void child_up(size_t i, uint64_t start) {
    if (starting_ != i || children_[i].starts != start + 1)
      return;
    starting_.reset();
    start_next();
  }

  void on_child_exit(const child_exit& x) {
    auto pos = std::find_if(
      children_.begin(), children_.end(),
      [&](const child_entry& c) { return c.actor && c.actor.id() == x.id; });
    if (pos == children_.end())
      return;
    auto i = static_cast<size_t>(pos - children_.begin());
    auto& c = *pos;
    auto start = c.starts - 1;
    auto failed =
      x.status == node_status::failed || x.status == node_status::timed_out;
    c.actor = caf::actor{};
    if (starting_ == i) {
      ended_before_up(i, start, x.reason, failed);
      return;
    }
    if (auto stop = std::find(stopping_.begin(), stopping_.end(), i);
        stop != stopping_.end()) {
      // Being stopped (or ended on its own while waiting to be stopped).
      auto was_first = stop == stopping_.begin();
      stopping_.erase(stop);
      if (was_first)
        stop_next();
      return;
    }
    if (shutting_down_)
      return;
    if (busy()) {
      pending_.push_back({i, start, x.reason, failed});
      return;
    }
    handle_exit(i, x.reason, failed);
  }

  /// The child `i` (its start `start`) ended, or could not be spawned,
  /// while the supervisor waited for it to come up.
  void ended_before_up(size_t i, uint64_t start, const caf::error& reason,
                       bool failed) {
    starting_.reset();
    if (options_.strategy == restart_strategy::one_for_one) {
      // The others do not depend on it: start them, then handle it.
      pending_.push_back({i, start, reason, failed});
      start_next();
      return;
    }
    // The children after it depend on it: do not start them now;
    // restarting it restarts them (OTP's try_again).
    auto rest = std::move(to_start_);
    to_start_.clear();
    handle_exit(i, reason, failed);
    if (!busy() && !shutting_down_) {
      // Not restarted (temporary, or transient and fine): go on.
      to_start_ = std::move(rest);
      start_next();
    }
  }

  void handle_exit(size_t i, const caf::error& reason, bool failed) {
    auto& c = children_[i];
    auto type = c.spec.options.restart;
    if (type == restart_type::temporary ||
        (type == restart_type::transient && !failed)) {
      c.gone = type == restart_type::temporary;
      return;
    }
    if (!restart_allowed()) {
      auto detail =
        c.spec.options.name + " ended with " +
        (reason ? render(reason) : std::string{"success"}) +
        "; restarting it would make " + std::to_string(restarts_.size()) +
        " restarts within " + std::to_string(to_ms(options_.period)) +
        " ms, more than the intensity " + std::to_string(options_.intensity);
      auto err = make_error(errc::restart_limit, s_.path(), std::move(detail));
      logger().warn("{}: giving up: {}", s_.path(), render(err));
      shut_down(std::move(err));
      return;
    }
    logger().info("{}/{}: restarting ({} of at most {} within {} ms): ended "
                  "with {}",
                  s_.path(), c.spec.options.name, restarts_.size(),
                  options_.intensity, to_ms(options_.period),
                  reason ? render(reason) : std::string{"success"});
    std::vector<size_t> to_stop;
    std::vector<size_t> to_start;
    // The children the strategy restarts: [first, last).
    size_t first = 0;
    size_t last = children_.size();
    switch (options_.strategy) {
    case restart_strategy::one_for_one:
      first = i;
      last = i + 1;
      break;
    case restart_strategy::rest_for_one:
      first = i;
      break;
    case restart_strategy::one_for_all:
      break;
    }
    for (auto j = first; j < last; ++j) {
      auto& other = children_[j];
      if (j != i && other.actor)
        to_stop.push_back(j);
      if ((j == i || other.spec.options.restart != restart_type::temporary) &&
          !other.gone)
        to_start.push_back(j);
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

  caf::timespan next_backoff() const {
    if (options_.backoff == caf::timespan{0} || restarts_.empty())
      return caf::timespan{0};
    auto delay = options_.backoff;
    for (size_t k = 1; k < restarts_.size() && delay < options_.max_backoff;
         ++k)
      delay =
        delay > options_.max_backoff / 2 ? options_.max_backoff : delay * 2;
    return std::min(delay, options_.max_backoff);
  }

  void stop_then(std::vector<size_t> to_stop, std::vector<size_t> to_start) {
    // Reverse start order.
    std::sort(to_stop.begin(), to_stop.end(), std::greater<>{});
    stopping_.assign(to_stop.begin(), to_stop.end());
    to_start_.assign(to_start.begin(), to_start.end());
    stop_next();
  }

  void stop_next() {
    if (stopping_.empty()) {
      if (shutting_down_) {
        // A give-up fails the scope once every child is stopped; a cancel
        // ends it by itself.
        if (final_reason_ && !is(final_reason_, errc::cancelled))
          s_.fail(final_reason_);
        return;
      }
      if (auto delay = next_backoff(); delay > caf::timespan{0}) {
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
    auto& c = children_[stopping_.front()];
    if (!c.actor) {
      stopping_.pop_front();
      stop_next();
      return;
    }
    if (c.spec.options.restart == restart_type::temporary)
      c.gone = true;
    if (c.spec.options.shutdown == caf::timespan{0}) {
      s_.abort_child(c.actor);
      return;
    }
    auto why =
      shutting_down_
        ? (is(final_reason_, errc::cancelled)
             ? final_reason_
             : make_error(errc::cancelled, s_.path(), render(final_reason_)))
        : make_error(errc::cancelled, s_.path(), "restarting its children");
    s_.cancel_child(c.actor, std::move(why));
  }

  void start_next() {
    while (!to_start_.empty()) {
      auto i = to_start_.front();
      to_start_.pop_front();
      if (children_[i].gone || children_[i].actor)
        continue;
      start_child(i);
      return;
    }
    s_.signal_started(); // no-op after the first sequence
    after_sequence();
  }

  void after_sequence() {
    while (!busy() && !shutting_down_ && !pending_.empty()) {
      auto next = std::move(pending_.front());
      pending_.pop_front();
      auto& c = children_[next.index];
      // Started again by the restart that just finished: that exit is handled.
      if (c.actor || c.starts != next.start + 1)
        continue;
      handle_exit(next.index, next.reason, next.failed);
    }
  }

  void shut_down(caf::error reason) {
    if (shutting_down_)
      return;
    shutting_down_ = true;
    final_reason_ = std::move(reason);
    waiting_backoff_ = false;
    starting_.reset();
    pending_.clear();
    to_start_.clear();
    stopping_.clear();
    for (auto i = children_.size(); i-- > 0;)
      if (children_[i].actor)
        stopping_.push_back(i);
    stop_next();
  }

  bool busy() const noexcept {
    return !stopping_.empty() || waiting_backoff_ || starting_ ||
           !to_start_.empty();
  }

  scope& s_;
  supervisor_options options_;
  std::vector<child_entry> children_;
  /// Restart times within the current period.
  std::deque<caf::actor_clock::time_point> restarts_;
  /// Children being stopped, in order; the first one has been told.
  std::deque<size_t> stopping_;
  /// Children to start, one after another, once `stopping_` is done and the
  /// backoff passed.
  std::deque<size_t> to_start_;
  /// The child started last, until it is up.
  std::optional<size_t> starting_;
  /// Exits of other children while a restart was in progress.
  std::deque<exit_record> pending_;
  uint64_t generation_ = 0;
  bool waiting_backoff_ = false;
  /// Cancelled or given up: no more restarts; the scope ends once every
  /// child is stopped.
  bool shutting_down_ = false;
  caf::error final_reason_;
};

} // namespace

child_factory supervisor(supervisor_options opts,
                         std::vector<child_spec> children) {
  // Its grace period bounds its ordered shutdown, in which each child gets
  // its own shutdown time, one after another.
  scope_options scope_opts;
  scope_opts.grace = caf::timespan{0};
  auto& grace = *scope_opts.grace;
  for (auto& c : children) {
    // Saturating: a shutdown of caf::timespan::max() waits forever.
    auto d = std::max(c.options.shutdown, caf::timespan{0});
    grace = d > caf::timespan::max() - grace ? caf::timespan::max() : grace + d;
  }
  return scope_factory(
    std::move(scope_opts),
    [opts = std::move(opts), children = std::move(children)](scope& s) {
      if (auto err = check(opts, children, s.path())) {
        s.fail(std::move(err));
        return;
      }
      std::make_shared<supervisor_impl>(s, opts, children)->start();
    });
}

} // namespace scaf
