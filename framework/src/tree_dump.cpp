// scaf::tree_dump_on_signal: a signal wakes a thread that prints the live
// trees of a system's top-level scopes (scaf/tree_dump.hpp).
#include "scaf/tree_dump.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include "scaf/tree.hpp"

namespace scaf {

namespace {

/// The pipe's write end while a dump is installed, else -1: all the signal
/// handler may touch.
std::atomic<int> wake_fd{-1};

extern "C" void on_dump_signal(int) {
  auto saved = errno;
  if (auto fd = wake_fd.load(); fd >= 0) {
    char byte = 'd';
    [[maybe_unused]] auto n = ::write(fd, &byte, 1);
  }
  errno = saved;
}

} // namespace

struct tree_dump_on_signal::impl {
  impl(caf::actor_system& system, int signal, std::FILE* to)
    : sys(system), signo(signal), out(to) {
    // nop
  }

  caf::actor_system& sys;
  int signo;
  std::FILE* out;
  int fds[2] = {-1, -1};
  struct sigaction previous {};
  std::thread printer;

  void print_all() {
    auto trees = top_level_trees(sys);
    std::string text = "scaf: live tree of " + std::to_string(trees.size()) +
                       " top-level scope(s)\n";
    for (auto& tree : trees)
      text += to_text(tree);
    std::fputs(text.c_str(), out);
    std::fflush(out);
  }

  void run() {
    char byte = 0;
    for (;;) {
      auto n = ::read(fds[0], &byte, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || byte == 'q')
        return;
      print_all();
    }
  }
};

tree_dump_on_signal::tree_dump_on_signal(caf::actor_system& sys, int signo,
                                         std::FILE* out)
  : impl_(std::make_unique<impl>(sys, signo, out)) {
  if (::pipe2(impl_->fds, O_CLOEXEC) != 0)
    throw std::runtime_error("tree_dump_on_signal: cannot make a pipe");
  auto expected = -1;
  if (!wake_fd.compare_exchange_strong(expected, impl_->fds[1])) {
    ::close(impl_->fds[0]);
    ::close(impl_->fds[1]);
    throw std::logic_error("tree_dump_on_signal: one is installed already");
  }
  impl_->printer = std::thread{[this] { impl_->run(); }};
  struct sigaction action {};
  action.sa_handler = on_dump_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(signo, &action, &impl_->previous);
}

tree_dump_on_signal::~tree_dump_on_signal() {
  ::sigaction(impl_->signo, &impl_->previous, nullptr);
  wake_fd.store(-1);
  char quit = 'q';
  [[maybe_unused]] auto n = ::write(impl_->fds[1], &quit, 1);
  impl_->printer.join();
  ::close(impl_->fds[0]);
  ::close(impl_->fds[1]);
}

} // namespace scaf
