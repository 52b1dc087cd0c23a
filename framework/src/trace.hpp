// Internal: the trace file (`scaf.trace-file`): the lifecycle of every node as
// Chrome trace-event JSON, the format Perfetto and the browsers' trace
// viewers open. Off unless set; then each event is one JSON object appended
// under a lock, written in batches of about a megabyte; the file is valid
// JSON after each batch and once the actor system is gone.
#pragma once

#include <atomic>
#include <string>

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>

namespace scaf::detail::trace {

/// Whether a trace is being written: the one check on the hot path.
inline std::atomic<bool> enabled{false};

inline bool on() noexcept {
  return enabled.load(std::memory_order_relaxed);
}

/// Starts writing the trace of `sys` to `path` (truncated); an empty path
/// stops tracing. Returns what is wrong, if anything (a file that cannot be
/// opened). Process-wide, as the log sink: the last system built wins.
std::string open(const caf::actor_system& sys, const std::string& path);

/// Stops the trace of `sys`, if it writes one.
void close(const caf::actor_system& sys);

using time_point = caf::actor_clock::time_point;

// Each path is one track (a thread, to the viewers), named by the path and
// ordered as first seen, so that a child's track follows its parent's and a
// restarted child continues on its track. (The tracer remembers every path
// it saw: a trace is a tool for a while, not for a service's life.)

/// A node's life from `begin` to `end` on its track, with its outcome.
void span(const std::string& path, const std::string& kind, time_point begin,
          time_point end, const std::string& outcome,
          const std::string& reason);

/// Something happened to a node: "cancel", "kill", "straggler".
void instant(const std::string& path, const std::string& what, time_point at,
             const std::string& reason, const std::string& origin);

} // namespace scaf::detail::trace
