// Tests of scopes' children on other nodes (scaf/remote.hpp, scaf/node.hpp,
// scaf/remote_tasks.hpp, scaf/network.hpp): real scaf-node processes on
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
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <caf/sec.hpp>

#include "scaf/all.hpp"
#include "scaf/cluster.hpp"
#include "scaf/network.hpp"
#include "scaf/node.hpp"
#include "scaf/observer.hpp"
#include "scaf/remote.hpp"

#include "../common/fixture.hpp"
#include "../common/http_client.hpp"

extern char** environ;

namespace scaf::test {
namespace {

using namespace std::chrono_literals;

/// A scaf-node process: started with `args`, killed (SIGKILL) and reaped
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
    args.insert(args.begin(), SCAF_NODE);
    std::vector<char*> argv;
    for (auto& x : args)
      argv.push_back(x.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, SCAF_NODE, &actions, nullptr, argv.data(),
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

  /// Stops it as SIGTERM does and waits until it is gone.
  void stop_now() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
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

// -- the end x kind matrix
// -----------------------------------------------------

/// A probe task of one kind on the worker node (demos/scaf_node.cpp).
struct probe_kind {
  const char* task;
  /// Whether it has a value (`std::string`), or is `void`.
  bool has_value;
};

constexpr probe_kind probe_kinds[] = {
  {"probe_behavior", false}, {"probe_behavior_value", true},
  {"probe_function", true},  {"probe_context", true},
  {"probe_blocking", true},
};

/// The handle of a probe, whatever its type.
struct probe_handle {
  std::function<caf::expected<std::string>()> wait;
  std::function<void(caf::error)> cancel;
  std::function<void()> abort;
};

probe_handle spawn_probe(scope& s, const remote_node& n, const probe_kind& k,
                         const std::string& how, spawn_options opts = {}) {
  if (k.has_value) {
    auto h = spawn_remote<std::string>(s, n, std::move(opts), k.task, how);
    return {[h] { return h.wait(); }, [h](caf::error e) { h.cancel(e); },
            [h] { h.abort(); }};
  }
  auto h = spawn_remote<void>(s, n, std::move(opts), k.task, how);
  return {[h]() -> caf::expected<std::string> {
            auto x = h.wait();
            if (!x)
              return std::move(x.error());
            return std::string{"ok"};
          },
          [h](caf::error e) { h.cancel(e); }, [h] { h.abort(); }};
}

/// A probe of kind `k` named "probe" that waits, spawned into `owner` on
/// `w`'s node `n`; none if it did not start there.
std::optional<probe_handle> waiting_probe(scope_owner& owner, worker& w,
                                          const remote_node& n,
                                          const probe_kind& k) {
  probe_handle h;
  owner.ref()
    .call(
      [&](scope& s) { h = spawn_probe(s, n, k, "wait", {.name = "probe"}); })
    .wait();
  if (!w.proc.line_starting("probe started:"))
    return std::nullopt;
  return h;
}

/// A short name for how something ended: "value", "ok" or the error's code.
std::string code_name(const caf::expected<std::string>& x) {
  if (x)
    return *x == "ok" ? "ok" : "value";
  auto& err = x.error();
  if (code_of(err) != errc::none)
    return to_string(code_of(err));
  if (err.category() == caf::atom("system"))
    return caf::to_string(static_cast<caf::sec>(err.code()));
  return render(err);
}

std::string scope_name(const scope_report& r) {
  switch (r.status) {
  case scope_status::succeeded:
    return "ok";
  case scope_status::cancelled:
    return "cancelled";
  default:
    return code_name(caf::expected<std::string>{r.failure});
  }
}

/// What the caller saw of one probe: its handle and its scope.
struct probe_seen {
  caf::expected<std::string> handle{std::string{}};
  scope_report report;
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
  // The handle a reference returns cancels the child on its node, from
  // another thread, with the reason.
  auto watched =
    spawn_remote<void>(owner.ref(), n, {.name = "watched"}, "watch");
  ASSERT_TRUE(hosts(n, 1));
  std::thread{[watched] {
    watched.cancel(make_error(errc::cancelled, "", "from another thread"));
  }}.join();
  auto why = watched.wait();
  ASSERT_FALSE(why);
  EXPECT_TRUE(is(why.error(), errc::cancelled));
  EXPECT_NE(render(why.error()).find("from another thread"), std::string::npos)
    << render(why.error());
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

TEST_F(RemoteTest, ATaskConnectsWithoutBlockingItsThread) {
  worker w;
  ASSERT_NE(w.port, 0);
  std::string seen;
  auto result = run(sys, [&](scope& s) {
    s.spawn([&](task_actor* self) -> caf::behavior {
      connect_async(sys, "127.0.0.1", w.port)
        .then(self, [&, self](const caf::expected<remote_node>& n) {
          if (!n) {
            self->quit(n.error());
            return;
          }
          seen = n->name() + " offers " + std::to_string(n->offers().size());
          self->quit();
        });
      return {[](caf::atom_constant<caf::atom("never")>) {}};
    });
  });
  ASSERT_TRUE(result) << render(result.error());
  auto n = connect_to(w);
  EXPECT_EQ(seen, n.name() + " offers " + std::to_string(n.offers().size()));
  ASSERT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(RemoteTest, ConnectAsyncToNothingResolvesWithNodeDown) {
  auto n = connect_async(sys, "127.0.0.1", 1).wait();
  ASSERT_FALSE(n);
  EXPECT_TRUE(is(n.error(), errc::node_down)) << render(n.error());
  EXPECT_NE(render(n.error()).find("cannot reach node 127.0.0.1:1"),
            std::string::npos)
    << render(n.error());
  ASSERT_TRUE(back_to_baseline(sys, baseline)) << "the connecting actor quit";
}

TEST_F(RemoteTest, ANodeTellsItsHoldersWhenItGoesDownOutsideAnyScope) {
  worker w;
  ASSERT_NE(w.port, 0);
  auto n = connect_to(w);
  auto down = n.when_down();
  EXPECT_EQ(down.wait_for(100ms), std::nullopt) << "the node is up";
  // An actor holding the node hears it too, on its own thread.
  std::atomic<bool> actor_heard{false};
  sys.spawn([&](caf::event_based_actor* self) {
    n.when_down().then(self, [&, self](const caf::expected<void>& x) {
      actor_heard = !x && is(x.error(), errc::node_down);
      self->quit();
    });
    // A plain actor runs continuations from its behavior.
    return caf::behavior{continuation_handler()};
  });
  w.proc.kill_now();
  auto seen = down.wait_for(30s);
  ASSERT_TRUE(seen) << "no word of the lost node within 30 s";
  ASSERT_FALSE(*seen);
  EXPECT_TRUE(is(seen->error(), errc::node_down)) << render(seen->error());
  EXPECT_NE(render(seen->error()).find("node " + n.name() + " is gone"),
            std::string::npos)
    << render(seen->error());
  // Asked once the node is gone, it answers at once.
  auto later = n.when_down().wait_for(5s);
  ASSERT_TRUE(later);
  EXPECT_FALSE(*later);
  ASSERT_TRUE(back_to_baseline(sys, baseline));
  EXPECT_TRUE(actor_heard);
}

// Every way a remote child can end, for every kind of task, against a real
// node process: what its caller's handle and scope see, as a local child of
// its kind would give, or `node_down`; never a success it did not earn.
TEST_F(RemoteTest, EveryEndOfEveryKindReachesTheCallerAsALocalChildsWould) {
  worker w;
  ASSERT_NE(w.port, 0);
  auto n = connect_to(w);
  // One probe in a scope of its own; `act` does to it what the end needs.
  auto probe = [&](const probe_kind& k, const std::string& how,
                   const std::function<void(scope_owner&, probe_handle&)>& act,
                   spawn_options opts = {}) {
    auto owner = make_scope(sys, {.name = "probe"});
    probe_handle h;
    owner.ref()
      .call([&](scope& s) { h = spawn_probe(s, n, k, how, opts); })
      .wait();
    if (how == "wait" || how == "stubborn") {
      EXPECT_TRUE(w.proc.line_starting("probe started:")) << k.task;
    }
    act(owner, h);
    probe_seen seen;
    seen.handle = h.wait();
    auto report = owner.join().wait();
    EXPECT_TRUE(report);
    if (report)
      seen.report = *report;
    return seen;
  };
  auto nothing = [](scope_owner&, probe_handle&) {};
  auto cancel_scope = [](scope_owner& o, probe_handle&) {
    o.cancel("probe reason");
  };
  auto cancel_handle = [](scope_owner&, probe_handle& h) {
    h.cancel(make_error(errc::cancelled, "", "probe reason"));
  };
  auto abort_handle = [](scope_owner&, probe_handle& h) { h.abort(); };
  struct end {
    const char* name;
    const char* how;
    std::function<void(scope_owner&, probe_handle&)> act;
    spawn_options opts;
  };
  std::vector<end> ends{
    {"value", "value", nothing, {}},
    {"error", "error", nothing, {}},
    {"exception", "throw", nothing, {}},
    {"scope cancelled", "wait", cancel_scope, {}},
    {"handle cancelled", "wait", cancel_handle, {}},
    {"grace overstayed",
     "stubborn",
     cancel_scope,
     {.grace = std::chrono::milliseconds{100}}},
    {"handle aborted", "wait", abort_handle, {}},
  };
  // kind -> end -> "handle / scope", as a local child of the kind ends.
  std::map<std::string, std::map<std::string, std::string>> want{
    {"probe_behavior",
     {{"value", "ok / ok"},
      {"error", "runtime_error / runtime_error"},
      {"exception", "task_exception / task_exception"},
      {"scope cancelled", "cancelled / cancelled"},
      {"handle cancelled", "cancelled / ok"},
      {"grace overstayed", "killed / cancelled"},
      {"handle aborted", "killed / ok"}}},
    {"probe_behavior_value",
     {{"value", "value / ok"},
      {"error", "runtime_error / runtime_error"},
      {"exception", "task_exception / task_exception"},
      {"scope cancelled", "cancelled / cancelled"},
      {"handle cancelled", "cancelled / ok"},
      {"grace overstayed", "killed / cancelled"},
      {"handle aborted", "killed / ok"}}},
    // f() is deaf once it runs: it returns its value, which no cancel
    // discards.
    {"probe_function",
     {{"value", "value / ok"},
      {"error", "runtime_error / runtime_error"},
      {"exception", "task_exception / task_exception"},
      {"scope cancelled", "value / cancelled"},
      {"handle cancelled", "value / ok"},
      {"grace overstayed", "value / cancelled"},
      {"handle aborted", "value / ok"}}},
    // A function that sees its token ends with the cancel's reason; one past
    // its grace period cannot be killed: it is waited for, with its value.
    {"probe_context",
     {{"value", "value / ok"},
      {"error", "runtime_error / runtime_error"},
      {"exception", "task_exception / task_exception"},
      {"scope cancelled", "cancelled / cancelled"},
      {"handle cancelled", "cancelled / ok"},
      {"grace overstayed", "value / cancelled"},
      {"handle aborted", "cancelled / ok"}}},
    {"probe_blocking",
     {{"value", "value / ok"},
      {"error", "runtime_error / runtime_error"},
      {"exception", "task_exception / task_exception"},
      {"scope cancelled", "cancelled / cancelled"},
      {"handle cancelled", "cancelled / ok"},
      {"grace overstayed", "value / cancelled"},
      {"handle aborted", "cancelled / ok"}}},
  };
  std::string table;
  for (auto& k : probe_kinds) {
    for (auto& e : ends) {
      auto seen = probe(k, e.how, e.act, e.opts);
      auto got = code_name(seen.handle) + " / " + scope_name(seen.report);
      table += std::string{k.task} + " | " + e.name + " | " + got + "\n";
      EXPECT_EQ(got, want[k.task][e.name])
        << k.task << ", " << e.name << ": "
        << (seen.handle ? *seen.handle : render(seen.handle.error()));
      // Errors name the node they came from; cancels carry their reason.
      if (seen.handle)
        continue;
      auto text = render(seen.handle.error());
      if (!is_stopped(seen.handle.error())) {
        EXPECT_NE(text.find(n.name()), std::string::npos) << text;
      }
      if (std::string{e.how} == "throw") {
        EXPECT_NE(text.find("thrown on purpose"), std::string::npos) << text;
      }
      if (is(seen.handle.error(), errc::cancelled) &&
          std::string{e.name}.find("cancelled") != std::string::npos) {
        EXPECT_NE(text.find("probe reason"), std::string::npos)
          << k.task << ", " << e.name << ": " << text;
      }
    }
  }
  std::printf("%s", table.c_str());
  EXPECT_TRUE(hosts(n, 0));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

// The node's own end, while a probe of every kind runs on it: killed,
// frozen, or stopped (SIGTERM, which cancels its children): each caller
// sees `node_down` naming the node, never the value a function returned on
// its way out.
TEST_F(RemoteTest, EveryKindSeesTheLossOfItsNodeAsNodeDown) {
  struct loss {
    const char* name;
    int sig;
  };
  for (auto [name, sig] : {loss{"killed", SIGKILL}, loss{"frozen", SIGSTOP},
                           loss{"stopped", SIGTERM}}) {
    worker w;
    ASSERT_NE(w.port, 0);
    auto n = connect_to(w);
    std::vector<scope_owner> owners;
    std::vector<probe_handle> hs;
    for (auto& k : probe_kinds) {
      owners.push_back(make_scope(sys, {.name = "probe"}));
      owners.back()
        .ref()
        .call([&](scope& s) { hs.push_back(spawn_probe(s, n, k, "wait")); })
        .wait();
    }
    for (size_t i = 0; i < std::size(probe_kinds); ++i)
      ASSERT_TRUE(w.proc.line_starting("probe started:")) << name;
    w.proc.signal(sig);
    for (size_t i = 0; i < std::size(probe_kinds); ++i) {
      auto seen = hs[i].wait();
      auto report = owners[i].join().wait();
      ASSERT_TRUE(report);
      std::printf("%s | node %s | %s / %s\n", probe_kinds[i].task, name,
                  code_name(seen).c_str(), scope_name(*report).c_str());
      ASSERT_FALSE(seen) << probe_kinds[i].task << ", node " << name << ": "
                         << *seen;
      EXPECT_TRUE(is(seen.error(), errc::node_down))
        << probe_kinds[i].task << ", node " << name << ": "
        << render(seen.error());
      EXPECT_NE(render(seen.error()).find(n.name()), std::string::npos)
        << render(seen.error());
      EXPECT_TRUE(is(report->failure, errc::node_down))
        << render(report->failure);
    }
    // A node known lost answers at once, not after its timeout.
    if (sig != SIGTERM) {
      auto hosted = n.hosted();
      ASSERT_FALSE(hosted);
      EXPECT_TRUE(is(hosted.error(), errc::node_down));
      EXPECT_NE(render(hosted.error()).find("is gone"), std::string::npos)
        << render(hosted.error());
    }
    w.proc.kill_now();
  }
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

/// The first node of `tree` (depth first) whose name is `name`.
const tree_node* find_node(const tree_node& tree, const std::string& name) {
  if (tree.name == name)
    return &tree;
  for (auto& child : tree.children)
    if (auto x = find_node(child, name))
      return x;
  return nullptr;
}

TEST_F(RemoteTest, TheLiveTreeReachesIntoTheNodesOfRemoteChildren) {
  worker w;
  ASSERT_NE(w.port, 0);
  auto n = connect_to(w);
  auto owner = make_scope(sys, {.name = "svc"});
  auto started = waiting_probe(owner, w, n, probe_kinds[3]);
  ASSERT_TRUE(started);
  auto& h = *started;
  auto tree = owner.ref().tree().wait();
  ASSERT_TRUE(tree);
  auto probe = find_node(*tree, "probe");
  ASSERT_NE(probe, nullptr) << to_text(*tree);
  EXPECT_EQ(probe->kind, "remote");
  EXPECT_EQ(probe->node, n.name());
  EXPECT_FALSE(probe->unanswered) << to_text(*tree);
  // Its subtree there: the nested scope that runs it, the task, the scope
  // the task opened, and the function in that.
  ASSERT_EQ(probe->children.size(), 1u) << to_text(*tree);
  auto& there = probe->children.front();
  EXPECT_EQ(there.name, "probe_context");
  EXPECT_EQ(there.path.rfind(n.name() + "/", 0), 0u) << there.path;
  auto waiter = find_node(there, "waiter");
  ASSERT_NE(waiter, nullptr) << to_text(*tree);
  EXPECT_EQ(waiter->kind, "function");
  EXPECT_NE(to_text(*tree).find("on node " + n.name()), std::string::npos)
    << to_text(*tree);
  // A node that is gone leaves its children's subtrees unanswered, within
  // the tree's timeout.
  w.proc.signal(SIGSTOP);
  auto late = owner.ref().tree().wait();
  ASSERT_TRUE(late);
  auto frozen = find_node(*late, "probe");
  ASSERT_NE(frozen, nullptr) << to_text(*late);
  EXPECT_TRUE(frozen->unanswered) << to_text(*late);
  EXPECT_TRUE(frozen->children.empty()) << to_text(*late);
  // Lost while its scope does not stop it: node_down, which fails the
  // scope.
  w.proc.kill_now();
  auto lost = h.wait();
  ASSERT_FALSE(lost);
  EXPECT_TRUE(is(lost.error(), errc::node_down)) << render(lost.error());
  auto report = owner.done().wait();
  ASSERT_TRUE(report);
  EXPECT_TRUE(is(report->failure, errc::node_down));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

// The observer's cancel of a remote child: through its stand-in, the reason
// crossing the wire; a node inside its subtree there is refused, naming the
// stand-in to cancel instead.
TEST_F(RemoteTest, TheObserverCancelsARemoteChildThroughItsStandIn) {
  worker w;
  ASSERT_NE(w.port, 0);
  auto n = connect_to(w);
  auto owner = make_scope(sys, {.name = "svc"});
  auto started = waiting_probe(owner, w, n, probe_kinds[0]);
  ASSERT_TRUE(started);
  auto& h = *started;
  auto obs = observer::start(sys, {.token = "k"});
  ASSERT_TRUE(obs) << render(obs.error());
  auto inside = test::http_post_cancel(
    obs->port(), "k", test::cancel_body("svc/probe/probe_behavior", "no"));
  EXPECT_EQ(inside.status, 404);
  EXPECT_EQ(inside.json()["error"],
            "scaf::no_such_child(svc/probe/probe_behavior: it runs on another "
            "node: cancel svc/probe, which stands in for it)");
  auto tree = test::http_get(obs->port(), "/api/tree", "k").json();
  ASSERT_EQ(tree["scopes"].size(), 1u);
  EXPECT_EQ(tree["scopes"][0]["children"][0]["node"], n.name());
  auto cancelled = test::http_post_cancel(
    obs->port(), "k", test::cancel_body("svc/probe", "moving it"));
  EXPECT_EQ(cancelled.status, 200) << cancelled.body;
  auto end = h.wait();
  ASSERT_FALSE(end);
  EXPECT_TRUE(is(end.error(), errc::cancelled)) << render(end.error());
  EXPECT_NE(render(end.error()).find("moving it"), std::string::npos)
    << render(end.error());
  owner.ref().cancel("done");
  ASSERT_TRUE(owner.done().wait());
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

// A caller and its node each trace to a file of their own; merged, they are
// one trace on one time line: the child's span on its node lies inside its
// stand-in's span in its caller's trace.
TEST_F(RemoteTest, TheTracesOfACallerAndItsNodeMergeIntoOne) {
  auto dir = std::filesystem::temp_directory_path() /
             ("scaf_traces_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto node_file = (dir / "node.json").string();
  auto caller_file = (dir / "caller.json").string();
  auto merged_file = (dir / "merged.json").string();
  std::string node_name;
  {
    worker w{{"--scaf.trace-file=" + node_file}};
    ASSERT_NE(w.port, 0);
    // A caller with a trace of its own (the trace belongs to one system).
    config traced_cfg;
    traced_cfg.set("scaf.trace-file", caller_file);
    caf::actor_system traced{traced_cfg};
    auto n = scaf::connect(traced, "127.0.0.1", w.port);
    ASSERT_TRUE(n) << render(n.error());
    node_name = n->name();
    handle<int32_t> sum;
    auto ran = run(traced, [&](scope& s) {
      sum = spawn_remote<int32_t>(s, *n, {.name = "sum"}, "add", 20, 22);
    });
    ASSERT_TRUE(ran) << render(ran.error());
    EXPECT_EQ(sum.get(), 42);
    // The node writes the rest of its trace as it stops.
    w.proc.stop_now();
  }
  ASSERT_FALSE(merge_traces({caller_file, node_file}, merged_file));
  std::ifstream in{merged_file};
  auto events = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(events.is_array());
  std::map<int, std::string> processes;
  const nlohmann::json* stand_in = nullptr;
  const nlohmann::json* child = nullptr;
  for (auto& e : events) {
    if (e["ph"] == "M" && e["name"] == "process_name")
      processes[e["pid"].get<int>()] = e["args"]["name"].get<std::string>();
    if (e["ph"] != "X")
      continue;
    auto path = e["args"]["path"].get<std::string>();
    if (path == "root/sum")
      stand_in = &e;
    else if (path.rfind(node_name + "/", 0) == 0 && path.size() > 8 &&
             path.substr(path.size() - 8) == "add/task")
      child = &e;
  }
  ASSERT_EQ(processes.size(), 2u);
  EXPECT_EQ(processes[1].rfind("root (", 0), 0u) << processes[1];
  EXPECT_EQ(processes[2].rfind(node_name + " (", 0), 0u) << processes[2];
  ASSERT_NE(stand_in, nullptr);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ((*stand_in)["pid"], 1);
  EXPECT_EQ((*child)["pid"], 2);
  auto begin = (*stand_in)["ts"].get<int64_t>();
  auto end = begin + (*stand_in)["dur"].get<int64_t>();
  EXPECT_LE(begin, (*child)["ts"].get<int64_t>());
  EXPECT_LE((*child)["ts"].get<int64_t>() + (*child)["dur"].get<int64_t>(),
            end);
  // A file that is not a trace is refused by name, and nothing is written.
  auto bad =
    merge_traces({caller_file, merged_file + ".missing"}, merged_file + ".out");
  ASSERT_TRUE(bad);
  EXPECT_TRUE(is(bad, errc::invalid_argument));
  EXPECT_NE(render(bad).find(".missing"), std::string::npos) << render(bad);
  EXPECT_FALSE(std::filesystem::exists(merged_file + ".out"));
  std::filesystem::remove_all(dir);
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

// -- clusters -----------------------------------------------------------------

class ClusterTest : public RemoteTest {
protected:
  /// A cluster of the workers `ws`.
  cluster cluster_of(const std::vector<worker*>& ws,
                     placement policy = placement::round_robin) {
    std::vector<std::string> addresses;
    for (auto w : ws)
      addresses.push_back("127.0.0.1:" + std::to_string(w->port));
    auto c = connect_cluster(sys, addresses, {.policy = policy});
    EXPECT_TRUE(c) << (c ? "" : render(c.error()));
    return c ? *c : cluster{};
  }

  /// Waits (bounded) until `c`'s load is `want`.
  static bool load_is(const cluster& c, const std::vector<size_t>& want) {
    for (int i = 0; i < 500; ++i) {
      if (c.load() == want)
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
};

TEST_F(ClusterTest, RoundRobinSpreadsChildrenOverTheNodes) {
  worker a, b, c;
  ASSERT_TRUE(a.port && b.port && c.port);
  auto cl = cluster_of({&a, &b, &c});
  ASSERT_EQ(cl.nodes().size(), 3u);
  std::vector<std::string> names;
  auto result = run(sys, [&](scope& s) {
    s.on_child_done([&](const child_exit& x) { names.push_back(x.name); });
    for (int i = 0; i < 9; ++i)
      spawn_remote<std::string>(s, cl, {}, "echo", "x");
  });
  ASSERT_TRUE(result) << render(result.error());
  // Three children on each node, named after it.
  std::map<std::string, int> per_node;
  for (auto& x : names)
    ++per_node[x.substr(x.find('@') + 1, x.find('#') - x.find('@') - 1)];
  EXPECT_EQ(per_node.size(), 3u);
  for (auto& n : cl.nodes())
    EXPECT_EQ(per_node[n.name()], 3) << n.name();
  EXPECT_EQ(cl.load(), (std::vector<size_t>{0, 0, 0}));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(ClusterTest, LeastLoadedPicksTheNodeWithTheFewestChildren) {
  worker a, b, c;
  ASSERT_TRUE(a.port && b.port && c.port);
  auto cl = cluster_of({&a, &b, &c}, placement::least_loaded);
  auto owner = make_scope(sys, {.name = "svc"});
  std::map<std::string, handle<void>> hs;
  auto spawn_watch = [&](const std::string& name) {
    owner.ref()
      .call([&](scope& s) {
        hs[name] =
          spawn_remote<void>(s, cl, {.child = {.name = name}}, "watch");
      })
      .wait();
  };
  for (int i = 0; i < 6; ++i)
    spawn_watch("w" + std::to_string(i));
  EXPECT_EQ(cl.load(), (std::vector<size_t>{2, 2, 2}));
  // Where each child runs, as the live tree says.
  auto tree = owner.ref().tree().wait();
  ASSERT_TRUE(tree);
  auto second = cl.nodes()[1].name();
  size_t cancelled = 0;
  for (auto& child : tree->children)
    if (child.node == second) {
      hs[child.name].cancel();
      ASSERT_FALSE(hs[child.name].wait());
      ++cancelled;
    }
  ASSERT_EQ(cancelled, 2u) << to_text(*tree);
  EXPECT_TRUE(load_is(cl, {2, 0, 2}));
  // The next two go to the node that has room.
  spawn_watch("w6");
  spawn_watch("w7");
  EXPECT_EQ(cl.load(), (std::vector<size_t>{2, 2, 2}));
  owner.cancel();
  ASSERT_TRUE(owner.done().wait());
  EXPECT_TRUE(load_is(cl, {0, 0, 0}));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(ClusterTest, ALostNodeFailsTheScopeUnlessTheChildIsIdempotent) {
  worker a, b;
  ASSERT_TRUE(a.port && b.port);
  auto cl = cluster_of({&a, &b});
  auto first = cl.nodes()[0].name();
  // Two sleeps, one a node: the first node dies under them.
  auto owner = make_scope(sys, {.name = "svc"});
  handle<int32_t> plain, retried;
  owner.ref()
    .call([&](scope& s) {
      plain = spawn_remote<int32_t>(s, cl, {}, "sleep", int32_t{300});
      retried = spawn_remote<int32_t>(s, cl, {.idempotent = true}, "sleep",
                                      int32_t{300});
    })
    .wait();
  EXPECT_EQ(cl.load(), (std::vector<size_t>{1, 1}));
  a.proc.kill_now();
  // The plain child fails its scope with node_down, naming the node; the
  // idempotent one would have run again elsewhere had its node died.
  auto x = plain.wait();
  ASSERT_FALSE(x);
  EXPECT_TRUE(is(x.error(), errc::node_down)) << render(x.error());
  EXPECT_NE(render(x.error()).find(first), std::string::npos);
  auto report = owner.done().wait();
  ASSERT_TRUE(report);
  EXPECT_TRUE(is(report->failure, errc::node_down));
  EXPECT_EQ(cl.lost(), (std::vector<bool>{true, false}));
  // Placement skips the lost node from now on.
  handle<std::string> again;
  auto ran = run(sys, [&](scope& s) {
    again = spawn_remote<std::string>(s, cl, {}, "echo", "still here");
  });
  ASSERT_TRUE(ran) << render(ran.error());
  EXPECT_EQ(again.get(), "still here");
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(ClusterTest, AChildsOwnNodeDownErrorIsItsFailureNotItsNodesLoss) {
  worker a, b;
  ASSERT_TRUE(a.port && b.port);
  auto cl = cluster_of({&a, &b});
  handle<std::string> h;
  auto ran = run(sys, [&](scope& s) {
    h = spawn_remote<std::string>(s, cl, {.idempotent = true}, "probe_context",
                                  "node_down");
  });
  ASSERT_FALSE(ran);
  // Its own error, from its node: not run again, no node marked lost.
  auto x = h.get();
  ASSERT_FALSE(x);
  EXPECT_TRUE(is(x.error(), errc::node_down));
  EXPECT_NE(render(x.error()).find("a node this task used was lost"),
            std::string::npos)
    << render(x.error());
  EXPECT_EQ(cl.lost(), (std::vector<bool>{false, false}));
  EXPECT_EQ(cl.load(), (std::vector<size_t>{0, 0}));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(ClusterTest, AStoppedChildWhoseNodeIsLostIsNotRunAgain) {
  worker a, b;
  ASSERT_TRUE(a.port && b.port);
  auto cl = cluster_of({&a, &b});
  // Aborted while its node is frozen, then the node dies: killed, as its
  // scope asked, and not run again on the other node.
  auto owner = make_scope(sys, {.name = "svc"});
  handle<void> h;
  owner.ref()
    .call([&](scope& s) {
      h = spawn_remote<void>(s, cl, {.idempotent = true}, "watch");
    })
    .wait();
  ASSERT_TRUE(hosts(cl.nodes()[0], 1));
  a.proc.signal(SIGSTOP);
  h.abort();
  a.proc.kill_now();
  auto x = h.wait();
  ASSERT_FALSE(x);
  EXPECT_TRUE(is(x.error(), errc::killed)) << render(x.error());
  EXPECT_TRUE(hosts(cl.nodes()[1], 0));
  auto report = owner.join().wait();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, scope_status::succeeded) << render(report->failure);
  // Cancelled while its node is frozen, then the node dies: cancelled, and
  // its scope is cancelled, not failed.
  auto owner2 = make_scope(sys, {.name = "svc2"});
  owner2.ref()
    .call([&](scope& s) {
      h = spawn_remote<void>(s, cl, {.idempotent = true}, "watch");
    })
    .wait();
  ASSERT_TRUE(hosts(cl.nodes()[1], 1));
  b.proc.signal(SIGSTOP);
  owner2.cancel("done here");
  b.proc.kill_now();
  auto y = h.wait();
  ASSERT_FALSE(y);
  EXPECT_TRUE(is(y.error(), errc::cancelled)) << render(y.error());
  auto report2 = owner2.done().wait();
  ASSERT_TRUE(report2);
  EXPECT_EQ(report2->status, scope_status::cancelled)
    << render(report2->failure);
  EXPECT_EQ(cl.load(), (std::vector<size_t>{0, 0}));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(ClusterTest, AnIdempotentChildRunsAgainOnAnotherNode) {
  worker a, b, c;
  ASSERT_TRUE(a.port && b.port && c.port);
  auto cl = cluster_of({&a, &b, &c});
  auto owner = make_scope(sys, {.name = "svc"});
  handle<int32_t> h;
  owner.ref()
    .call([&](scope& s) {
      h = spawn_remote<int32_t>(s, cl, {.idempotent = true, .max_attempts = 2},
                                "sleep", int32_t{400});
    })
    .wait();
  // It went to the first node; kill it there: it runs again on another.
  EXPECT_EQ(cl.load(), (std::vector<size_t>{1, 0, 0}));
  a.proc.kill_now();
  auto x = h.wait();
  ASSERT_TRUE(x) << render(x.error());
  EXPECT_GE(*x, 400);
  auto report = owner.join().wait();
  ASSERT_TRUE(report);
  EXPECT_FALSE(report->failure) << render(report->failure);
  EXPECT_EQ(cl.lost(), (std::vector<bool>{true, false, false}));
  // Out of runs: the second loss is the scope's.
  auto owner2 = make_scope(sys, {.name = "svc2"});
  owner2.ref()
    .call([&](scope& s) {
      h = spawn_remote<int32_t>(s, cl, {.idempotent = true, .max_attempts = 2},
                                "sleep", int32_t{60000});
    })
    .wait();
  std::vector<size_t> load;
  for (int i = 0; i < 500 && (load = cl.load()) == std::vector<size_t>{0, 0, 0};
       ++i)
    std::this_thread::sleep_for(10ms);
  auto on_b = load[1] == 1;
  (on_b ? b : c).proc.kill_now();
  EXPECT_TRUE(load_is(cl, on_b ? std::vector<size_t>{0, 0, 1}
                               : std::vector<size_t>{0, 1, 0}));
  (on_b ? c : b).proc.kill_now();
  auto y = h.wait();
  ASSERT_FALSE(y);
  EXPECT_TRUE(is(y.error(), errc::node_down)) << render(y.error());
  auto report2 = owner2.done().wait();
  ASSERT_TRUE(report2);
  EXPECT_TRUE(is(report2->failure, errc::node_down));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

TEST_F(ClusterTest, BadClustersAndTasksNoNodeOffersAreRefused) {
  worker a;
  ASSERT_NE(a.port, 0);
  auto none = make_cluster({});
  ASSERT_FALSE(none);
  EXPECT_TRUE(is(none.error(), errc::invalid_argument));
  auto n = connect_to(a);
  auto twice = make_cluster({n, n});
  ASSERT_FALSE(twice);
  EXPECT_TRUE(is(twice.error(), errc::invalid_argument))
    << render(twice.error());
  auto bad = connect_cluster(sys, {"127.0.0.1"});
  ASSERT_FALSE(bad);
  EXPECT_TRUE(is(bad.error(), errc::invalid_argument)) << render(bad.error());
  auto cl = cluster_of({&a});
  handle<int32_t> h;
  auto ran = run(sys, [&](scope& s) {
    h = spawn_remote<int32_t>(s, cl, {}, "no_such_task", int32_t{1});
  });
  // Refused before anything runs: the scope has nothing to fail with.
  ASSERT_TRUE(ran) << render(ran.error());
  auto x = h.get();
  ASSERT_FALSE(x);
  EXPECT_TRUE(is(x.error(), errc::unknown_task)) << render(x.error());
  EXPECT_EQ(cl.load(), (std::vector<size_t>{0}));
  EXPECT_TRUE(back_to_baseline(sys, baseline));
}

} // namespace
} // namespace scaf::test
