#pragma once

#include <csignal>
#include <cstdio>
#include <memory>

#include <caf/actor_system.hpp>

namespace scaf {

/// While it lives, the signal `signo` makes the program print the live tree
/// of every top-level scope of `sys` to `out` (`top_level_trees`, rendered
/// by `to_text`), the way a JVM prints a thread dump on SIGQUIT:
///
///     scaf::tree_dump_on_signal dump{sys}; // then: kill -USR1 <pid>
///
/// The signal handler only wakes a thread of its own, which asks the scopes
/// and prints; the previous handler of `signo` is back once this is
/// destroyed. One at a time per process: a second one while another lives
/// fails with `std::logic_error`. Create it after the actor system and
/// destroy it before.
class tree_dump_on_signal {
public:
  /// Installs the handler; throws `std::logic_error` if one is installed
  /// already, `std::runtime_error` if no pipe can be made.
  explicit tree_dump_on_signal(caf::actor_system& sys, int signo = SIGUSR1,
                               std::FILE* out = stderr);

  /// Puts the previous handler back and stops the thread.
  ~tree_dump_on_signal();

  tree_dump_on_signal(const tree_dump_on_signal&) = delete;
  tree_dump_on_signal& operator=(const tree_dump_on_signal&) = delete;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace scaf
