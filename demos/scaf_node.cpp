// scaf-node, installed with scaf: a scaf node that hosts children for
// scopes on other nodes. It serves the task types registered below on a
// port of 127.0.0.1 until SIGINT or SIGTERM, then stops (every hosted child
// cancelled, given its grace period, and forced if it overstays; its caller
// sees node_down). docs/distributed.md walks through it.
//
//   scaf-node [--port=N] [--bind=ADDR] [--name=NAME] [--exit-with-parent]
//             [--tls.certificate=PEM --tls.key=PEM --tls.cafile=PEM]
//             [CAF and scaf options]
//   scaf-node --help    (the options, and the tasks it offers)
//
// It prints `serving on 127.0.0.1:N` once it listens. With `--call=HOST:N`
// it is a caller instead: it runs `sleep` on that node for an hour, and
// prints `calling` once the child runs there (the tests kill it then).
#include <sys/prctl.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/sec.hpp>
#include <caf/type_nr.hpp>

#include "scaf/init.hpp"
#include "scaf/network.hpp"
#include "scaf/node.hpp"
#include "scaf/remote.hpp"
#include "scaf/run.hpp"
#include "scaf/scope.hpp"
#include "scaf/task_context.hpp"

namespace {

using finish_atom = caf::atom_constant<caf::atom("finish")>;

struct config : caf::actor_system_config {
  uint16_t port = 0;
  std::string bind = "127.0.0.1";
  std::string name;
  std::string call;
  bool exit_with_parent = false;
  scaf::tls_options tls;

  config() {
    scaf::init(*this);
    opt_group{custom_options_, "tls"}
      .add(tls.certificate, "certificate", "this node's certificate (PEM)")
      .add(tls.key, "key", "its private key (PEM)")
      .add(tls.passphrase, "passphrase", "the key's passphrase")
      .add(tls.cafile, "cafile",
           "the CA the peers' certificates are signed by");
    opt_group{custom_options_, "global"}
      .add(port, "port", "the port to serve on (0: any free one)")
      .add(bind, "bind", "the address to listen on (default: 127.0.0.1)")
      .add(name, "name", "the node's name (default: ADDRESS:PORT)")
      .add(call, "call", "HOST:PORT: be a caller of that node instead")
      .add(exit_with_parent, "exit-with-parent",
           "stop (as on SIGTERM) when the process that started it ends");
  }
};

/// Sleeps `ms` milliseconds unless cancelled first; returns how long it
/// slept.
int32_t sleep_for(std::stop_token stop, int32_t ms) {
  auto start = std::chrono::steady_clock::now();
  auto end = start + std::chrono::milliseconds{ms};
  while (!stop.stop_requested() && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  return static_cast<int32_t>(
    std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start)
      .count());
}

/// A 64-bit FNV-1a digest of a file, in hex.
caf::expected<std::string> hash_file(std::string path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return caf::make_error(caf::sec::runtime_error, "cannot read " + path);
  uint64_t h = 14695981039346656037ull;
  for (std::istreambuf_iterator<char> i{in}, e; i != e; ++i)
    h = (h ^ static_cast<unsigned char>(*i)) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(h));
  return std::string{buf};
}

/// How a probe task ends, as its argument says: "value" (a value),
/// "error" (an error), "throw" (an exception), "wait" (until cancelled,
/// then with the cancel's reason) or "stubborn" (it ignores its cancel);
/// function and blocking probes also "node_down" (an error of that code).
caf::error probe_error() {
  return caf::make_error(caf::sec::runtime_error, "failed on purpose");
}

[[noreturn]] void probe_throw() {
  throw std::runtime_error("thrown on purpose");
}

/// Says on stdout that a probe that waits has started (the tests wait for
/// it before they act).
void announce(const std::string& kind) {
  std::printf("probe started: %s\n", kind.c_str());
  std::fflush(stdout);
}

/// A function or blocking probe: `kind` names it in its value.
caf::expected<std::string> probe_function(scaf::task_context& ctx,
                                          const std::string& how,
                                          const std::string& kind) {
  using namespace std::chrono_literals;
  if (how == "error")
    return probe_error();
  if (how == "throw")
    probe_throw();
  if (how == "node_down")
    // As if a node of its own children had been lost: its failure, not the
    // loss of this node.
    return scaf::make_error(scaf::errc::node_down, ctx.path(),
                            "a node this task used was lost");
  if (how == "wait") {
    // It waits in a scope of its own, so that its subtree on the node has
    // more than one level: the scope ends with the task's cancel.
    auto waited = ctx.run({.name = "inner"}, [&kind](scaf::scope& s) {
      // Announced once it waits there: its whole subtree is up.
      s.spawn_fn({.name = "waiter"}, [kind](std::stop_token stop) {
        announce(kind);
        while (!stop.stop_requested())
          std::this_thread::sleep_for(1ms);
      });
    });
    (void)waited;
    return ctx.cancel_reason();
  }
  if (how == "stubborn") {
    announce(kind);
    // Deaf to its cancel for a while, then done all the same.
    std::this_thread::sleep_for(500ms);
    return "late value from " + kind;
  }
  return "value from " + kind;
}

/// A behavior probe; `result` takes its value, if it has one.
template <class Result>
caf::behavior probe_behavior(scaf::task_actor* self, Result result,
                             const std::string& how) {
  if (how == "error") {
    self->quit(probe_error());
    return {};
  }
  if (how == "throw") {
    self->send(self, finish_atom::value);
    return {[](finish_atom) { probe_throw(); }};
  }
  if (how == "wait" || how == "stubborn")
    announce("a behavior task");
  if (how == "stubborn") {
    self->on_cancel([](const caf::error&) {});
    return {[](finish_atom) {}};
  }
  if (how == "wait") {
    self->on_cancel([self](const caf::error& why) { self->quit(why); });
    return {[](finish_atom) {}};
  }
  result();
  self->quit();
  return {};
}

//! [register]
scaf::remote_tasks tasks() {
  scaf::remote_tasks ts;
  ts.add<std::string(std::string)>("echo", [](std::string x) { return x; });
  ts.add<int32_t(int32_t, int32_t)>("add",
                                    [](int32_t x, int32_t y) { return x + y; });
  ts.add<void(std::string)>("fail", [](std::string why) -> caf::expected<void> {
    return caf::make_error(caf::sec::runtime_error, std::move(why));
  });
  ts.add<int32_t(int32_t)>("sleep", sleep_for);
  ts.add<std::string(std::string)>("hash", hash_file);
  //! [register]
  // A behavior task that ignores its cancel: its node kills it once its
  // grace period is over.
  ts.add<void(int32_t)>(
    "stubborn", [](scaf::task_actor* self, int32_t ms) -> caf::behavior {
      self->on_cancel([](const caf::error&) {});
      self->delayed_send(self, std::chrono::milliseconds{ms},
                         finish_atom::value);
      return {[self](finish_atom) { self->quit(); }};
    });
  // A behavior task that runs until cancelled and then ends with the
  // cancel's reason, so its caller sees the reason that arrived here.
  ts.add<void()>("watch", [](scaf::task_actor* self) -> caf::behavior {
    self->on_cancel([self](const caf::error& why) { self->quit(why); });
    return {[](finish_atom) {}};
  });
  // Probes: one task of each kind that ends as its argument says (see
  // probe_error): what a caller sees of each end is in docs/distributed.md.
  ts.add<std::string(std::string)>(
    "probe_behavior_value",
    [](scaf::task_actor* self, scaf::task_result<std::string> result,
       std::string how) {
      return probe_behavior(
        self, [result] { result("value from a behavior task"); }, how);
    });
  ts.add<void(std::string)>("probe_behavior",
                            [](scaf::task_actor* self, std::string how) {
                              return probe_behavior(
                                self, [] {}, how);
                            });
  ts.add<std::string(std::string)>(
    "probe_function", [](std::string how) -> caf::expected<std::string> {
      if (how == "error")
        return probe_error();
      if (how == "throw")
        probe_throw();
      if (how == "wait" || how == "stubborn") {
        // Deaf once it runs, as any f() is.
        announce("a function task");
        std::this_thread::sleep_for(std::chrono::milliseconds{500});
      }
      return std::string{"value from a function task"};
    });
  ts.add<std::string(std::string)>(
    "probe_context", [](scaf::task_context& ctx, std::string how) {
      return probe_function(ctx, how, "a function task");
    });
  ts.add_blocking<std::string(std::string)>(
    "probe_blocking", [](scaf::task_context& ctx, std::string how) {
      return probe_function(ctx, how, "a blocking task");
    });
  return ts;
}

/// Prints the tasks `ts` offers, as a caller's `remote_node::offers()` names
/// them (these use CAF's built-in types only).
void print_offers(const scaf::remote_tasks& ts) {
  auto type_name = [](const caf::rtti_pair& x) -> std::string {
    return x.first != 0 ? caf::numbered_type_names[x.first - 1] : "?";
  };
  std::printf("\ntasks it offers:\n");
  for (auto& [name, e] : ts.entries()) {
    std::string line = "  " + name + "(";
    for (size_t i = 0; i < e.signature.args.size(); ++i)
      line += (i > 0 ? ", " : "") + type_name(e.signature.args[i]);
    line += ") -> ";
    line += e.signature.result ? type_name(*e.signature.result) : "void";
    std::printf("%s\n", line.c_str());
  }
}

/// Waits for SIGINT or SIGTERM (blocked in every thread by main).
void wait_for_stop_signal() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  int sig = 0;
  sigwait(&stop, &sig);
}

int serve(caf::actor_system& sys, const config& cfg) {
  //! [serve]
  auto node = scaf::serve(
    sys, tasks(), {.port = cfg.port, .bind = cfg.bind, .name = cfg.name});
  if (!node) {
    std::fprintf(stderr, "scaf-node: %s\n", sys.render(node.error()).c_str());
    return 1;
  }
  std::printf("serving on %s:%u\n", cfg.bind.c_str(),
              static_cast<unsigned>(node->port()));
  std::fflush(stdout);
  wait_for_stop_signal();
  node->stop();
  //! [serve]
  return 0;
}

int call(caf::actor_system& sys, const std::string& where) {
  auto colon = where.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "scaf-node: --call needs HOST:PORT\n");
    return 1;
  }
  auto port = static_cast<uint16_t>(std::stoi(where.substr(colon + 1)));
  //! [call]
  auto peer = scaf::connect(sys, where.substr(0, colon), port);
  if (!peer) {
    std::fprintf(stderr, "scaf-node: %s\n", sys.render(peer.error()).c_str());
    return 1;
  }
  auto result = scaf::run(sys, [&](scaf::scope& s) {
    auto h =
      scaf::spawn_remote<int32_t>(s, *peer, {}, "sleep", int32_t{3600000});
    //! [call]
    std::printf("calling\n");
    std::fflush(stdout);
    return h;
  });
  return result ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  config cfg;
  if (auto err = cfg.parse(argc, argv)) {
    std::fprintf(stderr, "scaf-node: %s\n", cfg.render(err).c_str());
    return 1;
  }
  if (cfg.cli_helptext_printed) {
    print_offers(tasks());
    return 0;
  }
  // After parsing: TLS is on when a certificate was given.
  scaf::network_options net;
  if (!cfg.tls.certificate.empty())
    net.tls = cfg.tls;
  scaf::init_network(cfg, net);
  if (cfg.exit_with_parent)
    prctl(PR_SET_PDEATHSIG, SIGTERM);
  caf::actor_system sys{cfg};
  return cfg.call.empty() ? serve(sys, cfg) : call(sys, cfg.call);
}
