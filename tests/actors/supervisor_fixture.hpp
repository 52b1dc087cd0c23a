// What the supervisor tests share: test children whose starts follow a plan,
// and a fixture that runs one supervisor under a service scope.
#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "scaf/atoms.hpp"
#include "scaf/supervisor.hpp"
#include "scaf/supervisor_atoms.hpp"
#include "scaf/supervisor_ref.hpp"

#include "../common/fixture.hpp"
#include "../common/tasks.hpp"

namespace scaf::test {

using namespace std::chrono_literals;

/// The actor of the task `spawned` stands for, once its scope has spawned
/// it (a handle from a `scope_ref` has none before); empty if that takes
/// more than a second.
inline caf::actor actor_of(const handle<void>& spawned) {
  for (int i = 0; i < 1000; ++i) {
    if (auto actor = spawned.task())
      return actor;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return {};
}

/// The current start of each supervised test child, by name.
using live_map = std::map<std::string, caf::actor>;

/// A supervised test child: `worker_with` that registers its current start
/// in `live` and logs "at:<path>" when it starts.
inline caf::behavior member(traced_task* self, event_log* log, live_map* live,
                            std::string name, on_cancel_mode mode) {
  (*live)[name] = caf::actor_cast<caf::actor>(self);
  log->add("at:" + self->path());
  return worker_with(self, log, std::move(name), mode, caf::error{});
}

/// An argument whose copies throw once `*armed` is set: a child spec made
/// from it can no longer be spawned.
struct copy_bomb {
  explicit copy_bomb(const bool* trigger) : armed(trigger) {
    // nop
  }

  copy_bomb(const copy_bomb& other) : armed(other.armed) {
    if (*armed)
      throw std::runtime_error("copy threw");
  }

  copy_bomb& operator=(const copy_bomb&) = delete;

  const bool* armed;
};

inline caf::behavior bomb_task(traced_task* self, event_log* log, copy_bomb) {
  log->add("start:" + self->path());
  return {[](finish_atom) {}};
}

/// How one start of a planned child goes.
enum class start_mode {
  /// It comes up and runs like `member`.
  up,
  /// It fails in its behavior function, before it is up.
  fail,
  /// It quits without an error before it is up: it declines (OTP's ignore).
  decline,
  /// It is up only once it receives `up_atom` (`defer_started`).
  slow,
};

using up_atom = caf::atom_constant<caf::atom("up")>;

/// The planned starts of each child, by name; a child with no plan left
/// comes up.
using start_plan = std::map<std::string, std::deque<start_mode>>;

/// A supervised test child whose starts follow `(*plan)[name]`, logging
/// "failed-to-start:<name>" or "declined:<name>" when they do not come up.
inline caf::behavior planned(traced_task* self, event_log* log, live_map* live,
                             std::string name, start_plan* plan) {
  auto& starts = (*plan)[name];
  auto mode = starts.empty() ? start_mode::up : starts.front();
  if (!starts.empty())
    starts.pop_front();
  switch (mode) {
  case start_mode::fail:
    log->add("failed-to-start:" + name);
    self->quit(app_error(9, name + " could not start"));
    return {};
  case start_mode::decline:
    log->add("declined:" + name);
    self->quit();
    return {};
  case start_mode::slow: {
    self->defer_started();
    auto behavior = member(self, log, live, name, on_cancel_mode::log_and_quit);
    return caf::message_handler{[self](up_atom) { self->signal_started(); }}
      .or_else(behavior);
  }
  case start_mode::up:
    break;
  }
  return member(self, log, live, std::move(name), on_cancel_mode::log_and_quit);
}

inline child_spec
member_spec(event_log* log, live_map* live, child_options opts,
            on_cancel_mode mode = on_cancel_mode::log_and_quit) {
  auto name = opts.name;
  return child(std::move(opts), member, log, live, name, mode);
}

class SupervisorTest : public deterministic_test {
protected:
  std::shared_ptr<scope_report> report = std::make_shared<scope_report>();
  live_map live;
  start_plan plan;
  caf::actor root;
  caf::actor sup;
  /// How "sup" ended, once it has.
  std::optional<caf::error> sup_exit;
  caf::actor sup_watch;

  /// Runs a supervisor named "sup" in a service scope "root" (grace 10 s).
  void start(supervisor_options opts, std::vector<child_spec> children) {
    start(supervisor(std::move(opts), std::move(children)));
  }

  /// Runs what `factory` spawns as "sup" in a service scope "root" (grace
  /// 10 s), watching its end (`sup_exit`).
  void start(child_factory factory) {
    root = spawn_scope(
      sys, {.name = "root", .grace = 10s},
      [&, factory](scope& s) {
        if (auto x = s.spawn({.name = "sup"}, factory))
          sup = *x;
      },
      report);
    run();
    // (Held: an actor nobody references is gone, and its monitor with it.)
    if (sup)
      sup_watch = sys.spawn([this](caf::event_based_actor* self) {
        self->monitor(sup);
        self->set_down_handler([this, self](caf::down_msg& msg) {
          sup_exit = msg.reason;
          self->quit();
        });
        return caf::behavior{[](caf::atom_constant<caf::atom("never")>) {}};
      });
    run();
  }

  /// A reference to "sup", asked for by an actor (`supervisor_ref_atom`).
  supervisor_ref sup_ref() {
    supervisor_ref result;
    sys.spawn([&](caf::event_based_actor* self) {
      self->request(sup, caf::infinite, supervisor_ref_atom::value)
        .then([&](supervisor_ref& x) { result = x; });
    });
    run();
    return result;
  }

  /// Runs the deterministic scheduler one message at a time until `done()`
  /// holds, at most `limit` messages; returns whether it held.
  template <class Pred>
  bool step_until(Pred done, int limit = 1'000'000) {
    while (!done() && limit-- > 0)
      if (!sched.try_run_once())
        break;
    return done();
  }

  /// The states of "sup"'s children, as "name:state" in start order.
  std::vector<std::string> states() {
    auto h = sup_ref().which_children();
    run();
    std::vector<std::string> out;
    if (!h.ready() || !h.get())
      return {"<no answer>"};
    auto children = h.get();
    for (auto& c : *children)
      out.push_back(c.name + ":" + to_string(c.state));
    return out;
  }

  /// A child whose starts follow `plan[opts.name]`.
  child_spec planned_spec(child_options opts) {
    auto name = opts.name;
    return child(std::move(opts), planned, &log, &live, name, &plan);
  }

  /// Cancels "root" and checks that nothing is left.
  void stop_all() {
    caf::anon_send(root, cancel_atom::value, "done");
    run();
    EXPECT_EQ(sys.registry().running(), baseline);
  }

  void fail(const std::string& name, uint8_t code = 1) {
    caf::anon_send(live.at(name), fail_atom::value,
                   app_error(code, name + " broke"));
    run();
  }

  void finish(const std::string& name) {
    caf::anon_send(live.at(name), finish_atom::value);
    run();
  }

  /// The events logged after the first occurrence of `marker`.
  std::vector<std::string> events_after(const std::string& marker) {
    auto all = log.events();
    auto pos = std::find(all.begin(), all.end(), marker);
    return {pos == all.end() ? all.end() : pos + 1, all.end()};
  }

  /// The events that start with one of "start:", "~", "cancel:<name>:" (cut
  /// to "cancel:<name>"), in order: what the supervisor did to its children.
  static std::vector<std::string> lifecycle(std::vector<std::string> events) {
    std::vector<std::string> out;
    for (auto& e : events) {
      if (e.rfind("start:", 0) == 0 || e.rfind("~", 0) == 0)
        out.push_back(e);
      else if (e.rfind("cancel:", 0) == 0)
        out.push_back(e.substr(0, e.find(':', 7)));
    }
    return out;
  }

  std::vector<child_spec> abc(child_options base = {}) {
    std::vector<child_spec> specs;
    for (auto name : {"a", "b", "c"}) {
      auto opts = base;
      opts.name = name;
      specs.push_back(member_spec(&log, &live, opts));
    }
    return specs;
  }
};

using strings = std::vector<std::string>;

/// Index of the n-th (from 1) occurrence of `event` in `log`, or -1.
inline long nth_index(const event_log& log, const std::string& event,
                      size_t n) {
  auto all = log.events();
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i] == event && --n == 0)
      return static_cast<long>(i);
  return -1;
}

} // namespace scaf::test
