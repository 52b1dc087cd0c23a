// Spreads work over a cluster of scaf nodes in other processes: starts
// three scaf-node processes on 127.0.0.1, connects to them as one cluster
// (least-loaded placement), and runs 60 jobs there (the node's `sleep`
// task, 50 to 150 ms each), two at a time a node, all of them children of
// one scope; halfway it prints the live tree, which reaches into the nodes.
// With --kill-one it first SIGKILLs the busiest node: the scope fails with
// node_down (naming the node and the child), cancels the rest, and
// everything still stops cleanly; with --retry as well, the jobs are
// idempotent, and the ones the lost node ran run again on the others, so
// the scope succeeds. docs/distributed.md walks through it.
//
//   spread [--kill-one] [--retry] [--smoke]
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "scaf/cluster.hpp"
#include "scaf/init.hpp"
#include "scaf/network.hpp"
#include "scaf/remote.hpp"
#include "scaf/run.hpp"
#include "scaf/tree.hpp"

#include "say.hpp"

extern char** environ;

namespace {

using demo::say;

/// A scaf-node process, started from the folder of this program.
struct worker_process {
  pid_t pid = -1;
  uint16_t port = 0;

  /// Starts it and reads the port it serves on.
  bool start(const std::string& exe) {
    int out[2];
    if (pipe(out) != 0)
      return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    char flag[] = "--exit-with-parent";
    char* argv[] = {const_cast<char*>(exe.c_str()), flag, nullptr};
    auto rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (rc != 0) {
      close(out[0]);
      return false;
    }
    // "serving on 127.0.0.1:N"
    std::string line;
    char c;
    while (read(out[0], &c, 1) == 1 && c != '\n')
      line += c;
    close(out[0]);
    if (auto colon = line.rfind(':'); colon != std::string::npos)
      port = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
    return port != 0;
  }

  /// SIGTERM (it stops its children and exits) or SIGKILL; returns how it
  /// ended.
  std::string stop(int sig) {
    if (pid <= 0)
      return "not running";
    kill(pid, sig);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    if (WIFEXITED(status))
      return "exited with " + std::to_string(WEXITSTATUS(status));
    return "killed by signal " + std::to_string(WTERMSIG(status));
  }
};

/// What the children share: the jobs and the counts.
struct work {
  int jobs = 60;
  int next = 0;
  int finished = 0;
  std::vector<worker_process>* workers = nullptr;
  bool kill_one = false;
  bool retry = false;
};

/// Prints the live tree, across the nodes, while the jobs go on; with
/// --kill-one, first kills the node that runs the most jobs at that moment
/// (killed later, once the tree is printed, it could have no job left, and
/// its loss would go unnoticed). A blocking task of the scope does it: it
/// may wait, and the scope waits for it.
void halfway(scaf::scope& s, const scaf::cluster& c,
             const std::shared_ptr<work>& w) {
  s.spawn_blocking({.name = "halfway"}, [ref = s.ref(), c, w](std::stop_token) {
    if (w->kill_one) {
      auto load = c.load();
      auto busiest = std::max_element(load.begin(), load.end());
      auto& victim = (*w->workers)[busiest - load.begin()];
      say("main",
          "SIGKILL to the node on 127.0.0.1:" + std::to_string(victim.port) +
            ", which runs " + std::to_string(*busiest) + " jobs (" +
            victim.stop(SIGKILL) + ")");
    }
    if (auto tree = ref.tree().wait())
      std::printf("%s", scaf::to_text(*tree).c_str());
  });
}

/// Runs the next job somewhere in the cluster, then the one after, until
/// none is left.
void feed(scaf::scope& s, const scaf::cluster& c,
          const std::shared_ptr<work>& w) {
  if (w->next == w->jobs || s.is_cancelled())
    return;
  auto job = w->next++;
  auto ms = int32_t{50 + (job * 37) % 101};
  //! [spawn]
  auto slept = scaf::spawn_remote<int32_t>(
    s, c,
    {.child = {.name = "job" + std::to_string(job)}, .idempotent = w->retry},
    "sleep", ms);
  slept.then(s.self(), [&s, c, w, job](caf::expected<int32_t> x) {
    if (!x)
      return;
    say("main", "job " + std::to_string(job) + " done after " +
                  std::to_string(*x) + " ms");
    if (++w->finished == w->jobs / 2)
      halfway(s, c, w);
    feed(s, c, w);
  });
  //! [spawn]
}

//! [config]
struct config : caf::actor_system_config {
  config() {
    scaf::init(*this);
    scaf::init_network(*this);
  }
};
//! [config]

} // namespace

int main(int argc, char** argv) {
  bool kill_one = false;
  bool retry = false;
  bool smoke = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--kill-one")
      kill_one = true;
    else if (arg == "--retry")
      retry = true;
    else if (arg == "--smoke")
      smoke = true;
    else {
      std::fprintf(stderr, "usage: spread [--kill-one] [--retry] [--smoke]\n");
      return 1;
    }
  }
  auto exe =
    std::filesystem::canonical("/proc/self/exe").parent_path() / "scaf-node";
  std::vector<worker_process> workers(3);
  std::vector<std::string> addresses;
  for (auto& w : workers) {
    if (!w.start(exe.string())) {
      std::fprintf(stderr, "spread: cannot start %s\n", exe.c_str());
      return 1;
    }
    addresses.push_back("127.0.0.1:" + std::to_string(w.port));
  }
  config cfg;
  caf::actor_system sys{cfg};
  //! [connect]
  auto c = scaf::connect_cluster(sys, addresses,
                                 {.policy = scaf::placement::least_loaded});
  if (!c) {
    std::fprintf(stderr, "spread: %s\n", sys.render(c.error()).c_str());
    return 1;
  }
  //! [connect]
  for (auto& n : c->nodes())
    say("main", "connected to node " + n.name() + ", which offers " +
                  std::to_string(n.offers().size()) + " tasks");
  auto w = std::make_shared<work>();
  w->workers = &workers;
  w->kill_one = kill_one;
  w->retry = retry;
  say("main", "running " + std::to_string(w->jobs) + " jobs on " +
                std::to_string(c->nodes().size()) + " nodes" +
                (retry ? ", idempotent" : ""));
  auto result = scaf::run(sys, [&](scaf::scope& s) {
    // Two jobs in flight a node.
    for (size_t i = 0; i < 2 * c->nodes().size(); ++i)
      feed(s, *c, w);
  });
  if (result)
    say("main", "done: " + std::to_string(w->finished) + " jobs");
  else
    say("main", "the scope failed: " + scaf::render(result.error()));
  // Whatever is left of the nodes stops its children and exits.
  for (auto& wp : workers)
    if (wp.pid > 0)
      say("main", "node on 127.0.0.1:" + std::to_string(wp.port) + " " +
                    wp.stop(SIGTERM));
  if (!smoke)
    return result ? 0 : 1;
  // The smoke checks: every job done, or node_down after half of them.
  bool ok = kill_one && !retry
              ? !result && scaf::is(result.error(), scaf::errc::node_down) &&
                  w->finished >= w->jobs / 2 && w->finished < w->jobs
              : result && w->finished == w->jobs;
  std::printf("smoke checks: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
