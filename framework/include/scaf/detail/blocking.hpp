#pragma once

#include <caf/error.hpp>

namespace scaf::detail {

/// Returns whether the calling thread is one of CAF's scheduler threads (a
/// worker, the clock, or the I/O loop), where a blocking wait could
/// deadlock the actors it waits for. Threads of detached actors (blocking
/// tasks), of scaf's function pool and plain threads, also those started
/// from inside an actor, may block. Known only in systems configured with
/// `scaf::init`.
bool on_scheduler_thread() noexcept;

/// Called (through the thread hook `scaf::init` installs) on every thread
/// the actor system starts, which CAF has named by then: marks the
/// scheduler threads.
void mark_scheduler_thread() noexcept;

/// Returns `errc::would_deadlock` naming `call` if the calling thread must
/// not block (see `on_scheduler_thread`), else an empty error.
caf::error refuse_blocking(const char* call);

/// Brackets a blocking wait of scaf's: refused on a scheduler thread (see
/// `refused`); on a thread of scaf's function pool, the pool may start
/// another thread while this one waits, so that the tasks it waits for
/// (which may need the pool) still run.
class blocking_section {
public:
  explicit blocking_section(const char* call);

  blocking_section(const blocking_section&) = delete;
  blocking_section& operator=(const blocking_section&) = delete;

  ~blocking_section();

  /// Whether the wait must not happen (`errc::would_deadlock`, `error()`).
  bool refused() const noexcept {
    return static_cast<bool>(refused_);
  }

  const caf::error& error() const noexcept {
    return refused_;
  }

private:
  caf::error refused_;
  bool on_pool_ = false;
};

} // namespace scaf::detail
