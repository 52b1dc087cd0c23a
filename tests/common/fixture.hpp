// GoogleTest fixtures for scaf: one on CAF's deterministic test scheduler
// (exact, repeatable message orderings), one on the real threaded scheduler.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include "scaf/all.hpp"

namespace scaf::test {

/// Events recorded by test actors, in the order they happened. Thread-safe,
/// so the same helpers serve the threaded tests.
class event_log {
public:
  void add(std::string event) {
    std::lock_guard<std::mutex> guard{mtx_};
    events_.push_back(std::move(event));
  }

  std::vector<std::string> events() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return events_;
  }

  /// Index of the first occurrence of `event`, or -1.
  long index_of(const std::string& event) const {
    std::lock_guard<std::mutex> guard{mtx_};
    for (size_t i = 0; i < events_.size(); ++i)
      if (events_[i] == event)
        return static_cast<long>(i);
    return -1;
  }

  /// Number of events that start with `prefix`, e.g. "cancel:b:" for every
  /// cancel that task b saw, whatever its reason.
  size_t count_prefix(const std::string& prefix) const {
    std::lock_guard<std::mutex> guard{mtx_};
    size_t n = 0;
    for (auto& e : events_)
      n += e.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }

  size_t count(const std::string& event) const {
    std::lock_guard<std::mutex> guard{mtx_};
    size_t n = 0;
    for (auto& e : events_)
      n += e == event ? 1 : 0;
    return n;
  }

private:
  mutable std::mutex mtx_;
  std::vector<std::string> events_;
};

/// Captures scaf's log lines at `level` and above while it lives (the tests
/// run at `error` unless SCAF_LOG says otherwise).
class log_capture {
public:
  explicit log_capture(spdlog::level::level_enum level)
    : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(lines_)),
      level_(logger().level()) {
    logger().sinks().push_back(sink_);
    logger().set_level(level);
  }

  log_capture(const log_capture&) = delete;
  log_capture& operator=(const log_capture&) = delete;

  ~log_capture() {
    logger().sinks().pop_back();
    logger().set_level(level_);
  }

  /// What was logged so far.
  std::string text() const {
    return lines_.str();
  }

  /// How often `what` occurs in what was logged.
  size_t count(const std::string& what) const {
    auto all = text();
    size_t n = 0;
    for (auto i = all.find(what); i != std::string::npos;
         i = all.find(what, i + 1))
      ++n;
    return n;
  }

private:
  std::ostringstream lines_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  spdlog::level::level_enum level_;
};

/// Drives scaf on `caf::scheduler::test_coordinator`: nothing runs until the
/// test calls `run()`, and timers fire only on `advance()`.
class deterministic_test : public ::testing::Test {
protected:
  struct config : caf::actor_system_config {
    config() {
      scaf::init(*this);
      set("scheduler.policy", caf::atom("testing"));
      set("logger.console", caf::atom("none"));
    }
  };

  deterministic_test()
    : sys(cfg),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
      baseline(sys.registry().running()) {
    // nop
  }

  /// Runs every runnable actor until no message is left.
  void run() {
    sched.run();
  }

  /// Lets `d` pass on the test clock, fires due timers and runs.
  void advance(caf::timespan d) {
    sched.advance_time(d);
    sched.run();
  }

  /// A top-level scope named `name`, cancelled, and kept from finishing for
  /// its grace period by a task that ignores its cancel (its child "0"):
  /// children opened into it are born cancelled.
  scope_owner cancelled_scope(std::string name, caf::timespan grace) {
    auto owner = make_scope(sys, {.name = std::move(name), .grace = grace});
    owner.ref().spawn([](task_actor* self) -> caf::behavior {
      self->on_cancel([](const caf::error&) {}); // runs on until killed
      return {[](caf::atom_constant<caf::atom("never")>) {}};
    });
    run();
    owner.cancel("shutting down");
    run();
    return owner;
  }

  /// Spawns an actor that monitors each of `targets` and logs "down:<name>"
  /// when one terminates, so the order of done signals can be asserted. It
  /// quits after the last one.
  caf::actor observe(std::vector<std::pair<caf::actor, std::string>> targets) {
    for (auto& [hdl, name] : targets)
      if (!hdl)
        ADD_FAILURE() << "observe: no actor for " << name;
    return sys.spawn([this, targets](caf::event_based_actor* self) {
      for (auto& target : targets)
        self->monitor(target.first);
      auto remaining = std::make_shared<size_t>(targets.size());
      self->set_down_handler(
        [this, self, targets, remaining](caf::down_msg& msg) {
          for (auto& [hdl, name] : targets)
            if (hdl.address() == msg.source)
              log.add("down:" + name);
          if (--*remaining == 0)
            self->quit();
        });
      return caf::behavior{[](caf::atom_constant<caf::atom("never")>) {}};
    });
  }

  config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  size_t baseline;
  event_log log;
};

/// Waits (at most 30 s) until `sys` runs `baseline` actors again; false if it
/// never did. For threaded tests, where an actor's last reference may go a
/// moment after the handle that waited for it resolved.
inline bool back_to_baseline(caf::actor_system& sys, size_t baseline) {
  for (int i = 0; i < 30000; ++i) {
    if (sys.registry().running() == baseline)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return false;
}

/// Runs scaf on the real threaded scheduler (scaf's work-stealing policy).
class threaded_test : public ::testing::Test {
protected:
  struct config : caf::actor_system_config {
    config() {
      scaf::init(*this);
      set("logger.console", caf::atom("none"));
    }
  };

  config cfg;
  caf::actor_system sys{cfg};
  size_t baseline = sys.registry().running();
};

/// `deterministic_test` that checks, after each test, that no actor was
/// left behind.
class leak_checked_deterministic_test : public deterministic_test {
protected:
  void TearDown() override {
    run();
    EXPECT_EQ(sys.registry().running(), baseline);
  }
};

/// `threaded_test` that checks, after each test, that no actor was left
/// behind.
class leak_checked_threaded_test : public threaded_test {
protected:
  void TearDown() override {
    EXPECT_TRUE(back_to_baseline(sys, baseline));
  }
};

} // namespace scaf::test
