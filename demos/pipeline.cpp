// pipeline: a source, a pool of workers and a sink under one supervisor.
//
//   app                   a scope (grace 5 s)
//   └─ pipeline           supervisor, rest_for_one
//      ├─ sink            counts the results; flushes for 1 s when stopped
//      ├─ workers         a worker pool; a worker crashes on a bad job and
//      │                  is restarted on its own
//      ├─ source          a job every 10 ms, to the pool's workers in turn
//      └─ probe           a supervisor whose child crashes at once: it
//                         gives up, and the pipeline restarts it
//
// main() grows the pool to 5 workers and shrinks it back to 3 while it runs
// (through a pool_ref) and prints the live tree once. Ctrl-C cancels the
// app: the pipeline stops its children one at a time in reverse start order
// (probe, source, then every worker at once, then the sink, which flushes);
// a second Ctrl-C aborts, killing whatever still runs. SIGUSR1 prints the
// live tree. On exit it says where the trace of the run is
// (`scaf.trace-file`) and how to open it. Run until Ctrl-C, it also serves
// the live tree to a browser (scaf/observer.hpp) and prints the address:
// the restarts and the pool's growth show there, and a cancel sent from the
// page stops the app as Ctrl-C would.
//
//   pipeline              runs until Ctrl-C (or a cancel from the page)
//   pipeline --observe HOST:PORT   the same, the observer at that address
//   pipeline --tour       runs 2 s, then stops as a Ctrl-C would
//   pipeline --smoke      the tour, then checks what happened and the trace
//                         (exit code 0 if all is as above)
//   pipeline --smoke --abort   the same with a second Ctrl-C during the flush
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "scaf/all.hpp"
#include "scaf/observer.hpp"
#include "scaf/pool.hpp"
#include "scaf/supervisor.hpp"
#include "scaf/supervisor_ref.hpp"
#include "scaf/tree.hpp"
#include "scaf/tree_dump.hpp"

#include "ctrl_c.hpp"
#include "say.hpp"

using namespace std::chrono_literals;

namespace {

using demo::say;
using job_atom = caf::atom_constant<caf::atom("job")>;
using result_atom = caf::atom_constant<caf::atom("result")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using flushed_atom = caf::atom_constant<caf::atom("flushed")>;

/// What the demo saw, for its summary and its smoke checks.
struct tally {
  std::atomic<int> results{0};
  std::atomic<int> worker_crashes{0};
  std::atomic<int> probe_starts{0};
  std::atomic<bool> flushed{false};
  /// Set once main cancels the app.
  std::atomic<bool> shutting_down{false};
  /// The app, which may also be cancelled from the observer's page (set
  /// before anything runs in it).
  scaf::scope_ref app;
  std::mutex mtx;
  /// Who stopped during the shutdown, in order.
  std::vector<std::string> stopped;

  void stop(const std::string& who) {
    // (A scope says it is cancelled before its children hear of it.)
    if (!shutting_down && !(app && app.is_cancelled()))
      return; // (a worker the pool shrank away)
    std::lock_guard<std::mutex> guard{mtx};
    stopped.push_back(who);
  }
};

/// Counts results; when stopped, takes a second to flush.
caf::behavior sink(scaf::task_actor* self, tally* t) {
  say(self->path(), "up");
  self->on_cancel([self, t](const caf::error&) {
    say(self->path(), "stopping: flushing " + std::to_string(t->results) +
                        " results (1 s; Ctrl-C again aborts)");
    t->stop("sink");
    self->delayed_send(self, 1s, flushed_atom::value);
  });
  return {
    [self, t](result_atom, int job, int value, const std::string& by) {
      if (++t->results % 50 == 0)
        say(self->path(), std::to_string(t->results) + " results, the last " +
                            std::to_string(job) +
                            "^2 = " + std::to_string(value) + " from " + by);
    },
    [self, t](flushed_atom) {
      t->flushed = true;
      say(self->path(), "flushed");
      self->quit();
    },
  };
}

/// A worker: squares its jobs for the sink; a job divisible by 37 is "bad"
/// and crashes it.
caf::behavior worker(scaf::task_actor* self, tally* t, int id) {
  auto name = "worker " + std::to_string(id);
  self->on_cancel([self, t](const caf::error& why) {
    say(self->path(), "stopping");
    t->stop("worker");
    self->quit(why);
  });
  return {[self, t, name](job_atom, int job, const caf::actor& to) {
    if (job % 37 == 0) {
      ++t->worker_crashes;
      say(self->path(), "crashes on bad job " + std::to_string(job));
      self->quit(caf::make_error(caf::sec::runtime_error, "bad job"));
      return;
    }
    self->send(to, result_atom::value, job, job * job, name);
  }};
}

/// The source: every 10 ms, asks the pipeline where the sink and the pool
/// are and the pool for its running workers (scaf's admin messages), and
/// sends the next job to the next worker.
caf::behavior source(scaf::task_actor* self, tally* t,
                     caf::actor_addr pipeline) {
  say(self->path(), "up");
  auto next = std::make_shared<int>(0);
  self->on_cancel([self, t](const caf::error& why) {
    say(self->path(), "stopping");
    t->stop("source");
    self->quit(why);
  });
  self->send(self, tick_atom::value);
  auto ask = [](scaf::task_actor* who, const caf::actor& x) {
    return who->request(x, 1s, scaf::which_children_atom::value);
  };
  return {[=](tick_atom) {
    self->delayed_send(self, 10ms, tick_atom::value);
    auto sup = caf::actor_cast<caf::actor>(pipeline);
    if (!sup)
      return;
    ask(self, sup).then([=](std::vector<scaf::child_info>& xs) {
      caf::actor sink_actor;
      caf::actor pool_actor;
      for (auto& x : xs) {
        if (x.name == "sink")
          sink_actor = x.actor;
        else if (x.name == "workers")
          pool_actor = x.actor;
      }
      if (!sink_actor || !pool_actor)
        return;
      ask(self, pool_actor).then([=](std::vector<scaf::child_info>& ws) {
        std::erase_if(
          ws, [](auto& w) { return w.state != scaf::child_state::running; });
        if (ws.empty())
          return;
        auto job = ++*next;
        self->send(ws[static_cast<size_t>(job) % ws.size()].actor,
                   job_atom::value, job, sink_actor);
      });
    });
  }};
}

/// The probe's child: crashes at once in each of the first three starts of
/// its supervisor (a crash loop), then runs.
caf::behavior probe(scaf::task_actor* self, tally* t) {
  auto n = ++t->probe_starts;
  self->on_cancel([self, t](const caf::error& why) {
    say(self->path(), "stopping");
    t->stop("probe");
    self->quit(why);
  });
  if (n <= 3) {
    say(self->path(), "crashes at start-up (" + std::to_string(n) + ")");
    self->send(self, tick_atom::value);
  }
  return {[self](tick_atom) {
    self->quit(caf::make_error(caf::sec::runtime_error, "probe failed"));
  }};
}

//! [pipeline]
/// The pipeline's spec, computed when it starts: its children reach it
/// through its address.
scaf::child_factory pipeline(tally* t) {
  return scaf::supervisor(
    [t](scaf::scope& s) -> caf::expected<std::optional<scaf::supervisor_spec>> {
      auto self = s.self()->address();
      auto workers = scaf::pool(
        {.intensity = 20, .period = 1s},
        scaf::worker<int>({.name = "w", .shutdown = 500ms}, worker, t));
      auto crash_loop =
        scaf::supervisor({.intensity = 2, .period = 1s},
                         {scaf::child({.name = "check"}, probe, t)});
      return scaf::supervisor_spec{
        {.strategy = scaf::restart_strategy::rest_for_one,
         .intensity = 3,
         .period = 5s},
        {scaf::child({.name = "sink", .shutdown = 2s}, sink, t),
         scaf::child({.name = "workers", .shutdown = 1s}, workers),
         scaf::child({.name = "source", .shutdown = 1s}, source, t, self),
         scaf::child({.name = "probe", .shutdown = 1s}, crash_loop)}};
    });
}
//! [pipeline]

/// Starts or stops workers until the pool has `n` running.
//! [resize]
void resize(const scaf::pool_ref<int>& pool, size_t n, int& next_id) {
  auto now = pool.which_children().wait();
  if (!now)
    return;
  std::vector<caf::actor> running;
  for (auto& w : *now)
    if (w.state == scaf::child_state::running)
      running.push_back(w.actor);
  say("main", "pool: " + std::to_string(running.size()) + " -> " +
                std::to_string(n) + " workers");
  for (auto i = running.size(); i < n; ++i)
    pool.start_child(++next_id).wait();
  for (auto i = n; i < running.size(); ++i)
    pool.terminate_child(running[i - n]).wait();
}
//! [resize]

/// How the demo runs.
struct mode {
  /// Stops by itself after growing and shrinking the pool once.
  bool timed = false;
  /// Checks what happened (exit code 1 if anything is off).
  bool checks = false;
  /// Aborts 300 ms into the shutdown, as a second Ctrl-C would.
  bool abort = false;
  /// Where the observer listens, if it runs.
  std::optional<std::string> observe;
};

/// A token for the observer: 128 random bits, in hex.
std::string random_token() {
  std::random_device rd;
  std::string result;
  for (int i = 0; i < 4; ++i) {
    char buf[9];
    std::snprintf(buf, sizeof(buf), "%08x", rd());
    result += buf;
  }
  return result;
}

/// Runs the app; returns 0 if all went as it should.
int run_app(const mode& m, const std::string& trace_file) {
  caf::actor_system_config cfg;
  scaf::init(cfg);
  cfg.set("logger.console", caf::atom("none"));
  // The supervisors log each restart and give-up at info.
  cfg.set("scaf.log-level", "info");
  cfg.set("scaf.log-sink", "stdout");
  // Every node's life, for a trace viewer.
  cfg.set("scaf.trace-file", trace_file);
  caf::actor_system sys{cfg};
  auto baseline = sys.registry().running();
  tally t;
  // kill -USR1 <pid> prints the live tree.
  scaf::tree_dump_on_signal dump{sys, SIGUSR1, stdout};

  // The live tree in a browser; the token lets the page cancel.
  std::optional<scaf::observer> observer;
  if (m.observe) {
    //! [observer]
    auto started = scaf::observer::start(
      sys, {.address = *m.observe, .token = random_token()});
    //! [observer]
    if (!started) {
      say("main", "no observer: " + scaf::render(started.error()));
      return 1;
    }
    observer = std::move(*started);
    say("main", "observer: " + observer->url() +
                  " (open it in a browser; the token lets it cancel)");
  }

  auto app = scaf::make_scope(sys, {.name = "app", .grace = 5s});
  // However it is cancelled (Ctrl-C here, or from the observer's page).
  t.app = app.ref();
  auto spawned = app.ref().spawn({.name = "pipeline"}, pipeline(&t));
  caf::actor pipeline_actor;
  while (!(pipeline_actor = spawned.task()) && !spawned.ready())
    std::this_thread::sleep_for(1ms);
  auto sup = scaf::supervisor_ref::of(sys, pipeline_actor);
  if (!sup) {
    say("main", "no pipeline: " + scaf::render(sup.error()));
    return 1;
  }
  caf::actor pool_actor;
  if (auto children = sup->which_children().wait())
    for (auto& c : *children)
      if (c.name == "workers")
        pool_actor = c.actor;
  auto pool = scaf::pool_ref<int>::of(sys, pool_actor);
  if (!pool) {
    say("main", "no pool: " + scaf::render(pool.error()));
    return 1;
  }
  int next_id = 0;
  resize(*pool, 3, next_id);
  say("main", m.timed ? "running for 2 s"
                      : "running; Ctrl-C stops, twice aborts; kill -USR1 " +
                          std::to_string(::getpid()) + " prints the live tree");

  // Grow and shrink the pool every 700 ms until Ctrl-C (timed: grow, shrink,
  // stop), and show the live tree once it has grown.
  size_t max_workers = 0;
  for (int tick = 1;; ++tick) {
    if (demo::ctrl_c(700ms) || (m.timed && tick > 2) ||
        app.ref().is_cancelled())
      break;
    resize(*pool, tick % 2 == 1 ? 5 : 3, next_id);
    if (auto counts = pool->count_children().wait())
      max_workers = std::max(max_workers, counts->active);
    if (tick == 1)
      //! [live-tree]
      if (auto tree = app.ref().tree().wait())
        std::printf("-- the live tree --\n%s-------------------\n",
                    scaf::to_text(*tree).c_str());
    //! [live-tree]
  }
  t.shutting_down = true;
  if (app.ref().is_cancelled()) {
    say("main", "the app was cancelled from outside");
  } else {
    say("main", "Ctrl-C: cancelling the app");
    app.ref().cancel("Ctrl-C");
  }
  auto stop_started = std::chrono::steady_clock::now();
  // A second Ctrl-C while it stops aborts.
  auto aborted = false;
  auto done = app.ref().done();
  while (!done.ready()) {
    if (demo::ctrl_c(50ms) ||
        (m.abort && !aborted &&
         std::chrono::steady_clock::now() - stop_started >= 300ms)) {
      say("main", "Ctrl-C again: aborting");
      app.ref().abort();
      aborted = true;
    }
  }
  auto end = app.join().wait();
  say("main", "app ended: " + (!end            ? scaf::render(end.error())
                               : end->reason() ? scaf::render(end->reason())
                                               : std::string{"ok"}));
  std::printf("results: %d, worker crashes: %d, probe starts: %d\n",
              t.results.load(), t.worker_crashes.load(), t.probe_starts.load());
  std::printf("stopped in order:");
  for (auto& who : t.stopped)
    std::printf(" %s", who.c_str());
  std::printf("\n");
  // (Actors quit a moment after their scope's done.)
  for (int i = 0; i < 1000 && sys.registry().running() != baseline; ++i)
    std::this_thread::sleep_for(1ms);
  auto left = sys.registry().running() - baseline;
  std::printf("actors left: %zu\n", left);
  if (!m.checks)
    return left == 0 ? 0 : 1;
  // The checks: work done, crashes restarted, the crash loop escalated
  // once, the pool resized, reverse order, nothing left.
  auto order_ok = [&] {
    std::vector<std::string> kinds;
    for (auto& who : t.stopped)
      if (kinds.empty() || kinds.back() != who)
        kinds.push_back(who);
    return kinds ==
           std::vector<std::string>{"probe", "source", "worker", "sink"};
  }();
  return t.results > 0 && t.worker_crashes > 0 && t.probe_starts == 4 &&
             max_workers == 5 && order_ok && left == 0 && t.flushed == !m.abort
           ? 0
           : 1;
}

/// The trace's own checks: JSON that a viewer opens, with the pipeline's
/// span, restarted workers (two spans of one path) and the probe's crash
/// loop.
bool trace_ok(const std::string& file) {
  std::ifstream in{file};
  auto trace = nlohmann::json::parse(in, nullptr, false);
  if (!trace.is_array())
    return false;
  std::map<std::string, int> spans;
  for (auto& e : trace)
    if (e.value("ph", "") == "X")
      ++spans[e["args"].value("path", "")];
  auto restarted_worker = std::any_of(spans.begin(), spans.end(), [](auto& x) {
    return x.first.rfind("app/pipeline/workers/", 0) == 0 && x.second > 1;
  });
  return spans["app"] == 1 && spans["app/pipeline"] == 1 &&
         spans["app/pipeline/probe/check"] == 4 && restarted_worker;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  mode m;
  m.checks = !args.empty() && args[0] == "--smoke";
  m.timed = m.checks || (!args.empty() && args[0] == "--tour");
  m.abort = m.checks && args.size() > 1 && args[1] == "--abort";
  if (!m.timed)
    m.observe = "127.0.0.1:0";
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--observe")
      m.observe = args[i + 1];
  // Ctrl-C goes to main's sigtimedwait: blocked before CAF starts threads.
  demo::block_ctrl_c();
  auto trace_file = std::filesystem::absolute(m.abort ? "pipeline-abort.json"
                                                      : "pipeline-trace.json")
                      .string();
  auto rc = run_app(m, trace_file);
  // The actor system is gone: the trace is complete.
  std::printf("trace: %s (open it in ui.perfetto.dev or chrome://tracing: "
              "one track per node, restarts one after another on theirs)\n",
              trace_file.c_str());
  if (m.checks) {
    auto ok = rc == 0 && trace_ok(trace_file);
    std::printf("smoke checks: %s\n", ok ? "passed" : "FAILED");
    return ok ? 0 : 1;
  }
  return rc;
}
