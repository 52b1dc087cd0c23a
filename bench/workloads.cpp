// scaf_bench: the workloads of docs/performance.md, each written twice in one
// binary, once with scaf and once in plain CAF 0.17 the way a CAF expert
// would (the floor), both on scaf's scheduler. The driver runs every
// measurement in a fresh child process (so peak RSS is per run), alternating
// variants, and prints medians, min-max and the ratio scaf/raw measured in
// this run; with --peers it runs the Erlang/OTP and Go errgroup versions of
// W1-W3 and Erlang/OTP's supervisor (bench/peers/) side by side.
//
//   scaf_bench [--runs R] [--quick] [--erlang PEER.erl --go PEER-BINARY]
//              [--json FILE]
//   scaf_bench --one WORKLOAD VARIANT N      (one measurement; used by the
//   driver)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include "scaf/all.hpp"
#include "scaf/cluster.hpp"
#include "scaf/network.hpp"
#include "scaf/node.hpp"
#include "scaf/observer.hpp"
#include "scaf/pool.hpp"
#include "scaf/remote.hpp"
#include "scaf/supervisor.hpp"
#include "scaf/tree.hpp"

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;
using go_atom = caf::atom_constant<caf::atom("go")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;

// -- measuring ----------------------------------------------------------------

long status_kb(const char* key) {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  auto len = std::strlen(key);
  while (std::getline(in, line))
    if (line.compare(0, len, key) == 0)
      return std::atol(line.c_str() + len + 1);
  return -1;
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

struct config : caf::actor_system_config {
  config() {
    scaf::init(*this);
    set("logger.console", caf::atom("none"));
  }
};

/// Waits until `counter` reaches `n`.
void await_count(const std::atomic<long>& counter, long n) {
  while (counter.load() < n)
    std::this_thread::sleep_for(std::chrono::microseconds{200});
}

// -- W1: fan-out
// ----------------------------------------------------------------

/// Runs a scope that calls `spawn(s, i)` for i in [0, n) and waits for all.
template <class Spawn>
double w1_with(caf::actor_system& sys, long n, Spawn spawn) {
  auto start = clock_type::now();
  auto r = scaf::run(sys, [n, &spawn](scaf::scope& s) {
    for (long i = 0; i < n; ++i)
      spawn(s, i);
  });
  if (!r)
    std::abort();
  return seconds_since(start);
}

double w1_scaf(caf::actor_system& sys, long n) {
  return w1_with(sys, n, [](scaf::scope& s, long) {
    s.spawn([](scaf::task_actor* self) -> caf::behavior {
      self->quit();
      return {};
    });
  });
}

double w1_scaf_fn(caf::actor_system& sys, long n) {
  return w1_with(sys, n,
                 [](scaf::scope& s, long i) { s.spawn_fn([i] { return i; }); });
}

double w1_scaf_blocking(caf::actor_system& sys, long n) {
  return w1_with(sys, n, [](scaf::scope& s, long i) {
    s.spawn_blocking([i](std::stop_token) { return i; });
  });
}

/// Raw CAF: one actor spawns n monitored children that finish at once and
/// counts their down messages.
template <caf::spawn_options Os>
double w1_raw_impl(caf::actor_system& sys, long n) {
  caf::scoped_actor self{sys};
  auto start = clock_type::now();
  auto parent = sys.spawn([n](caf::event_based_actor* p) -> caf::behavior {
    return {[=](go_atom) -> caf::result<long> {
      auto rp = std::make_shared<caf::typed_response_promise<long>>(
        p->make_response_promise<long>());
      auto left = std::make_shared<long>(n);
      p->set_down_handler([=](caf::down_msg&) {
        if (--*left == 0)
          rp->deliver(n);
      });
      for (long i = 0; i < n; ++i)
        p->spawn<Os + caf::monitored>(
          [](caf::event_based_actor* c) { c->quit(); });
      return *rp;
    }};
  });
  self->request(parent, caf::infinite, go_atom::value)
    .receive([](long) {}, [](caf::error&) { std::abort(); });
  auto t = seconds_since(start);
  self->send_exit(parent, caf::exit_reason::user_shutdown);
  return t;
}

double w1_raw(caf::actor_system& sys, long n) {
  return w1_raw_impl<caf::no_spawn_options>(sys, n);
}

double w1_raw_blocking(caf::actor_system& sys, long n) {
  return w1_raw_impl<caf::detached>(sys, n);
}

// -- W2: tree -----------------------------------------------------------------

void tree_body(scaf::scope& s, int depth) {
  if (depth == 0)
    return;
  for (int i = 0; i < 2; ++i)
    s.spawn_scope({}, [depth](scaf::scope& c) { tree_body(c, depth - 1); });
}

double w2_scaf(caf::actor_system& sys, long depth) {
  auto start = clock_type::now();
  auto r = scaf::run(
    sys, [depth](scaf::scope& s) { tree_body(s, static_cast<int>(depth)); });
  if (!r)
    std::abort();
  return seconds_since(start);
}

caf::behavior raw_tree_node(caf::event_based_actor* self, int depth) {
  if (depth == 0) {
    self->quit();
    return {};
  }
  // Hold the children: CAF destroys an idle actor nobody holds.
  auto children = std::make_shared<std::vector<caf::actor>>();
  for (int i = 0; i < 2; ++i)
    children->push_back(self->spawn<caf::monitored>(raw_tree_node, depth - 1));
  self->set_down_handler([=](caf::down_msg&) {
    if (children->size() == 1)
      self->quit();
    else
      children->pop_back();
  });
  return {[](idle_atom) {}};
}

double w2_raw(caf::actor_system& sys, long depth) {
  caf::scoped_actor self{sys};
  auto start = clock_type::now();
  auto root =
    self->spawn<caf::monitored>(raw_tree_node, static_cast<int>(depth));
  self->receive([](caf::down_msg&) {});
  return seconds_since(start);
}

// -- W3: cancel a tree of waiting tasks
// --------------------------------------------

struct w3_result {
  double seconds;
  long bytes_per_node;
};

/// Spawns the two children of a node `depth` levels above the leaves.
void waiting_tree(scaf::scope& s, int depth, std::atomic<long>* up) {
  for (int i = 0; i < 2; ++i) {
    if (depth == 1)
      s.spawn([up](scaf::task_actor*) -> caf::behavior {
        ++*up;
        return {[](idle_atom) {}};
      });
    else
      s.spawn_scope(
        {}, [depth, up](scaf::scope& c) { waiting_tree(c, depth - 1, up); });
  }
}

/// A binary tree of depth D: inner nodes are scopes, each leaf a task waiting
/// for cancel, 2^(D+1) - 1 actors in all.
w3_result w3_scaf(caf::actor_system& sys, long depth) {
  std::atomic<long> up{0};
  auto before = status_kb("VmRSS:");
  auto root =
    scaf::spawn_scope(sys, {.name = "root", .grace = std::chrono::hours{1}},
                      [&up, depth](scaf::scope& s) {
                        waiting_tree(s, static_cast<int>(depth), &up);
                      });
  await_count(up, 1L << depth);
  auto nodes = (1L << (depth + 1)) - 1;
  auto per_node = (status_kb("VmRSS:") - before) * 1024 / nodes;
  caf::scoped_actor self{sys};
  self->monitor(root);
  auto start = clock_type::now();
  caf::anon_send(root, scaf::cancel_atom::value, "bench");
  self->receive([](caf::down_msg&) {});
  return {seconds_since(start), per_node};
}

caf::behavior raw_waiting_node(caf::event_based_actor* self, int depth,
                               std::atomic<long>* up) {
  if (depth == 0) {
    ++*up;
    return {[](idle_atom) {}};
  }
  auto children = std::make_shared<std::vector<caf::actor>>();
  for (int i = 0; i < 2; ++i)
    children->push_back(
      self->spawn<caf::monitored>(raw_waiting_node, depth - 1, up));
  auto left = std::make_shared<int>(2);
  self->set_exit_handler([=](caf::exit_msg& msg) {
    for (auto& c : *children)
      self->send_exit(c, msg.reason);
  });
  self->set_down_handler([=](caf::down_msg&) {
    if (--*left == 0) {
      children->clear();
      self->quit();
    }
  });
  return {[](idle_atom) {}};
}

w3_result w3_raw(caf::actor_system& sys, long depth) {
  std::atomic<long> up{0};
  auto before = status_kb("VmRSS:");
  caf::scoped_actor self{sys};
  auto root =
    self->spawn<caf::monitored>(raw_waiting_node, static_cast<int>(depth), &up);
  await_count(up, 1L << depth);
  auto nodes = (1L << (depth + 1)) - 1;
  auto per_node = (status_kb("VmRSS:") - before) * 1024 / nodes;
  auto start = clock_type::now();
  self->send_exit(root, caf::exit_reason::user_shutdown);
  self->receive([](caf::down_msg&) {});
  return {seconds_since(start), per_node};
}

// -- restart loop: a supervisor restarts a crashing child n times
// ------------------

/// Crashes with its first message, which it sends itself: once it is up
/// (a child that fails before it is up fails its supervisor's start).
caf::behavior crasher(scaf::task_actor* self) {
  self->send(self, idle_atom::value);
  return {[self](idle_atom) {
    self->quit(caf::make_error(caf::sec::runtime_error));
  }};
}

double restart_scaf(caf::actor_system& sys, long n) {
  auto start = clock_type::now();
  auto r = scaf::run(sys, [n](scaf::scope& s) {
    s.spawn({.name = "sup"},
            scaf::supervisor({.intensity = static_cast<size_t>(n),
                              .period = std::chrono::hours{1}},
                             {scaf::child({.name = "crasher"}, crasher)}));
  });
  // The supervisor gives up at the restart after the n-th.
  if (r || !scaf::is(r.error(), scaf::errc::restart_limit))
    std::abort();
  return seconds_since(start);
}

/// The floor: an actor that monitors a child crashing at once and spawns a
/// new one on every down message, n times.
caf::behavior raw_restarter(caf::event_based_actor* self, long n) {
  // The same work as scaf's crasher: up, one message, crash.
  auto crash = [](caf::event_based_actor* child) -> caf::behavior {
    child->send(child, idle_atom::value);
    return {[child](idle_atom) {
      child->quit(caf::make_error(caf::sec::runtime_error));
    }};
  };
  auto restarts = std::make_shared<long>(0);
  self->spawn<caf::monitored>(crash);
  self->set_down_handler([=](caf::down_msg&) {
    if (++*restarts > n)
      self->quit();
    else
      self->spawn<caf::monitored>(crash);
  });
  return {[](idle_atom) {}};
}

double restart_raw(caf::actor_system& sys, long n) {
  auto start = clock_type::now();
  caf::scoped_actor self{sys};
  // Held: CAF destroys an idle actor nobody holds.
  auto restarter = self->spawn<caf::monitored>(raw_restarter, n);
  self->receive([](caf::down_msg&) {});
  return seconds_since(start);
}

// -- pool: a worker pool's n workers stopped one by one, or all at once
// ---------

caf::behavior pool_worker(scaf::task_actor*, long) {
  return {[](idle_atom) {}};
}

/// Starts a pool of n workers (untimed), then times stopping them: each with
/// `terminate_child` (all calls made at once from this thread; the pool runs
/// them in order, each once the worker before is gone, as OTP's), or all
/// together by cancelling the pool.
double pool_scaf(caf::actor_system& sys, long n, bool one_by_one) {
  auto owner = scaf::make_scope(sys, {.name = "bench"});
  auto spawned = owner.ref().spawn(
    {.name = "pool"},
    scaf::pool({}, scaf::worker<long>(
                     {.name = "w", .restart = scaf::restart_type::temporary},
                     pool_worker)));
  caf::actor actor;
  while (!(actor = spawned.task()))
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  auto ref = scaf::pool_ref<long>::of(sys, actor);
  if (!ref)
    std::abort();
  std::vector<scaf::handle<caf::actor>> started;
  for (long i = 0; i < n; ++i)
    started.push_back(ref->start_child(i));
  std::vector<caf::actor> workers;
  for (auto& h : started) {
    auto x = h.wait();
    if (!x || !*x)
      std::abort();
    workers.push_back(*x);
  }
  auto start = clock_type::now();
  if (one_by_one) {
    std::vector<scaf::handle<void>> stops;
    for (auto& w : workers)
      stops.push_back(ref->terminate_child(w));
    // The pool runs the calls in order: once the last has resolved, all
    // have (checked). Waiting on each in turn would time this thread's
    // wake-ups, one per worker, rather than the pool.
    if (!stops.back().wait())
      std::abort();
    for (auto& h : stops)
      if (!h.ready() || !h.get())
        std::abort();
  } else {
    ref->scope().cancel("stop");
    if (!ref->scope().join().wait())
      std::abort();
  }
  auto seconds = seconds_since(start);
  owner.ref().cancel("done");
  if (!owner.join().wait())
    std::abort();
  return seconds;
}

using stop_atom = caf::atom_constant<caf::atom("stop")>;

/// The floor: an actor holding n monitored workers that, asked to, stops
/// them one at a time (each once the one before is down) or all at once,
/// and answers when all are down.
caf::behavior raw_pool(caf::event_based_actor* self, long n, bool one_by_one) {
  auto workers = std::make_shared<std::vector<caf::actor>>();
  for (long i = 0; i < n; ++i)
    workers->push_back(
      self->spawn<caf::monitored>([](caf::event_based_actor*) -> caf::behavior {
        return {[](idle_atom) {}};
      }));
  auto down = std::make_shared<long>(0);
  auto promise = std::make_shared<caf::response_promise>();
  self->set_down_handler([=](caf::down_msg&) {
    if (++*down == n)
      promise->deliver(caf::unit);
    else if (one_by_one)
      self->send_exit((*workers)[*down], caf::exit_reason::user_shutdown);
  });
  return {[=](stop_atom) {
    *promise = self->make_response_promise();
    if (one_by_one)
      self->send_exit(workers->front(), caf::exit_reason::user_shutdown);
    else
      for (auto& w : *workers)
        self->send_exit(w, caf::exit_reason::user_shutdown);
    return *promise;
  }};
}

double pool_raw(caf::actor_system& sys, long n, bool one_by_one) {
  caf::scoped_actor self{sys};
  auto pool = self->spawn(raw_pool, n, one_by_one);
  // Spawned and monitored: wait until all workers run.
  while (sys.registry().running() < static_cast<size_t>(n) + 2)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  auto start = clock_type::now();
  self->request(pool, caf::infinite, stop_atom::value)
    .receive([] {}, [](caf::error&) { std::abort(); });
  auto seconds = seconds_since(start);
  self->send_exit(pool, caf::exit_reason::user_shutdown);
  return seconds;
}

// -- tree: a live snapshot of a 10,000-node tree
// -------------------------------

size_t count_nodes(const scaf::tree_node& x) {
  size_t result = 1;
  for (auto& c : x.children)
    result += count_nodes(c);
  return result;
}

/// A top-level scope "bench" with n scopes of 99 idle tasks each, returned
/// once all of them are up.
scaf::scope_owner idle_tree(caf::actor_system& sys, long n) {
  auto owner = scaf::make_scope(sys, {.name = "bench"});
  auto spawned = owner.ref().call([n](scaf::scope& s) {
    for (long i = 0; i < n; ++i)
      s.spawn_scope({}, [](scaf::scope& in) {
        for (int j = 0; j < 99; ++j)
          in.spawn([](scaf::task_actor*) -> caf::behavior {
            return {[](idle_atom) {}};
          });
      });
  });
  if (!spawned.wait())
    std::abort();
  // Until every scope has spawned its tasks.
  auto expected = static_cast<size_t>(n) * 100 + 1;
  for (;;) {
    auto x = owner.ref().tree().wait();
    if (!x)
      std::abort();
    if (count_nodes(*x) == expected)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return owner;
}

// -- failures: a long-lived isolate scope whose children fail -----------------

/// n function tasks, 10,000 at a time, in one `isolate` scope that lives on
/// (a service): all fail (`failing`) or all succeed (`succeeding`, the
/// baseline). The peak RSS says whether the scope's record of failures stays
/// bounded (`scope_options::record_limit`).
double failures_scaf(caf::actor_system& sys, long n, bool fail) {
  auto owner = scaf::make_scope(
    sys, {.name = "service", .policy = scaf::failure_policy::isolate});
  auto ref = owner.ref();
  auto start = clock_type::now();
  constexpr long batch = 10'000;
  std::vector<scaf::handle<long>> pending;
  pending.reserve(batch);
  for (long done = 0; done < n; done += batch) {
    for (long i = done; i < std::min(n, done + batch); ++i)
      pending.push_back(ref.spawn_fn([i, fail]() -> caf::expected<long> {
        if (fail)
          return caf::make_error(caf::sec::runtime_error, "request failed");
        return i;
      }));
    for (auto& h : pending)
      h.wait();
    pending.clear();
  }
  auto t = seconds_since(start);
  owner.cancel("bench over");
  owner.done().wait();
  return t;
}

/// n scopes of 99 idle tasks each, all up (not timed); then the time one
/// `scope_ref::tree()` takes to come back with every node.
double tree_scaf(caf::actor_system& sys, long n) {
  auto owner = idle_tree(sys, n);
  auto start = clock_type::now();
  auto x = owner.ref().tree().wait();
  auto seconds = seconds_since(start);
  if (!x || count_nodes(*x) != static_cast<size_t>(n) * 100 + 1)
    std::abort();
  owner.ref().cancel("done");
  if (!owner.join().wait())
    std::abort();
  return seconds;
}

// -- observe: the observer's answer against the snapshot behind it
// -------------------

/// Asks the observer at 127.0.0.1:`port` for the tree; returns the size of
/// its answer (0 if there is none).
size_t fetch_tree(uint16_t port) {
  auto fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return 0;
  }
  std::string ask = "GET /api/tree HTTP/1.1\r\nHost: localhost\r\n\r\n";
  ::send(fd, ask.data(), ask.size(), MSG_NOSIGNAL);
  size_t total = 0;
  char buf[65536];
  for (ssize_t got; (got = ::recv(fd, buf, sizeof(buf), 0)) > 0;)
    total += static_cast<size_t>(got);
  ::close(fd);
  return total;
}

/// The tree of `idle_tree(n)` (not timed), then the time of one refresh of
/// the observer's page (`http`: request, snapshot, JSON, over loopback) or
/// of the snapshot alone (`snapshot`: `top_level_trees`).
double observe_scaf(caf::actor_system& sys, long n, bool http) {
  auto owner = idle_tree(sys, n);
  auto obs = scaf::observer::start(sys);
  if (!obs)
    std::abort();
  auto start = clock_type::now();
  if (http) {
    if (fetch_tree(obs->port()) < static_cast<size_t>(n) * 100 * 100)
      std::abort();
  } else {
    auto trees = scaf::top_level_trees(sys);
    if (trees.size() != 1 ||
        count_nodes(trees[0]) != static_cast<size_t>(n) * 100 + 1)
      std::abort();
  }
  auto seconds = seconds_since(start);
  owner.ref().cancel("done");
  if (!owner.join().wait())
    std::abort();
  return seconds;
}

// -- shutdown: forcing children spawned into a cancelled scope
// ----------------------

/// n tasks that ignore their cancel (grace 10 ms), spawned into a scope that
/// is already cancelled (`late`, cleanup work arriving during a shutdown) or
/// before its cancel (`early`); time until `run` returns. Forcing them costs
/// the same either way: children cancelled later join one deadline queue.
double shutdown_scaf(caf::actor_system& sys, long n, bool late) {
  auto stubborn = [](scaf::task_actor* self) -> caf::behavior {
    self->on_cancel([](const caf::error&) {}); // runs on: killed at grace end
    return {[](idle_atom) {}};
  };
  auto start = clock_type::now();
  auto r = scaf::run(
    sys,
    [&](scaf::scope& s) {
      if (late)
        s.cancel("shutting down");
      for (long i = 0; i < n; ++i)
        s.spawn(stubborn);
      if (!late)
        s.cancel("shutting down");
    },
    {.scope = {.name = "root", .grace = std::chrono::milliseconds{10}}});
  if (!r)
    std::abort();
  return seconds_since(start);
}

// -- remote: scaf's remote children against raw CAF's remote_spawn -----------

/// The node the remote workloads run on: another process (`--node`), which
/// serves both scaf's tasks and CAF's remote_spawn types.
struct bench_node_config : config {
  bench_node_config() {
    scaf::init_network(*this);
    add_actor_type("bench_quick",
                   [](caf::event_based_actor* self) { self->quit(); });
    add_actor_type("bench_sleeper", [](caf::event_based_actor*) {
      return caf::behavior{[](go_atom) {}};
    });
  }
};

scaf::remote_tasks bench_tasks() {
  scaf::remote_tasks ts;
  ts.add<void()>("quick", [] {});
  ts.add<void()>("sleeper", [](scaf::task_actor* self) -> caf::behavior {
    self->on_cancel([self](const caf::error& why) { self->quit(why); });
    return {[](go_atom) {}};
  });
  return ts;
}

int serve_node() {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  bench_node_config cfg;
  caf::actor_system sys{cfg};
  auto node = scaf::serve(sys, bench_tasks());
  if (!node)
    return 1;
  std::printf("%u\n", static_cast<unsigned>(node->port()));
  std::fflush(stdout);
  pause();
  return 0;
}

std::string self_path();

/// A `--node` process of this binary; killed when destroyed.
struct node_process {
  pid_t pid = -1;
  uint16_t port = 0;

  node_process() {
    int out[2];
    if (pipe(out) != 0)
      return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    auto self = self_path();
    char flag[] = "--node";
    char* argv[] = {self.data(), flag, nullptr};
    if (posix_spawn(&pid, self.c_str(), &actions, nullptr, argv, environ) != 0)
      pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    std::string line;
    char c;
    while (pid > 0 && read(out[0], &c, 1) == 1 && c != '\n')
      line += c;
    close(out[0]);
    if (!line.empty())
      port = static_cast<uint16_t>(std::atoi(line.c_str()));
  }

  ~node_process() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

/// `n` remote children, one after another, each spawned and awaited (with
/// `cancel`: cancelled as soon as it is spawned, then awaited).
double remote_scaf(caf::actor_system& sys, long n, bool cancel) {
  node_process proc;
  auto node = scaf::connect(sys, "127.0.0.1", proc.port);
  if (!node)
    return -1;
  auto start = clock_type::now();
  for (long i = 0; i < n; ++i) {
    auto result = scaf::run(sys, [&](scaf::scope& s) {
      if (cancel) {
        scaf::spawn_remote<void>(s, *node, {}, "sleeper");
        s.cancel("bench");
      } else {
        scaf::spawn_remote<void>(s, *node, {}, "quick");
      }
    });
    if (!result)
      return -1;
  }
  return seconds_since(start);
}

/// The same with CAF's remote_spawn, a monitor and (with `cancel`) an exit
/// message.
double remote_raw(caf::actor_system& sys, long n, bool cancel) {
  node_process proc;
  auto& mm = sys.middleman();
  auto entry = mm.remote_actor("127.0.0.1", proc.port);
  if (!entry)
    return -1;
  auto nid = entry->node();
  caf::scoped_actor self{sys};
  auto start = clock_type::now();
  for (long i = 0; i < n; ++i) {
    auto child =
      mm.remote_spawn<caf::actor>(nid, cancel ? "bench_sleeper" : "bench_quick",
                                  caf::make_message(), std::chrono::seconds{5});
    if (!child)
      return -1;
    self->monitor(*child);
    if (cancel)
      self->send_exit(*child, caf::exit_reason::user_shutdown);
    self->receive([](caf::down_msg&) {});
  }
  return seconds_since(start);
}

// -- spread: a scope's children over k nodes (a cluster)
// -------------------------

/// `n` remote children spread round robin over `k` node processes, all
/// children of one scope: spawned and awaited (or, with `cancel`, spawned,
/// then, once all run, the scope cancelled and awaited: only that is
/// timed).
double spread_scaf(caf::actor_system& sys, long n, int k, bool cancel) {
  std::vector<std::unique_ptr<node_process>> procs;
  std::vector<std::string> addresses;
  for (int i = 0; i < k; ++i) {
    procs.push_back(std::make_unique<node_process>());
    addresses.push_back("127.0.0.1:" + std::to_string(procs.back()->port));
  }
  auto cl = scaf::connect_cluster(sys, addresses);
  if (!cl)
    return -1;
  auto task = cancel ? "sleeper" : "quick";
  if (!cancel) {
    auto start = clock_type::now();
    auto result = scaf::run(sys, [&](scaf::scope& s) {
      for (long i = 0; i < n; ++i)
        scaf::spawn_remote<void>(s, *cl, {}, task);
    });
    if (!result)
      std::fprintf(stderr, "%s\n", scaf::render(result.error()).c_str());
    return result ? seconds_since(start) : -1;
  }
  auto owner = scaf::make_scope(sys, {.name = "spread"});
  owner.ref()
    .call([&](scaf::scope& s) {
      for (long i = 0; i < n; ++i)
        scaf::spawn_remote<void>(s, *cl, {}, task);
    })
    .wait();
  // Every child runs on its node.
  for (auto deadline = clock_type::now() + std::chrono::minutes{2};;) {
    size_t hosted = 0;
    for (auto& node : cl->nodes())
      if (auto x = node.hosted())
        hosted += *x;
    if (hosted == static_cast<size_t>(n))
      break;
    if (clock_type::now() > deadline)
      return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  auto start = clock_type::now();
  owner.cancel("bench");
  if (!owner.done().wait())
    return -1;
  return seconds_since(start);
}

/// The same with CAF's remote spawn through the middleman actor (every
/// request in flight at once), a monitor on each child and (with `cancel`)
/// an exit message to each once all run.
double spread_raw(caf::actor_system& sys, long n, int k, bool cancel) {
  std::vector<std::unique_ptr<node_process>> procs;
  std::vector<caf::node_id> nids;
  auto& mm = sys.middleman();
  for (int i = 0; i < k; ++i) {
    procs.push_back(std::make_unique<node_process>());
    auto entry = mm.remote_actor("127.0.0.1", procs.back()->port);
    if (!entry)
      return -1;
    nids.push_back(entry->node());
  }
  std::string task = cancel ? "bench_sleeper" : "bench_quick";
  // A driver actor: spawns all, monitors each, and answers once all are
  // up (`go`) and once all are down (`idle`).
  auto driver = sys.spawn([=, &mm](caf::event_based_actor* self) {
    auto children = std::make_shared<std::vector<caf::actor>>();
    auto up = std::make_shared<long>(0);
    auto down = std::make_shared<long>(0);
    auto on_up = std::make_shared<caf::response_promise>();
    auto on_down = std::make_shared<caf::response_promise>();
    self->set_down_handler([=](caf::down_msg&) {
      if (++*down == n)
        on_down->deliver(caf::unit);
    });
    for (long i = 0; i < n; ++i)
      self
        ->request(mm.actor_handle(), caf::infinite, caf::spawn_atom::value,
                  nids[static_cast<size_t>(i % k)], task, caf::make_message(),
                  std::set<std::string>{})
        .then([=](caf::strong_actor_ptr& ptr) {
          auto child = caf::actor_cast<caf::actor>(ptr);
          self->monitor(child);
          children->push_back(child);
          if (++*up == n)
            on_up->deliver(caf::unit);
        });
    return caf::behavior{
      [=](go_atom) {
        *on_up = self->make_response_promise();
        if (*up == n)
          on_up->deliver(caf::unit);
        return *on_up;
      },
      [=](idle_atom) {
        for (auto& child : *children)
          self->send_exit(child, caf::exit_reason::user_shutdown);
        *on_down = self->make_response_promise();
        if (*down == n)
          on_down->deliver(caf::unit);
        return *on_down;
      },
    };
  });
  caf::scoped_actor self{sys};
  auto start = clock_type::now();
  bool ok = true;
  self->request(driver, caf::infinite, go_atom::value)
    .receive([] {}, [&](caf::error&) { ok = false; });
  if (cancel)
    start = clock_type::now();
  self->request(driver, caf::infinite, idle_atom::value)
    .receive([] {}, [&](caf::error&) { ok = false; });
  auto seconds = seconds_since(start);
  self->send_exit(driver, caf::exit_reason::user_shutdown);
  return ok ? seconds : -1;
}

// -- one measurement (child process)
// ------------------------------------------------

int run_one(const std::string& workload, const std::string& variant, long n) {
  // Only the remote workloads load CAF's network layer.
  auto spread =
    workload.rfind("spread", 0) == 0 || workload.rfind("scancel", 0) == 0;
  auto remote = workload == "remote" || workload == "rcancel" || spread;
  std::unique_ptr<config> cfg_ptr;
  if (remote)
    cfg_ptr = std::make_unique<bench_node_config>();
  else
    cfg_ptr = std::make_unique<config>();
  auto& cfg = *cfg_ptr;
  // The cost of the trace file: the same w1, writing one.
  auto trace = "/tmp/scaf_bench_trace_" + std::to_string(::getpid()) + ".json";
  if (workload == "w1traced" && variant == "traced")
    cfg.set("scaf.trace-file", trace);
  // The cost of an observer nobody watches: the same w1, serving one.
  if (workload == "w1observed" && variant == "observed")
    cfg.set("scaf.observer", "127.0.0.1:0");
  double seconds = 0;
  long extra = -1;
  {
    caf::actor_system sys{cfg};
    auto scaf_variant = variant == "scaf";
    if (workload == "w1")
      seconds = scaf_variant ? w1_scaf(sys, n) : w1_raw(sys, n);
    else if (workload == "w1traced" || workload == "w1observed")
      seconds = w1_scaf(sys, n);
    else if (workload == "observe")
      seconds = observe_scaf(sys, n, variant == "http");
    else if (workload == "tree")
      seconds = tree_scaf(sys, n);
    else if (workload == "failures")
      seconds = failures_scaf(sys, n, variant == "failing");
    else if (workload == "w1fn")
      seconds = scaf_variant ? w1_scaf_fn(sys, n) : w1_raw(sys, n);
    else if (workload == "w1blocking")
      seconds =
        scaf_variant ? w1_scaf_blocking(sys, n) : w1_raw_blocking(sys, n);
    else if (workload == "w2")
      seconds = scaf_variant ? w2_scaf(sys, n) : w2_raw(sys, n);
    else if (workload == "restart")
      seconds = scaf_variant ? restart_scaf(sys, n) : restart_raw(sys, n);
    else if (spread) {
      // spreadK, scancelK: over K nodes.
      auto cancel = workload.rfind("scancel", 0) == 0;
      auto k = std::atoi(workload.c_str() + (cancel ? 7 : 6));
      seconds = k < 1 ? -1
                      : (scaf_variant ? spread_scaf(sys, n, k, cancel)
                                      : spread_raw(sys, n, k, cancel));
      if (seconds < 0) {
        std::fprintf(stderr, "a node failed\n");
        return 1;
      }
    } else if (workload == "remote" || workload == "rcancel") {
      auto cancel = workload == "rcancel";
      seconds =
        scaf_variant ? remote_scaf(sys, n, cancel) : remote_raw(sys, n, cancel);
      if (seconds < 0) {
        std::fprintf(stderr, "the remote node failed\n");
        return 1;
      }
    } else if (workload == "poolterm" || workload == "poolstop") {
      auto one_by_one = workload == "poolterm";
      seconds = scaf_variant ? pool_scaf(sys, n, one_by_one)
                             : pool_raw(sys, n, one_by_one);
    } else if (workload == "shutdown")
      seconds = shutdown_scaf(sys, n, variant == "late");
    else if (workload == "w3") {
      auto r = scaf_variant ? w3_scaf(sys, n) : w3_raw(sys, n);
      seconds = r.seconds;
      extra = r.bytes_per_node;
    } else {
      std::fprintf(stderr, "unknown workload %s\n", workload.c_str());
      return 2;
    }
  }
  std::remove(trace.c_str());
  std::printf("seconds %.6f rss_kb %ld bytes_per_node %ld\n", seconds,
              status_kb("VmHWM:"), extra);
  return 0;
}

// -- the driver
// -----------------------------------------------------------------------

struct sample {
  double seconds = 0;
  long rss_kb = 0;
  long bytes_per_node = -1;
};

bool parse_sample(const std::string& out, sample& s) {
  std::istringstream in{out};
  std::string key;
  bool ok = false;
  while (in >> key) {
    if (key == "seconds")
      ok = static_cast<bool>(in >> s.seconds);
    else if (key == "rss_kb")
      in >> s.rss_kb;
    else if (key == "bytes_per_node")
      in >> s.bytes_per_node;
  }
  return ok;
}

bool run_command(const std::string& cmd, sample& s) {
  auto pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr)
    return false;
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof(buf), pipe) != nullptr)
    out += buf;
  return pclose(pipe) == 0 && parse_sample(out, s);
}

struct row {
  std::string workload;
  std::string variant;
  long n;
  std::string command;
  std::vector<sample> samples;
};

struct summary {
  double median, min, max;
  long rss_kb;
  long bytes_per_node;
};

summary summarize(const std::vector<sample>& xs) {
  std::vector<double> t;
  std::vector<long> rss, bpn;
  for (auto& x : xs) {
    t.push_back(x.seconds);
    rss.push_back(x.rss_kb);
    bpn.push_back(x.bytes_per_node);
  }
  std::sort(t.begin(), t.end());
  std::sort(rss.begin(), rss.end());
  std::sort(bpn.begin(), bpn.end());
  return {t[t.size() / 2], t.front(), t.back(), rss[rss.size() / 2],
          bpn[bpn.size() / 2]};
}

std::string self_path() {
  char buf[4096];
  auto len = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (len <= 0)
    std::abort();
  return std::string(buf, static_cast<size_t>(len));
}

int drive(int runs, bool quick, const std::string& erlang,
          const std::string& go, const std::string& json) {
  auto self = self_path();
  struct spec {
    std::string workload;
    long n;
    bool erlang_peer;
    bool go_peer;
    /// The variants of the row; the last is the baseline of the ratios.
    std::vector<std::string> variants = {"scaf", "raw"};
  };
  const std::vector<std::string> late_early = {"late", "early"};
  const std::vector<std::string> traced = {"traced", "untraced"};
  const std::vector<std::string> observed = {"observed", "unobserved"};
  const std::vector<std::string> observe = {"http", "snapshot"};
  const std::vector<std::string> failing = {"failing", "succeeding"};
  std::vector<spec> specs;
  if (quick)
    specs = {{"w1", 10'000, true, true},
             {"w1", 100'000, true, true},
             {"w1fn", 100'000, false, false},
             {"w1blocking", 200, false, false},
             {"w2", 12, true, true},
             {"w3", 10, true, true},
             {"restart", 1'000, true, false},
             {"remote", 200, false, false},
             {"rcancel", 200, false, false},
             {"spread2", 2'000, false, false},
             {"scancel2", 2'000, false, false},
             {"w1traced", 10'000, false, false, traced},
             {"w1observed", 10'000, false, false, observed},
             {"tree", 10, false, false, {"scaf"}},
             {"observe", 10, false, false, observe},
             {"failures", 100'000, false, false, failing},
             {"poolterm", 1'000, false, false},
             {"poolterm", 10'000, false, false},
             {"poolstop", 10'000, false, false},
             {"shutdown", 2'000, false, false, late_early}};
  else
    specs = {{"w1", 10'000, true, true},
             {"w1", 100'000, true, true},
             {"w1fn", 100'000, false, false},
             {"w1blocking", 1'000, false, false},
             {"w2", 16, true, true},
             {"w2", 19, false, false},
             {"w3", 14, true, true},
             {"restart", 1'000, false, false},
             {"restart", 10'000, true, false},
             {"restart", 100'000, false, false},
             {"remote", 1'000, false, false},
             {"rcancel", 1'000, false, false},
             {"spread1", 20'000, false, false},
             {"spread2", 20'000, false, false},
             {"spread4", 20'000, false, false},
             {"spread8", 20'000, false, false},
             {"scancel1", 20'000, false, false},
             {"scancel2", 20'000, false, false},
             {"scancel4", 20'000, false, false},
             {"scancel8", 20'000, false, false},
             {"spread8", 100'000, false, false},
             {"scancel8", 100'000, false, false},
             {"w1traced", 10'000, false, false, traced},
             {"w1observed", 100'000, false, false, observed},
             {"tree", 100, false, false, {"scaf"}},
             {"observe", 100, false, false, observe},
             {"failures", 1'000'000, false, false, failing},
             {"poolterm", 1'000, false, false},
             {"poolterm", 10'000, false, false},
             {"poolterm", 100'000, false, false},
             {"poolstop", 1'000, false, false},
             {"poolstop", 10'000, false, false},
             {"poolstop", 100'000, false, false},
             {"shutdown", 20'000, false, false, late_early}};
  std::vector<row> rows;
  std::map<std::string, std::string> baseline;
  for (auto& sp : specs) {
    auto n = std::to_string(sp.n);
    for (auto& v : sp.variants)
      rows.push_back({sp.workload,
                      v,
                      sp.n,
                      self + " --one " + sp.workload + " " + v + " " + n,
                      {}});
    baseline[sp.workload] = sp.variants.back();
    if (!erlang.empty() && sp.erlang_peer)
      rows.push_back({sp.workload,
                      "erlang",
                      sp.n,
                      "escript " + erlang + " " + sp.workload + " " + n,
                      {}});
    if (!go.empty() && sp.go_peer)
      rows.push_back(
        {sp.workload, "go", sp.n, go + " " + sp.workload + " " + n, {}});
  }
  // Alternate: every row once per round, so drift hits all variants alike.
  for (int r = 0; r < runs; ++r)
    for (auto& x : rows) {
      sample s;
      if (!run_command(x.command, s)) {
        std::fprintf(stderr, "failed: %s\n", x.command.c_str());
        return 1;
      }
      x.samples.push_back(s);
    }
  std::map<std::string, double> raw_median;
  for (auto& x : rows)
    if (x.variant == baseline[x.workload])
      raw_median[x.workload + "/" + std::to_string(x.n)] =
        summarize(x.samples).median;
  std::printf("%-11s %-7s %8s %10s %21s %10s %9s %10s\n", "workload", "variant",
              "n", "median ms", "min-max ms", "peak RSS", "B/node", "vs base");
  std::ostringstream js;
  js << "[\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    auto& x = rows[i];
    auto s = summarize(x.samples);
    auto base = raw_median[x.workload + "/" + std::to_string(x.n)];
    auto ratio = base > 0 ? s.median / base : 0.0;
    char range[64];
    std::snprintf(range, sizeof(range), "%.1f-%.1f", s.min * 1e3, s.max * 1e3);
    std::printf(
      "%-11s %-7s %8ld %10.1f %21s %7ld MB %9s %9.2fx\n", x.workload.c_str(),
      x.variant.c_str(), x.n, s.median * 1e3, range, s.rss_kb / 1024,
      s.bytes_per_node >= 0 ? std::to_string(s.bytes_per_node).c_str() : "-",
      ratio);
    js << "  {\"name\": \"" << x.workload << "\", \"variant\": \"" << x.variant
       << "\", \"n\": " << x.n << ", \"median\": " << s.median
       << ", \"min\": " << s.min << ", \"max\": " << s.max
       << ", \"peak_rss_kb\": " << s.rss_kb
       << ", \"bytes_per_node\": " << s.bytes_per_node
       << ", \"ratio_to_baseline\": " << ratio << "}"
       << (i + 1 < rows.size() ? "," : "") << "\n";
  }
  js << "]\n";
  // How supervision scales (OTP's supervisor_SUITE bounds it): the cost of
  // 10,000 and 100,000 over the cost of 1,000; linear is 10x and 100x.
  std::map<std::string, double> median_of;
  for (auto& x : rows)
    median_of[x.workload + "/" + x.variant + "/" + std::to_string(x.n)] =
      summarize(x.samples).median;
  for (std::string w : {"restart", "poolterm", "poolstop"})
    for (std::string v : {"scaf", "raw"}) {
      auto small = median_of[w + "/" + v + "/1000"];
      auto mid = median_of[w + "/" + v + "/10000"];
      auto large = median_of[w + "/" + v + "/100000"];
      if (small > 0 && mid > 0 && large > 0)
        std::printf("%s %s: 10000 cost %.1fx and 100000 cost %.1fx what "
                    "1000 cost (linear: 10x, 100x)\n",
                    w.c_str(), v.c_str(), mid / small, large / small);
    }
  // How a spread scope scales with its nodes: the cost over 2, 4 and 8
  // nodes over the cost over one.
  for (std::string w : {"spread", "scancel"})
    for (std::string v : {"scaf", "raw"}) {
      auto one = median_of[w + "1/" + v + "/20000"];
      if (one <= 0)
        continue;
      std::printf("%s %s over 1, 2, 4, 8 nodes: 1.00x", w.c_str(), v.c_str());
      for (std::string k : {"2", "4", "8"})
        std::printf(", %.2fx", median_of[w + k + "/" + v + "/20000"] / one);
      std::printf(" (20,000 children)\n");
    }
  std::printf("\n%d runs each, alternating; n is tasks (w1*, shutdown), tree "
              "depth (w2, w3), restarts (restart), scopes of 99 tasks (tree: "
              "one live snapshot of them all) or pool workers stopped one "
              "by one (poolterm) or together (poolstop), remote children "
              "spawned and awaited one after another on a node in another "
              "process on 127.0.0.1 (remote; rcancel: each cancelled at "
              "once; raw: CAF's remote_spawn), remote children of one scope "
              "spread round robin over K node processes (spreadK: spawned "
              "and awaited; scancelK: all running, then the scope cancelled, "
              "timed from the cancel to the last done; raw: CAF's remote "
              "spawn through the middleman actor, all in flight, a monitor "
              "each, an exit message each); vs base = median / "
              "median of the baseline in this run: raw CAF; for shutdown the "
              "same tasks spawned before the cancel; for w1traced the same "
              "without a trace file; for w1observed the same without an "
              "observer; for observe (one refresh of the observer's page "
              "over loopback) the snapshot behind it\n",
              runs);
  if (!json.empty()) {
    std::ofstream out{json};
    out << js.str();
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  // Some workloads kill thousands of tasks on purpose: scaf warns about each.
  setenv("SCAF_LOG", "error", 0);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "--node")
    return serve_node();
  if (args.size() == 4 && args[0] == "--one")
    return run_one(args[1], args[2], std::atol(args[3].c_str()));
  int runs = 5;
  bool quick = false;
  std::string erlang, go, json;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--runs" && i + 1 < args.size())
      runs = std::atoi(args[++i].c_str());
    else if (args[i] == "--quick")
      quick = true;
    else if (args[i] == "--erlang" && i + 1 < args.size())
      erlang = args[++i];
    else if (args[i] == "--go" && i + 1 < args.size())
      go = args[++i];
    else if (args[i] == "--json" && i + 1 < args.size())
      json = args[++i];
    else {
      std::fprintf(stderr,
                   "usage: scaf_bench [--runs R] [--quick] [--erlang FILE] "
                   "[--go BINARY] [--json FILE]\n");
      return 2;
    }
  }
  return drive(runs, quick, erlang, go, json);
}
