#pragma once

#include <csignal>
#include <memory>
#include <vector>

#include <caf/expected.hpp>

#include "scaf/scope_ref.hpp"

namespace scaf {

/// Watches signals for a scope, as a service stops on Ctrl-C: the first
/// signal cancels the scope, the next aborts it. Made by `cancel_on_signal`;
/// the watch ends when this object is destroyed, and the signals' previous
/// handlers are back.
class signal_watch {
public:
  /// Takes over `other`'s watch; `other` watches nothing any more.
  signal_watch(signal_watch&& other) noexcept;

  /// Ends this watch, then takes over `other`'s.
  signal_watch& operator=(signal_watch&& other) noexcept;

  signal_watch(const signal_watch&) = delete;
  signal_watch& operator=(const signal_watch&) = delete;

  /// Ends the watch: restores the previous handlers and joins the thread.
  ~signal_watch();

  /// How many of the watched signals arrived so far.
  int received() const noexcept;

  /// The state of a watch (internal).
  struct impl;

private:
  friend caf::expected<signal_watch> cancel_on_signal(scope_ref target,
                                                      std::vector<int> signals);

  explicit signal_watch(std::unique_ptr<impl> ptr) noexcept;

  std::unique_ptr<impl> impl_;
};

/// Stops `target` on a signal: the first of `signals` cancels it with the
/// signal's name as the reason (`scaf::cancelled(app: SIGINT)`), the second
/// aborts it (its children are killed at once; it still reports done last).
/// A handler only writes the signal to a pipe; a thread of the watch reads
/// it and acts, so the signals may stay blocked everywhere else (the thread
/// unblocks them for itself). Fails with `errc::invalid_argument` for a
/// `target` that refers to no scope, an empty list, a signal that cannot be
/// caught (`SIGKILL`, `SIGSTOP`) or is out of range, or while another watch
/// is active (one per process).
///
///     auto app = scaf::make_scope(sys, {.name = "app"});
///     auto watch = scaf::cancel_on_signal(app.ref());
///     ...
///     auto report = app.done().wait(); // after Ctrl-C, cancelled
[[nodiscard]] caf::expected<signal_watch>
cancel_on_signal(scope_ref target,
                 std::vector<int> signals = {SIGINT, SIGTERM});

} // namespace scaf
