#include "scaf/scheduler.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>
#include <caf/defaults.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

namespace scaf {

// -- queue_type ---------------------------------------------------------------

void stealing_policy::queue_type::append(caf::resumable* job) {
  std::lock_guard<std::mutex> guard{mtx_};
  jobs_.push_back(job);
}

void stealing_policy::queue_type::prepend(caf::resumable* job) {
  std::lock_guard<std::mutex> guard{mtx_};
  jobs_.push_front(job);
}

caf::resumable* stealing_policy::queue_type::take_head() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (jobs_.empty())
    return nullptr;
  auto job = jobs_.front();
  jobs_.pop_front();
  return job;
}

caf::resumable* stealing_policy::queue_type::take_tail() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (jobs_.empty())
    return nullptr;
  auto job = jobs_.back();
  jobs_.pop_back();
  return job;
}

bool stealing_policy::queue_type::empty() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return jobs_.empty();
}

// -- worker_data --------------------------------------------------------------

namespace {

template <class T>
T setting(caf::scheduler::abstract_coordinator* p, caf::string_view key,
          T fallback) {
  return caf::get_or(p->config(), key, fallback);
}

} // namespace

stealing_policy::worker_data::worker_data(
  caf::scheduler::abstract_coordinator* p)
  : rengine(std::random_device{}()),
    // Not used with fewer than two workers, so no wrap-around worries.
    uniform(0, p->num_workers() - 2) {
  namespace ws = caf::defaults::work_stealing;
  strategies[0] = {setting(p, "work-stealing.aggressive-poll-attempts",
                           ws::aggressive_poll_attempts),
                   1,
                   setting(p, "work-stealing.aggressive-steal-interval",
                           ws::aggressive_steal_interval),
                   caf::timespan{0}};
  strategies[1] = {setting(p, "work-stealing.moderate-poll-attempts",
                           ws::moderate_poll_attempts),
                   1,
                   setting(p, "work-stealing.moderate-steal-interval",
                           ws::moderate_steal_interval),
                   setting(p, "work-stealing.moderate-sleep-duration",
                           ws::moderate_sleep_duration)};
  strategies[2] = {1, 0,
                   setting(p, "work-stealing.relaxed-steal-interval",
                           ws::relaxed_steal_interval),
                   setting(p, "work-stealing.relaxed-sleep-duration",
                           ws::relaxed_sleep_duration)};
}

stealing_policy::worker_data::worker_data(const worker_data& other)
  : rengine(std::random_device{}()), uniform(other.uniform),
    strategies(other.strategies) {
  // nop: every worker gets its own queue and wait state
}

// -- sparse_cancel_clock ------------------------------------------------------

void sparse_cancel_clock::remember(const caf::abstract_actor* self) {
  std::lock_guard<std::mutex> guard{mtx_};
  timed_.insert(self);
}

void sparse_cancel_clock::set_ordinary_timeout(time_point t,
                                               caf::abstract_actor* self,
                                               caf::atom_value type,
                                               uint64_t id) {
  remember(self);
  super::set_ordinary_timeout(t, self, type, id);
}

void sparse_cancel_clock::set_request_timeout(time_point t,
                                              caf::abstract_actor* self,
                                              caf::message_id id) {
  remember(self);
  super::set_request_timeout(t, self, id);
}

void sparse_cancel_clock::set_multi_timeout(time_point t,
                                            caf::abstract_actor* self,
                                            caf::atom_value type, uint64_t id) {
  remember(self);
  super::set_multi_timeout(t, self, type, id);
}

void sparse_cancel_clock::cancel_timeouts(caf::abstract_actor* self) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (timed_.erase(self) == 0)
      return;
  }
  super::cancel_timeouts(self);
}

} // namespace scaf
