#pragma once

#include <caf/error.hpp>

namespace scaf::detail {

/// Returns whether the calling thread is one of CAF's scheduler threads (a
/// worker, or the clock), where a blocking wait could deadlock the actors
/// it waits for. Threads of detached actors (blocking tasks) and plain
/// threads may block.
bool on_scheduler_thread() noexcept;

/// Returns `errc::would_deadlock` naming `call` if the calling thread must
/// not block (see `on_scheduler_thread`), else an empty error.
caf::error refuse_blocking(const char* call);

} // namespace scaf::detail
