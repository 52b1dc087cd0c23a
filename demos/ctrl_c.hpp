// Shared by the demos: Ctrl-C read by a thread that asks for it, not by a
// signal handler, so that it can cancel a scope like any other call.
#pragma once

#include <chrono>
#include <csignal>
#include <ctime>

#include <pthread.h>

namespace demo {

/// Blocks SIGINT in this thread and every thread started from it: call it
/// first in main(), before the actor system starts its threads.
inline void block_ctrl_c() {
  sigset_t sigint;
  sigemptyset(&sigint);
  sigaddset(&sigint, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigint, nullptr);
}

/// Waits up to `timeout` for Ctrl-C; true if it came (taken, once).
inline bool ctrl_c(std::chrono::milliseconds timeout) {
  sigset_t sigint;
  sigemptyset(&sigint);
  sigaddset(&sigint, SIGINT);
  timespec ts{static_cast<time_t>(timeout.count() / 1000),
              static_cast<long>(timeout.count() % 1000) * 1'000'000L};
  return sigtimedwait(&sigint, nullptr, &ts) == SIGINT;
}

} // namespace demo
