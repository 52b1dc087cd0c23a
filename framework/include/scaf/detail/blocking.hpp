#pragma once

#include <caf/error.hpp>

namespace scaf::detail {

/// Returns whether the calling thread is one of CAF's scheduler threads (a
/// worker, the clock, or the I/O loop), where a blocking wait could
/// deadlock the actors it waits for. Threads of detached actors (blocking
/// tasks) and plain threads, also those started from inside an actor, may
/// block. Known only in systems configured with `scaf::init`.
bool on_scheduler_thread() noexcept;

/// Called (through the thread hook `scaf::init` installs) on every thread
/// the actor system starts, which CAF has named by then: marks the
/// scheduler threads.
void mark_scheduler_thread() noexcept;

/// Returns `errc::would_deadlock` naming `call` if the calling thread must
/// not block (see `on_scheduler_thread`), else an empty error.
caf::error refuse_blocking(const char* call);

} // namespace scaf::detail
