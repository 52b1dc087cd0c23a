// How scaf::supervisor answers a child's end (see supervisor_impl.hpp): a
// start that failed or was declined, the restart strategy and intensity, the
// backoff, and auto shutdown.
#include "supervisor_impl.hpp"

#include <algorithm>
#include <utility>

#include "scaf/errc.hpp"
#include "scaf/logger.hpp"

namespace scaf::supervision {

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
      if (forgotten_when_stopped(c))
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
    if (forgotten_when_stopped(c))
      forget(key);
    start_next();
    return;
  }
  if (initial_) {
    // The supervisor's own start fails, naming the child (OTP:
    // {shutdown, {failed_to_start_child, Id, Reason}}).
    auto err = make_error(errc::start_failed, s_.path(),
                          "child '" + c.spec.options.name +
                            "' failed to start: " + render(reason),
                          reason);
    logger().warn("{}: {}", s_.path(), render(err));
    shut_down(std::move(err), final_action::fail);
    return;
  }
  if (options_.strategy == restart_strategy::one_for_one) {
    // The others do not depend on it: start them, then handle it.
    pending_.push_back({key, c.starts, reason, true, true});
    start_next();
    return;
  }
  // The children after it depend on it: do not start them now;
  // restarting it restarts them (OTP's try_again).
  auto rest = std::move(to_start_);
  to_start_.clear();
  handle_exit(key, reason, true, true);
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
  if (!children_.at(key).actor || children_.at(key).actor.id() != x.id)
    return;
  if (starting_ == key && starting_up_.ready())
    if (auto up = starting_up_.get()) {
      // It came up and ended before the continuation saying it is up got
      // here (it was up when that continuation was attached, or it ran on
      // another thread): up first, as it happened, then ended.
      child_up(key, children_.at(key).starts, std::move(*up));
    }
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
      c.state = child_state::stopped; // until the group restart starts it
    if (was_first)
      stop_next();
    return;
  }
  if (shutting_down_) {
    stopped(key);
    if (pool_ && --draining_ == 0)
      finish();
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
                                  bool failed, bool before_up) {
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
  // (The check first: rendering the path and the reason is most of what a
  // restart costs the supervisor.)
  if (logger().should_log(spdlog::level::info))
    logger().info("{}/{}: restarting ({} of at most {} within {} ms): ended "
                  "with {}",
                  s_.path(), c.spec.options.name, restarts_.size(),
                  options_.intensity, to_ms(options_.period),
                  render_end(reason));
  backoff_ = backoff_for(c);
  c.terminated = false;
  if (options_.strategy == restart_strategy::one_for_one) {
    // Nothing to stop, and no one else to wait for: the child waits for its
    // own backoff while the others go on (restarts and calls alike).
    if (auto delay = std::exchange(backoff_, caf::timespan{0});
        delay > caf::timespan{0} || before_up) {
      restart_after(key, delay);
      return;
    }
    to_start_.push_back(key);
    start_next();
    return;
  }
  retry_later_ = before_up;
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
    // The one that ended waits for its restart; the others are stopped
    // until their turn comes (OTP lists them `undefined`).
    if (k == key)
      other.state = child_state::restarting;
    else if (!other.actor)
      other.state = child_state::stopped;
    to_start.push_back(k);
  }
  stop_then(std::move(to_stop), std::move(to_start));
}

void supervisor_impl::restart_after(uint64_t key, caf::timespan delay) {
  auto& c = children_.at(key);
  c.state = child_state::restarting;
  auto gen = ++c.backoffs;
  if (delay == caf::timespan{0}) {
    // A retry: the calls already in the mailbox go first.
    auto me = caf::actor_cast<caf::actor>(s_.self());
    s_.self()->send(me, retry_child_atom::value, key, gen);
    return;
  }
  logger().info("{}/{}: backing off {} ms before restarting it", s_.path(),
                c.spec.options.name, to_ms(delay));
  s_.after(delay, [self = shared_from_this(), key, gen] {
    self->due_.push_back({key, gen});
    self->after_sequence();
  });
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

} // namespace scaf::supervision
