// cancel_on_signal: a signal handler that only writes to a pipe, and a
// thread that reads the pipe and cancels (then aborts) the scope.
#include "scaf/signals.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "scaf/errc.hpp"

#include "log.hpp"

namespace scaf {

namespace {

/// The write end of the active watch's pipe, or -1: what the handler sees.
std::atomic<int> active_pipe{-1};

extern "C" void on_watched_signal(int sig) {
  auto saved = errno;
  if (auto fd = active_pipe.load(); fd >= 0) {
    auto byte = static_cast<unsigned char>(sig);
    [[maybe_unused]] auto n = ::write(fd, &byte, 1);
  }
  errno = saved;
}

/// "SIGINT" for SIGINT.
std::string signal_name(int sig) {
  if (auto abbrev = ::sigabbrev_np(sig))
    return std::string{"SIG"} + abbrev;
  return "signal " + std::to_string(sig);
}

caf::error refuse(std::string what) {
  return make_error(errc::invalid_argument, "cancel_on_signal",
                    std::move(what));
}

} // namespace

struct signal_watch::impl {
  scope_ref target;
  std::vector<int> signals;
  std::vector<struct sigaction> previous;
  int read_fd = -1;
  int write_fd = -1;
  std::atomic<int> received{0};
  std::thread thread;

  void run() {
    sigset_t set;
    sigemptyset(&set);
    for (auto sig : signals)
      sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    for (;;) {
      unsigned char byte = 0;
      auto n = ::read(read_fd, &byte, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || byte == 0)
        return; // the watch ends
      auto count = ++received;
      if (count == 1) {
        detail::log().info("{}: cancelling {}", signal_name(byte),
                           target.path());
        target.cancel(signal_name(byte));
      } else if (count == 2) {
        detail::log().warn("{} again: aborting {}", signal_name(byte),
                           target.path());
        target.abort();
      }
    }
  }

  ~impl() {
    // Last installed, first restored: a signal listed twice gets back the
    // handler it had before the watch, not the watch's own.
    for (auto i = previous.size(); i > 0; --i)
      ::sigaction(signals[i - 1], &previous[i - 1], nullptr);
    // (A watch refused because another one is active owns no handler.)
    auto mine = write_fd;
    active_pipe.compare_exchange_strong(mine, -1);
    if (thread.joinable()) {
      unsigned char stop = 0;
      [[maybe_unused]] auto n = ::write(write_fd, &stop, 1);
      thread.join();
    }
    ::close(read_fd);
    ::close(write_fd);
  }
};

signal_watch::signal_watch(std::unique_ptr<impl> ptr) noexcept
  : impl_(std::move(ptr)) {
  // nop
}

signal_watch::signal_watch(signal_watch&& other) noexcept = default;

signal_watch& signal_watch::operator=(signal_watch&& other) noexcept = default;

signal_watch::~signal_watch() = default;

int signal_watch::received() const noexcept {
  return impl_ ? impl_->received.load() : 0;
}

caf::expected<signal_watch> cancel_on_signal(scope_ref target,
                                             std::vector<int> signals) {
  if (!target)
    return refuse("no scope to cancel");
  if (signals.empty())
    return refuse("no signal to watch");
  for (auto sig : signals)
    if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
      return refuse("signal " + std::to_string(sig) + " cannot be caught");
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return refuse(std::string{"no pipe: "} + std::strerror(errno));
  auto state = std::make_unique<signal_watch::impl>();
  state->target = std::move(target);
  state->signals = std::move(signals);
  state->read_fd = fds[0];
  state->write_fd = fds[1];
  auto expected = -1;
  if (!active_pipe.compare_exchange_strong(expected, fds[1]))
    return refuse("another signal watch is active");
  struct sigaction action {};
  action.sa_handler = on_watched_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (auto sig : state->signals) {
    struct sigaction old {};
    ::sigaction(sig, &action, &old);
    state->previous.push_back(old);
  }
  state->thread = std::thread{[ptr = state.get()] { ptr->run(); }};
  return signal_watch{std::move(state)};
}

} // namespace scaf
