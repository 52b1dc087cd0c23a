// Spreads work over scaf nodes in other processes: starts two worker_node
// processes on 127.0.0.1, connects to them, and hashes files there, each
// node one file at a time, all of it as the children of one scope. With
// --kill-one it SIGKILLs the second node halfway through: the scope fails
// with node_down (naming the node and the child), cancels the rest, and
// everything still stops cleanly. docs/distributed.md walks through it.
//
//   spread [--kill-one] [--smoke] [FOLDER]   (default FOLDER: /usr/include/caf)
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

#include "scaf/init.hpp"
#include "scaf/network.hpp"
#include "scaf/remote.hpp"
#include "scaf/run.hpp"

#include "say.hpp"

extern char** environ;

namespace {

using demo::say;

/// A worker_node process, started from the folder of this program.
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

/// The files under `folder`, sorted, at most `max`.
std::vector<std::string> files_under(const std::string& folder, size_t max) {
  std::vector<std::string> result;
  std::error_code ec;
  for (auto& e : std::filesystem::recursive_directory_iterator{folder, ec})
    if (e.is_regular_file(ec))
      result.push_back(e.path().string());
  std::sort(result.begin(), result.end());
  if (result.size() > max)
    result.resize(max);
  return result;
}

/// What the nodes share: the files left to hash and the counts.
struct work {
  std::vector<std::string> files;
  size_t next = 0;
  int hashed = 0;
  std::vector<worker_process>* workers = nullptr;
  bool kill_one = false;
};

/// Hashes the next file on `node`, then the one after, until none is left.
void feed(scaf::scope& s, const scaf::remote_node& node,
          const std::shared_ptr<work>& w) {
  if (w->next == w->files.size() || s.is_cancelled())
    return;
  auto file = w->files[w->next++];
  //! [spawn]
  auto digest = scaf::spawn_remote<std::string>(s, node, {}, "hash", file);
  digest.then(s.self(), [&s, node, w, file](caf::expected<std::string> x) {
    if (!x)
      return;
    auto short_name = std::filesystem::path{file}.filename().string();
    say("on " + node.name(), *x + "  " + short_name);
    if (++w->hashed == static_cast<int>(w->files.size()) / 2 && w->kill_one) {
      auto& victim = w->workers->back();
      say("main",
          "SIGKILL to the node on 127.0.0.1:" + std::to_string(victim.port) +
            " (" + victim.stop(SIGKILL) + ")");
    }
    feed(s, node, w);
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
  bool smoke = false;
  std::string folder = "/usr/include/caf";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--kill-one")
      kill_one = true;
    else if (arg == "--smoke")
      smoke = true;
    else
      folder = arg;
  }
  auto exe =
    std::filesystem::canonical("/proc/self/exe").parent_path() / "worker_node";
  std::vector<worker_process> workers(2);
  for (auto& w : workers)
    if (!w.start(exe.string())) {
      std::fprintf(stderr, "spread: cannot start %s\n", exe.c_str());
      return 1;
    }
  config cfg;
  caf::actor_system sys{cfg};
  std::vector<scaf::remote_node> nodes;
  for (auto& w : workers) {
    //! [connect]
    auto n = scaf::connect(sys, "127.0.0.1", w.port);
    if (!n) {
      std::fprintf(stderr, "spread: %s\n", sys.render(n.error()).c_str());
      return 1;
    }
    say("main", "connected to " + n->name() + ", which offers " +
                  std::to_string(n->offers().size()) + " tasks");
    nodes.push_back(*n);
    //! [connect]
  }
  auto w = std::make_shared<work>();
  w->files = files_under(folder, 40);
  w->workers = &workers;
  w->kill_one = kill_one;
  say("main", "hashing " + std::to_string(w->files.size()) + " files of " +
                folder + " on " + std::to_string(nodes.size()) + " nodes");
  auto result = scaf::run(sys, [&](scaf::scope& s) {
    for (auto& n : nodes)
      feed(s, n, w);
  });
  if (result)
    say("main", "done: " + std::to_string(w->hashed) + " files hashed");
  else
    say("main", "the scope failed: " + scaf::render(result.error()));
  // Whatever is left of the nodes stops its children and exits.
  for (auto& wp : workers)
    if (wp.pid > 0)
      say("main", "node on 127.0.0.1:" + std::to_string(wp.port) + " " +
                    wp.stop(SIGTERM));
  if (!smoke)
    return result ? 0 : 1;
  // The smoke checks: every file hashed, or node_down after half of them.
  auto all = static_cast<int>(w->files.size());
  bool ok = kill_one
              ? !result && scaf::is(result.error(), scaf::errc::node_down) &&
                  w->hashed >= all / 2 && w->hashed < all
              : result && w->hashed == all;
  std::printf("smoke checks: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
