// Tests of scopes' children on other nodes (scaf/remote.hpp, scaf/node.hpp,
// scaf/remote_tasks.hpp, scaf/network.hpp): real worker_node processes on
// 127.0.0.1, started and killed by the tests; every wait is bounded.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <caf/sec.hpp>

#include "scaf/all.hpp"
#include "scaf/network.hpp"
#include "scaf/node.hpp"
#include "scaf/remote.hpp"

#include "../common/fixture.hpp"

extern char** environ;

namespace scaf::test {
namespace {

using namespace std::chrono_literals;

/// A worker_node process: started with `args`, killed (SIGKILL) and reaped
/// when destroyed. `line()` reads what it prints, a line at a time.
class process {
public:
  explicit process(std::vector<std::string> args) {
    int out[2];
    if (pipe(out) != 0)
      return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // Its log lines too: nothing of it holds on to this process's output
    // (a test runner waits for that to close).
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    // A crashed test leaves no node behind.
    args.insert(args.begin(), "--exit-with-parent");
    args.insert(args.begin(), SCAF_WORKER_NODE);
    std::vector<char*> argv;
    for (auto& x : args)
      argv.push_back(x.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, SCAF_WORKER_NODE, &actions, nullptr, argv.data(),
                    environ) != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    out_ = out[0];
  }

  ~process() {
    if (pid_ > 0) {
      kill(pid_, SIGCONT);
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0)
      close(out_);
  }

  process(const process&) = delete;
  process& operator=(const process&) = delete;

  /// The next line it prints, if one comes within `timeout`.
  std::optional<std::string> line(std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        auto result = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return result;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0)
        continue;
      char chunk[256];
      auto n = read(out_, chunk, sizeof(chunk));
      if (n <= 0)
        return std::nullopt;
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

  /// The first line it prints that starts with `prefix` (within 10 s each).
  std::optional<std::string> line_starting(const std::string& prefix) {
    while (auto l = line())
      if (l->rfind(prefix, 0) == 0)
        return l;
    return std::nullopt;
  }

  void signal(int sig) {
    kill(pid_, sig);
  }

  /// Kills it and waits until it is gone.
  void kill_now() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buf_;
};

/// A worker node in a process of its own; `port` is 0 if it did not start.
struct worker {
  process proc;
  uint16_t port = 0;

  explicit worker(std::vector<std::string> args = {}) : proc(std::move(args)) {
    if (auto l = proc.line_starting("serving on 127.0.0.1:"))
      port = static_cast<uint16_t>(std::stoi(l->substr(l->rfind(':') + 1)));
  }
};

class RemoteTest : public ::testing::Test {
protected:
  struct config : caf::actor_system_config {
    config() {
      scaf::init(*this);
      scaf::init_network(*this);
      set("logger.console", caf::atom("none"));
    }
  };

  config cfg;
  caf::actor_system sys{cfg};
  size_t baseline = sys.registry().running();

  remote_node connect_to(const worker& w) {
    auto n = scaf::connect(sys, "127.0.0.1", w.port);
    EXPECT_TRUE(n) << (n ? "" : render(n.error()));
    return n ? *n : remote_node{};
  }

  /// Waits (bounded) until `n` hosts `count` children.
  bool hosts(const remote_node& n, size_t count) {
    for (int i = 0; i < 500; ++i) {
      if (auto x = n.hosted(); x && *x == count)
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

TEST_F(RemoteTest, ValuesComeBackFromTheNode) {
  worker w;
  ASSERT_NE(w.port, 0);
  auto n = connect_to(w);
  handle<int32_t> sum;
  handle<std::string> echo;
  std::vector<std::string> ended;
  auto result = run(sys, [&](scope& s) {
    s.on_child_done([&](const child_exit& x) {
      ended.push_back(x.name.substr(0, x.name.find('#')));
    });
    sum = spawn_remote<int32_t>(s, n, {}, "add", int32_t{2}, int32_t{40});
    echo = spawn_remote<std::string>(s, n, {}, "echo", "across");
  });
  ASSERT_TRUE(result) << render(result.error());
  ASSERT_TRUE(sum.ready() && echo.ready());
  EXPECT_EQ(sum.get(), 42);
  EXPECT_EQ(echo.get(), "across");
  // Named after the node they ran on.
  std::sort(ended.begin(), ended.end());
  EXPECT_EQ(ended,
            (std::vector<std::string>{"add@" + n.name(), "echo@" + n.name()}));
  EXPECT_TRUE(hosts(n, 0));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(RemoteTest, ScopeReferencesSpawnRemoteChildrenFromAnyThread) {
  worker w;
  ASSERT_NE(w.port, 0);
  auto n = connect_to(w);
  auto owner = make_scope(sys, {.name = "svc"});
  auto sum = spawn_remote<int32_t>(owner.ref(), n, {.name = "sum"}, "add",
                                   int32_t{20}, int32_t{22});
  EXPECT_EQ(sum.wait(), 42);
  auto report = owner.join().wait();
  ASSERT_TRUE(report);
  EXPECT_FALSE(report->failure) << render(report->failure);
  // A scope that is gone says so.
  auto late =
    spawn_remote<int32_t>(owner.ref(), n, {}, "add", int32_t{1}, int32_t{1});
  auto err = late.wait();
  ASSERT_FALSE(err);
  EXPECT_TRUE(is(err.error(), errc::scope_closed)) << render(err.error());
  EXPECT_TRUE(hosts(n, 0));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(RemoteTest, RemoteFailureIsTheScopesFirstFailureAndCancelsSiblings) {
  worker w;
  ASSERT_NE(w.port, 0);
  auto n = connect_to(w);
  handle<int32_t> local;
  auto result = run(sys, [&](scope& s) {
    // The remote task is spawned once the local function runs: a function
    // that a cancel reaches before it starts never runs (and has no value).
    local = s.spawn_fn([&n, ref = s.ref()](std::stop_token stop) {
      ref.call([&n](scope& self) {
        spawn_remote<void>(self, n, {}, "fail", "disk full");
      });
      while (!stop.stop_requested())
        std::this_thread::sleep_for(1ms);
      return int32_t{0};
    });
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), caf::sec::runtime_error) << render(result.error());
  EXPECT_NE(render(result.error()).find("disk full"), std::string::npos)
    << render(result.error());
  // The local sibling saw its stop (its loop ends only then).
  EXPECT_EQ(local.wait(), 0);
  EXPECT_TRUE(hosts(n, 0));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(RemoteTest, CancelCrossesTheWireWithItsReason) {
  worker w;
  ASSERT_NE(w.port, 0);
  auto n = connect_to(w);
  handle<void> watched;
  handle<int32_t> slept;
  auto owner = make_scope(sys, {.name = "svc"});
  owner.ref().call([&](scope& s) {
    watched = spawn_remote<void>(s, n, {}, "watch");
    slept = spawn_remote<int32_t>(s, n, {}, "sleep", int32_t{600000});
  });
  // The node's function pool starts functions in the order they came: once
  // functions that came after `slept` have returned, one after another,
  // `slept` has almost surely started (a function cancelled before it
  // starts never runs, and has no value to return; ASan's timing once
  // caught it between the pool's queue and its start).
  for (int i = 0; i < 3; ++i) {
    handle<int32_t> later;
    ASSERT_TRUE(owner.ref()
                  .call([&](scope& s) {
                    later =
                      spawn_remote<int32_t>(s, n, {}, "sleep", int32_t{0});
                  })
                  .wait());
    ASSERT_TRUE(later.wait());
  }
  ASSERT_TRUE(hosts(n, 2));
  owner.cancel("enough for today");
  auto report = owner.done().wait();
  ASSERT_TRUE(report);
  // The remote task ended with the reason it was given, there.
  auto why = watched.wait();
  ASSERT_FALSE(why);
  EXPECT_TRUE(is(why.error(), errc::cancelled));
  EXPECT_NE(render(why.error()).find("enough for today"), std::string::npos)
    << render(why.error());
  // A function that returns once stopped has its value, as a local one;
  // one the cancel found not yet started never ran, cancelled with the
  // reason given.
  auto ms = slept.wait();
  if (ms) {
    EXPECT_LT(*ms, 600000);
  } else {
    EXPECT_TRUE(is(ms.error(), errc::cancelled)) << render(ms.error());
    EXPECT_NE(render(ms.error()).find("enough for today"), std::string::npos)
      << render(ms.error());
  }
  EXPECT_TRUE(hosts(n, 0));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(RemoteTest, PollingTasksStarveNeitherTheNodeNorItsCancels) {
  // More polling function tasks than the node's scheduler has threads: they
  // run on its function pool, so the node still answers, and the cancel
  // that crosses the wire still reaches every token.
  worker w;
  ASSERT_NE(w.port, 0);
  auto n = connect_to(w);
  constexpr size_t count = 12;
  std::vector<handle<int32_t>> slept;
  auto owner = make_scope(sys, {.name = "svc"});
  owner.ref().call([&](scope& s) {
    for (size_t i = 0; i < count; ++i)
      slept.push_back(spawn_remote<int32_t>(s, n, {}, "sleep", 600000));
  });
  ASSERT_TRUE(hosts(n, count));
  auto answered = n.hosted();
  ASSERT_TRUE(answered) << render(answered.error());
  owner.cancel("enough");
  ASSERT_TRUE(owner.done().wait());
  for (auto& h : slept) {
    // Stopped by the cancel, not by its own end; or, still waiting for a
    // thread of the node's pool when the cancel came, never run.
    auto ms = h.wait();
    if (ms)
      EXPECT_LT(*ms, 600000);
    else
      EXPECT_TRUE(is(ms.error(), errc::cancelled)) << render(ms.error());
  }
  EXPECT_TRUE(hosts(n, 0));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(RemoteTest, ChildOverstayingItsGraceIsKilledOnItsNode) {
  worker w;
  ASSERT_NE(w.port, 0);
  auto n = connect_to(w);
  auto owner = make_scope(sys, {.name = "svc", .grace = 100ms});
  owner.ref().call([&](scope& s) {
    spawn_remote<void>(s, n, {}, "stubborn", int32_t{600000});
  });
  ASSERT_TRUE(hosts(n, 1));
  owner.cancel("stop");
  ASSERT_TRUE(owner.done().wait());
  // Gone on the node too, long before its own ten minutes.
  EXPECT_TRUE(hosts(n, 0));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(RemoteTest, NodeKilledAndStartedAgainOnItsPortServesAtOnce) {
  // 20 times in a row: a node killed with a connection open (its side of
  // the connection lingers in TIME-WAIT) is started again on the same port
  // and serves a new scope at once.
  uint16_t port = 0;
  for (int it = 0; it <= 20; ++it) {
    std::vector<std::string> args;
    if (port != 0)
      args.push_back("--port=" + std::to_string(port));
    worker w{args};
    ASSERT_NE(w.port, 0) << "start " << it << " could not bind port " << port;
    if (port == 0) {
      port = w.port;
      // Reusing the address never lets a second node listen on the port.
      worker twin{{"--port=" + std::to_string(port)}};
      EXPECT_EQ(twin.port, 0);
    }
    ASSERT_EQ(w.port, port);
    auto n = connect_to(w);
    handle<int32_t> sum;
    auto result = run(sys, [&](scope& s) {
      sum = spawn_remote<int32_t>(s, n, {}, "add", int32_t{it}, int32_t{1});
    });
    ASSERT_TRUE(result) << "start " << it << ": " << render(result.error());
    ASSERT_EQ(sum.wait(), it + 1);
    w.proc.kill_now();
  }
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(RemoteTest, KilledNodeFailsTheScopeWithNodeDown) {
  // 100 times: a node process killed while it runs a child; the scope fails
  // with node_down naming the node, cancels its local children, and leaves
  // nothing behind here.
  auto slowest = std::chrono::steady_clock::duration{0};
  for (int it = 0; it < 100; ++it) {
    worker w;
    ASSERT_NE(w.port, 0) << "iteration " << it;
    auto n = connect_to(w);
    std::atomic<bool> hosted{false};
    std::chrono::steady_clock::time_point killed_at;
    auto result = run(sys, [&](scope& s) {
      s.spawn_fn([](std::stop_token stop) {
        while (!stop.stop_requested())
          std::this_thread::sleep_for(1ms);
      });
      spawn_remote<int32_t>(s, n, {}, "sleep", int32_t{600000});
      s.spawn_blocking([&](std::stop_token) {
        if (hosts(n, 1)) {
          hosted = true;
          killed_at = std::chrono::steady_clock::now();
          w.proc.kill_now();
        }
      });
    });
    slowest = std::max(slowest, std::chrono::steady_clock::now() - killed_at);
    ASSERT_TRUE(hosted) << "iteration " << it;
    ASSERT_FALSE(result) << "iteration " << it;
    ASSERT_TRUE(is(result.error(), errc::node_down))
      << "iteration " << it << ": " << render(result.error());
    ASSERT_NE(render(result.error()).find(n.name()), std::string::npos);
    ASSERT_TRUE(back_to_baseline(sys, baseline)) << "iteration " << it;
  }
  std::printf(
    "killed node: the scope ended at most %lld ms after the kill\n",
    static_cast<long long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(slowest).count()));
}

TEST_F(RemoteTest, FrozenNodeIsDetectedThroughTheConnectionTimeout) {
  worker w;
  ASSERT_NE(w.port, 0);
  auto n = connect_to(w);
  auto owner = make_scope(sys, {.name = "svc"});
  handle<int32_t> slept;
  owner.ref().call([&](scope& s) {
    slept = spawn_remote<int32_t>(s, n, {}, "sleep", int32_t{600000});
  });
  ASSERT_TRUE(hosts(n, 1));
  auto frozen_at = std::chrono::steady_clock::now();
  w.proc.signal(SIGSTOP);
  // The default connection timeout is 1 s; the bound keeps a miss from
  // hanging the test.
  auto report = owner.done().wait_for(30s);
  ASSERT_TRUE(report) << "a frozen node was not detected within 30 s";
  auto took = std::chrono::steady_clock::now() - frozen_at;
  ASSERT_TRUE(*report);
  auto failure = (*report)->failure;
  EXPECT_TRUE(is(failure, errc::node_down)) << render(failure);
  // The child's handle says so too.
  auto lost = slept.wait();
  ASSERT_FALSE(lost);
  EXPECT_TRUE(is(lost.error(), errc::node_down)) << render(lost.error());
  std::printf(
    "frozen node detected after %lld ms\n",
    static_cast<long long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(RemoteTest, ChildrenOfAKilledCallerAreStoppedOnTheirNode) {
  worker w;
  ASSERT_NE(w.port, 0);
  auto n = connect_to(w);
  auto where = "--call=127.0.0.1:" + std::to_string(w.port);
  process caller{{where}};
  ASSERT_TRUE(caller.line_starting("calling"));
  ASSERT_TRUE(hosts(n, 1));
  caller.kill_now();
  // Cancelled on the node (its sleep sees the stop), nothing left there.
  EXPECT_TRUE(hosts(n, 0));
}

TEST_F(RemoteTest, UnknownTasksAndOtherTypesAreRefusedBeforeAnythingRuns) {
  worker w;
  ASSERT_NE(w.port, 0);
  auto n = connect_to(w);
  handle<int32_t> unknown;
  handle<std::string> mistyped;
  handle<int32_t> wrong_args;
  auto result = run(sys, [&](scope& s) {
    unknown = spawn_remote<int32_t>(s, n, {}, "nope", int32_t{1});
    mistyped =
      spawn_remote<std::string>(s, n, {}, "add", int32_t{1}, int32_t{2});
    wrong_args = spawn_remote<int32_t>(s, n, {}, "add", "1", "2");
  });
  ASSERT_TRUE(result) << render(result.error());
  auto e1 = unknown.wait().error();
  EXPECT_TRUE(is(e1, errc::unknown_task)) << render(e1);
  EXPECT_NE(render(e1).find("add(@i32, @i32) -> @i32"), std::string::npos)
    << render(e1);
  auto e2 = mistyped.wait().error();
  EXPECT_TRUE(is(e2, errc::type_mismatch)) << render(e2);
  EXPECT_NE(
    render(e2).find("add(@i32, @i32) -> @i32, not add(@i32, @i32) -> @str"),
    std::string::npos)
    << render(e2);
  EXPECT_TRUE(is(wrong_args.wait().error(), errc::type_mismatch));
  EXPECT_TRUE(hosts(n, 0));
}

TEST_F(RemoteTest, PeerWithOtherHeartbeatSettingsIsRefusedAtConnect) {
  worker w{{"--middleman.heartbeat-interval=50ms"}};
  ASSERT_NE(w.port, 0);
  auto n = scaf::connect(sys, "127.0.0.1", w.port);
  ASSERT_FALSE(n);
  EXPECT_TRUE(is(n.error(), errc::protocol_mismatch)) << render(n.error());
  EXPECT_NE(render(n.error()).find("heartbeat 50 ms"), std::string::npos)
    << render(n.error());
}

/// A CA and one node certificate signed by it, made with the openssl tool in
/// a fresh folder; empty if that failed.
std::string make_certificates() {
  char tmpl[] = "/tmp/scaf-tls-XXXXXX";
  if (mkdtemp(tmpl) == nullptr)
    return {};
  std::string dir = tmpl;
  auto cmd = "(cd " + dir +
             " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key"
             " -out ca.pem -days 2 -subj /CN=scaf-test-ca"
             " && openssl req -newkey rsa:2048 -nodes -keyout node.key"
             " -out node.csr -subj /CN=127.0.0.1"
             " && openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key"
             " -CAcreateserial -out node.pem -days 2";
  cmd += ") >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0 ? dir : std::string{};
}

TEST_F(RemoteTest, TlsNodesTalkAndAPlainPeerIsRefused) {
  auto dir = make_certificates();
  ASSERT_FALSE(dir.empty()) << "the openssl tool could not make certificates";
  auto tls = tls_options{.certificate = dir + "/node.pem",
                         .key = dir + "/node.key",
                         .passphrase = "",
                         .cafile = dir + "/ca.pem"};
  worker w{{"--tls.certificate=" + tls.certificate, "--tls.key=" + tls.key,
            "--tls.cafile=" + tls.cafile}};
  ASSERT_NE(w.port, 0);
  {
    // A TLS node in this process spawns there.
    struct tls_config : caf::actor_system_config {
      explicit tls_config(const tls_options& x) {
        //! [tls]
        scaf::init(*this);
        scaf::init_network(*this, {.tls = x});
        //! [tls]
        set("logger.console", caf::atom("none"));
      }
    };
    tls_config tcfg{tls};
    caf::actor_system tsys{tcfg};
    auto n = scaf::connect(tsys, "127.0.0.1", w.port);
    ASSERT_TRUE(n) << render(n.error());
    handle<int32_t> sum;
    auto result = run(tsys, [&](scope& s) {
      sum = spawn_remote<int32_t>(s, *n, {}, "add", int32_t{20}, int32_t{22});
    });
    ASSERT_TRUE(result) << render(result.error());
    EXPECT_EQ(sum.get(), 42);
  }
  // A plain node cannot, and is told why it might be.
  auto plain = scaf::connect(sys, "127.0.0.1", w.port);
  ASSERT_FALSE(plain);
  EXPECT_TRUE(is(plain.error(), errc::node_down)) << render(plain.error());
  EXPECT_NE(render(plain.error()).find("TLS"), std::string::npos)
    << render(plain.error());
  std::filesystem::remove_all(dir);
}

TEST_F(RemoteTest, BlockingCallsRefuseSchedulerThreads) {
  // connect and serve wait for the network: from an actor's thread they
  // refuse instead of stalling it.
  caf::expected<remote_node> connected{remote_node{}};
  caf::expected<node> served{node{}};
  auto result = run(sys, [&](scope& s) {
    s.spawn([&](task_actor* self) -> caf::behavior {
      connected = scaf::connect(sys, "127.0.0.1", 1);
      served = scaf::serve(sys, remote_tasks{});
      self->quit();
      return {};
    });
  });
  ASSERT_TRUE(result) << render(result.error());
  ASSERT_FALSE(connected);
  EXPECT_TRUE(is(connected.error(), errc::would_deadlock))
    << render(connected.error());
  ASSERT_FALSE(served);
  EXPECT_TRUE(is(served.error(), errc::would_deadlock))
    << render(served.error());
}

TEST_F(RemoteTest, NothingListensThere) {
  auto n = scaf::connect(sys, "127.0.0.1", 1);
  ASSERT_FALSE(n);
  EXPECT_TRUE(is(n.error(), errc::node_down)) << render(n.error());
}

} // namespace
} // namespace scaf::test
