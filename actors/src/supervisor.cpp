#include "scaf/supervisor.hpp"

#include <algorithm>
#include <set>
#include <string>

#include <caf/actor_cast.hpp>
#include <caf/exit_reason.hpp>

#include "scaf/atoms.hpp"
#include "scaf/errc.hpp"
#include "scaf/scope.hpp"

namespace scaf::detail {

namespace {

long long to_ms(caf::timespan x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
}

caf::error check(const supervisor_options& opts,
                 const std::vector<child_spec>& children) {
  if (opts.period <= caf::timespan{0})
    return make_error(errc::invalid_argument, "",
                      "the restart period must be positive");
  if (opts.backoff < caf::timespan{0} || opts.max_backoff < opts.backoff)
    return make_error(errc::invalid_argument, "",
                      "the backoff must be at least 0 and at most max_backoff");
  std::set<std::string> names;
  for (auto& c : children) {
    auto& name = c.options.name;
    if (name.empty() || name.find('/') != std::string::npos)
      return make_error(errc::invalid_argument, "",
                        "every child needs a name without '/'");
    if (!names.insert(name).second)
      return make_error(errc::invalid_argument, "",
                        "two children are named '" + name + "'");
    if (!c.start)
      return make_error(errc::invalid_argument, "",
                        "child '" + name + "' has no task");
    if (c.options.shutdown < caf::timespan{0})
      return make_error(errc::invalid_argument, "",
                        "child '" + name + "' has a negative shutdown time");
  }
  return {};
}

} // namespace

caf::behavior supervisor_state::start(task_base* self,
                                      supervisor_options opts,
                                      std::vector<child_spec> children) {
  self_ = self;
  if (auto err = check(opts, children)) {
    // Rebuild the error with this supervisor's path.
    auto detail = err.context().get_as<std::string>(1);
    self->quit(make_error(errc::invalid_argument, self->path(), detail));
    return {};
  }
  options_ = std::move(opts);
  for (auto& spec : children)
    children_.push_back(child_entry{std::move(spec), {}, 0, false});
  // Children are stopped one at a time, in reverse start order.
  self->own_nested_shutdown();
  // Up once all children are up (OTP: start_link returns then).
  self->defer_started();
  self->on_cancel([this](const caf::error& why) {
    self_->defer_quit();
    shut_down(why);
  });
  if (!self->is_cancelled()) {
    for (size_t i = 0; i < children_.size(); ++i)
      to_start_.push_back(i);
    start_next();
  }
  // One message from anywhere cancels the supervisor, as it cancels a scope.
  auto cancel = [this](caf::error reason) {
    self_->send(self_, caf::exit_msg{self_->address(), std::move(reason)});
  };
  return {
    [this, cancel](cancel_atom, std::string& why) {
      cancel(make_error(errc::cancelled, self_->path(), std::move(why)));
    },
    [this, cancel](cancel_atom, caf::error& reason) {
      cancel(reason ? std::move(reason)
                    : make_error(errc::cancelled, self_->path(), "cancelled"));
    },
    [this](supervisor_restart& x) {
      if (x.generation != generation_ || !waiting_backoff_)
        return;
      waiting_backoff_ = false;
      start_next();
    },
    [this](child_started& x) {
      if (starting_ != x.index || children_[x.index].starts != x.start + 1)
        return;
      starting_.reset();
      start_next();
    },
  };
}

void supervisor_state::start_child(size_t i) {
  auto& c = children_[i];
  auto n = c.starts++;
  scope_options opts;
  opts.name = c.spec.options.name;
  opts.grace = c.spec.options.shutdown;
  c.scope = self_->open_scope(
    std::move(opts),
    [factory = c.spec.start, n, i,
     sup = self_->address()](scope& s) {
      spawn_request req;
      req.options.name = std::to_string(n);
      req.make = [factory, n, i, sup](caf::local_actor* parent,
                                      node_context ctx) {
        ctx.on_started = [n, i, sup] {
          if (auto hdl = caf::actor_cast<caf::actor>(sup))
            caf::anon_send(hdl, child_started{i, n});
        };
        return factory(parent, std::move(ctx));
      };
      // The scope was just opened, so it accepts the child.
      if (auto hdl = s.spawn_requested(req); !hdl)
        s.fail(hdl.error());
    },
    [this, i, n](caf::expected<void> result) {
      on_child_done(i, n, result ? caf::error{} : std::move(result.error()));
    });
}

void supervisor_state::on_child_done(size_t i, uint64_t start,
                                     caf::error reason) {
  auto& c = children_[i];
  if (start + 1 != c.starts)
    return; // an earlier start; cannot happen, one scope per start
  c.scope = caf::actor{};
  if (starting_ == i) {
    starting_.reset();
    if (options_.strategy == restart_strategy::one_for_one) {
      // Ended before it was up: the others do not depend on it; start them,
      // then handle it.
      pending_.push_back({i, start, std::move(reason)});
      start_next();
      return;
    }
    // The children after it depend on it: do not start them now; restarting
    // it restarts them (OTP's try_again).
    auto rest = std::move(to_start_);
    to_start_.clear();
    handle_exit(i, std::move(reason));
    if (!busy() && !shutting_down_) {
      // Not restarted (temporary, or transient and fine): go on.
      to_start_ = std::move(rest);
      start_next();
    }
    return;
  }
  if (auto pos = std::find(stopping_.begin(), stopping_.end(), i);
      pos != stopping_.end()) {
    // Being stopped (or ended on its own while waiting to be stopped).
    auto was_first = pos == stopping_.begin();
    stopping_.erase(pos);
    if (was_first)
      stop_next();
    return;
  }
  if (shutting_down_)
    return;
  if (busy()) {
    pending_.push_back({i, start, std::move(reason)});
    return;
  }
  handle_exit(i, std::move(reason));
}

void supervisor_state::handle_exit(size_t i, caf::error reason) {
  auto& c = children_[i];
  auto failed = reason && !is(reason, errc::cancelled);
  auto type = c.spec.options.restart;
  if (type == restart_type::temporary
      || (type == restart_type::transient && !failed)) {
    c.gone = type == restart_type::temporary;
    return;
  }
  if (!restart_allowed()) {
    auto detail = std::to_string(restarts_.size() - 1)
                  + " restarts within "
                  + std::to_string(to_ms(options_.period))
                  + " ms (intensity " + std::to_string(options_.intensity)
                  + "); " + c.spec.options.name + " ended with "
                  + (reason ? render(reason) : std::string{"success"});
    shut_down(make_error(errc::restart_limit, self_->path(), detail));
    return;
  }
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
    if (j != i && other.scope)
      to_stop.push_back(j);
    if (j == i || other.spec.options.restart != restart_type::temporary)
      if (!other.gone)
        to_start.push_back(j);
  }
  stop_then(std::move(to_stop), std::move(to_start));
}

bool supervisor_state::restart_allowed() {
  auto now = self_->clock().now();
  while (!restarts_.empty() && now - restarts_.front() >= options_.period)
    restarts_.pop_front();
  restarts_.push_back(now);
  return restarts_.size() <= options_.intensity;
}

caf::timespan supervisor_state::next_backoff() const {
  if (options_.backoff == caf::timespan{0} || restarts_.empty())
    return caf::timespan{0};
  auto delay = options_.backoff;
  for (size_t k = 1; k < restarts_.size() && delay < options_.max_backoff; ++k)
    delay = delay > options_.max_backoff / 2 ? options_.max_backoff : delay * 2;
  return std::min(delay, options_.max_backoff);
}

void supervisor_state::stop_then(std::vector<size_t> to_stop,
                                 std::vector<size_t> to_start) {
  // Reverse start order.
  std::sort(to_stop.begin(), to_stop.end(), std::greater<>{});
  stopping_.assign(to_stop.begin(), to_stop.end());
  to_start_.assign(to_start.begin(), to_start.end());
  stop_next();
}

void supervisor_state::stop_next() {
  if (stopping_.empty()) {
    if (shutting_down_) {
      self_->quit(final_reason_);
      return;
    }
    if (auto delay = next_backoff(); delay > caf::timespan{0}) {
      waiting_backoff_ = true;
      self_->delayed_send(self_, delay, supervisor_restart{++generation_});
      return;
    }
    start_next();
    return;
  }
  auto& c = children_[stopping_.front()];
  if (!c.scope) {
    stopping_.pop_front();
    stop_next();
    return;
  }
  if (c.spec.options.restart == restart_type::temporary)
    c.gone = true;
  if (c.spec.options.shutdown == caf::timespan{0}) {
    self_->send(c.scope, abort_atom::value);
    return;
  }
  auto why = shutting_down_
               ? (is(final_reason_, errc::cancelled)
                    ? final_reason_
                    : make_error(errc::cancelled, self_->path(),
                                 render(final_reason_)))
               : make_error(errc::cancelled, self_->path(),
                            "restarting its children");
  self_->send(c.scope, cancel_atom::value, std::move(why));
}

void supervisor_state::start_next() {
  while (!to_start_.empty()) {
    auto i = to_start_.front();
    to_start_.pop_front();
    if (children_[i].gone || children_[i].scope)
      continue;
    start_child(i);
    starting_ = i;
    return;
  }
  self_->signal_started(); // no-op after the first sequence
  after_sequence();
}

void supervisor_state::after_sequence() {
  while (!busy() && !shutting_down_ && !pending_.empty()) {
    auto next = std::move(pending_.front());
    pending_.pop_front();
    auto& c = children_[next.index];
    // Started again by the restart that just finished: that exit is handled.
    if (c.scope || c.starts != next.start + 1)
      continue;
    handle_exit(next.index, std::move(next.reason));
  }
}

void supervisor_state::shut_down(caf::error reason) {
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
    if (children_[i].scope)
      stopping_.push_back(i);
  stop_next();
}

bool supervisor_state::busy() const noexcept {
  return !stopping_.empty() || waiting_backoff_ || starting_
         || !to_start_.empty();
}

} // namespace scaf::detail
