// Shared by the demos: one line per event, from any actor's thread.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

namespace demo {

/// Prints "<who> <what>" as one line; safe to call from several threads.
inline void say(const std::string& who, const std::string& what) {
  static std::mutex mtx;
  std::lock_guard<std::mutex> guard{mtx};
  std::printf("%-26s %s\n", who.c_str(), what.c_str());
  std::fflush(stdout);
}

} // namespace demo
