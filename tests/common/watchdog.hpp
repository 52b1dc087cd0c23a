// A per-test watchdog for GoogleTest: if one test runs longer than its limit,
// the binary prints the test's name and exits with failure instead of hanging.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace scaf::test {

class watchdog : public ::testing::EmptyTestEventListener {
public:
  explicit watchdog(std::chrono::seconds limit) : limit_(limit) {
    thread_ = std::thread{[this] { loop(); }};
  }

  ~watchdog() override {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void OnTestStart(const ::testing::TestInfo& info) override {
    std::lock_guard<std::mutex> guard{mtx_};
    current_ = std::string{info.test_suite_name()} + "." + info.name();
    deadline_ = std::chrono::steady_clock::now() + limit_;
    running_ = true;
    cv_.notify_all();
  }

  void OnTestEnd(const ::testing::TestInfo&) override {
    std::lock_guard<std::mutex> guard{mtx_};
    running_ = false;
    cv_.notify_all();
  }

private:
  void loop() {
    std::unique_lock<std::mutex> guard{mtx_};
    while (!stop_) {
      if (!running_) {
        cv_.wait(guard);
        continue;
      }
      if (cv_.wait_until(guard, deadline_) == std::cv_status::timeout
          && running_ && std::chrono::steady_clock::now() >= deadline_) {
        std::fprintf(stderr, "[ WATCHDOG ] %s exceeded %lld s: hung\n",
                     current_.c_str(),
                     static_cast<long long>(limit_.count()));
        std::fflush(stderr);
        std::_Exit(EXIT_FAILURE);
      }
    }
  }

  std::chrono::seconds limit_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::thread thread_;
  std::string current_;
  std::chrono::steady_clock::time_point deadline_;
  bool running_ = false;
  bool stop_ = false;
};

} // namespace scaf::test
