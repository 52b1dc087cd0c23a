// The seeded fault storm: the node protocol's safety net. Each seed makes a
// random tree mixing every kind of child (behavior tasks, tasks that open
// scopes, function tasks as jobs and on threads of their own, cancellable
// and blocking tasks, nested scopes, child scopes left to their parent's
// join, supervisors, worker pools; threaded runs add function tasks that
// poll their stop token, as many as the scheduler has threads and more, and
// function and blocking tasks that open scopes of their own) in which a
// seeded subset fails, throws, ignores its cancel, blocks past its grace
// period, cancels its own scope, spawns cleanup work during the shutdown or
// fails while cleaning up, at seeded times. After each run:
//   - the running-actor count is back to its baseline (no orphans);
//   - every failure that happened is reachable from the root's report
//     exactly once (its failure or suppressed), and nothing else is there;
//   - at every scope the failure is the first failed child in the order the
//     scope saw them, unless an exception came later (it outranks);
//   - every handle resolved, and a function task's handle says killed
//     exactly when its outcome does;
//   - killed and cancelled are told apart: a task that stops on its cancel
//     is never killed, one that ignores it is never merely cancelled, and
//     the report's list of killed nodes is exactly the killed outcomes;
//   - a task polling its stop token saw the stop, not its own time-out;
//   - on the deterministic scheduler, the tree was done within the grace
//     period of the later of its last event and the last cancel a task
//     heard (simulated time): a failure climbing up through nested scopes
//     starts a new grace period at each level, from that level's cancel.
// The seed fixes the tree, the faults and their times: a failing seed is
// printed with the line that replays it. On the deterministic scheduler the
// replay is exact; on the threaded one the thread interleaving is the
// machine's.
//
// Environment: SCAF_STORM_SEEDS (seeds per mode), SCAF_STORM_FIRST_SEED,
// SCAF_STORM_NODES (largest tree), SCAF_STORM_SEED (replay one seed).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <caf/all.hpp>

#include <gtest/gtest.h>

#include "scaf/all.hpp"
#include "scaf/pool.hpp"
#include "scaf/supervisor.hpp"

using namespace scaf;
using namespace std::chrono_literals;

namespace {

using fire_atom = caf::atom_constant<caf::atom("fire")>;

// -- the plan: a random tree, pure data, made from the seed
// --------------------

enum class node_kind {
  scope,       // a nested scope (scope::spawn_scope)
  opener,      // a task that opens a scope of its own
  task,        // a behavior task
  job,         // a function task run as a job
  fn_actor,    // a function task taking task_base*
  cancellable, // spawn_cancellable
  blocking,    // spawn_blocking (threaded runs only)
  supervisor,  // a scaf::supervisor of workers (or, one in four, a pool)
  child_scope, // a child scope (scope::open_child), filled through its ref
  poller,      // a function task polling its stop token (threaded only)
  fn_opener,   // a function or blocking task running a scope of its own
               // through its task_context (threaded only)
};

enum class fault {
  finish,            // ends normally at its time
  fail,              // fails at its time
  raise,             // throws at its time
  stubborn,          // ignores its cancel (killed after the grace period)
  cancel_own_scope,  // cancels its scope at its time
  spawn_in_shutdown, // when cancelled, spawns cleanup work into its scope
  fail_in_cleanup,   // when cancelled, fails
  block_past_grace,  // blocking: ignores its stop token for a while
};

struct plan {
  int id = 0;
  node_kind kind = node_kind::task;
  fault what = fault::finish;
  /// When its fault (or its end) fires, after it starts.
  int at_ms = 0;
  bool background = false;
  std::vector<plan> children;

  std::string name() const {
    static constexpr char prefix[] = {'s', 'o', 't', 'j', 'f', 'c',
                                      'b', 'v', 'h', 'p', 'g'};
    return prefix[static_cast<int>(kind)] + std::to_string(id);
  }
};

struct storm_config {
  uint64_t seed;
  size_t max_nodes;
  bool threaded;
  caf::timespan grace;
};

class planner {
public:
  explicit planner(const storm_config& cfg)
    : rng_(cfg.seed), budget_(cfg.max_nodes), threaded_(cfg.threaded) {
    // nop
  }

  std::vector<plan> root() {
    return children(0);
  }

private:
  int pick(int lo, int hi) {
    return std::uniform_int_distribution<int>{lo, hi}(rng_);
  }

  fault pick_task_fault() {
    auto x = pick(0, 99);
    if (x < 40)
      return fault::finish;
    if (x < 52)
      return fault::fail;
    if (x < 58)
      return fault::raise;
    if (x < 70)
      return fault::stubborn;
    if (x < 75)
      return fault::cancel_own_scope;
    if (x < 88)
      return fault::spawn_in_shutdown;
    return fault::fail_in_cleanup;
  }

  std::vector<plan> children(int depth) {
    std::vector<plan> out;
    if (depth == 0) {
      // The root takes children until the budget is spent: trees come out
      // close to the size asked for, wide at the top and deep below.
      while (budget_ > 0)
        out.push_back(node(depth));
      return out;
    }
    auto widest = std::min<int>(12, 2 + static_cast<int>(budget_ / 16));
    auto n = pick(1, widest);
    for (int i = 0; i < n && budget_ > 0; ++i)
      out.push_back(node(depth));
    return out;
  }

  plan node(int depth) {
    --budget_;
    plan p;
    p.id = next_id_++;
    p.at_ms = pick(1, 200);
    auto x = pick(0, 99);
    auto container = depth < 6 && budget_ > 3;
    if (container && x < 14)
      p.kind = node_kind::scope;
    else if (container && x < 24)
      p.kind = node_kind::opener;
    else if (container && x < 29)
      p.kind = node_kind::supervisor;
    else if (container && x < 33)
      p.kind = node_kind::child_scope;
    else if (threaded_ && container && x < 36)
      p.kind = node_kind::fn_opener;
    else if (threaded_ && x < 40 && pick(0, 1) == 0)
      p.kind = node_kind::poller;
    else if (x < 40)
      p.kind = node_kind::job;
    else if (x < 47)
      p.kind = node_kind::fn_actor;
    else if (x < 53)
      p.kind = node_kind::cancellable;
    else if (threaded_ && x < 60)
      p.kind = node_kind::blocking;
    else
      p.kind = node_kind::task;
    switch (p.kind) {
    case node_kind::scope:
    case node_kind::child_scope:
      p.children = children(depth + 1);
      break;
    case node_kind::fn_opener:
      p.what = pick(0, 3) == 0 ? fault::fail : fault::finish;
      p.children = children(depth + 1);
      break;
    case node_kind::poller:
      p.what = fault::finish;
      // Polls until it is cancelled, or gives up long after (a starved
      // cancel): never in a run that goes well.
      p.at_ms = 30'000;
      break;
    case node_kind::opener:
      p.what = pick(0, 3) == 0 ? fault::fail : fault::finish;
      p.children = children(depth + 1);
      break;
    case node_kind::supervisor:
      for (int i = pick(1, 4); i > 0 && budget_ > 0; --i, --budget_) {
        plan w;
        w.id = next_id_++;
        w.at_ms = pick(5, 100);
        w.what = pick(0, 2) == 0 ? fault::fail : fault::stubborn;
        p.children.push_back(w);
      }
      break;
    case node_kind::job:
    case node_kind::fn_actor:
    case node_kind::cancellable: {
      auto y = pick(0, 9);
      p.what = y < 2 ? fault::fail : y < 3 ? fault::raise : fault::finish;
      break;
    }
    case node_kind::blocking: {
      auto y = pick(0, 9);
      p.what = y < 2   ? fault::fail
               : y < 4 ? fault::block_past_grace
                       : fault::finish;
      break;
    }
    case node_kind::task:
      p.what = pick_task_fault();
      p.background = pick(0, 4) == 0;
      break;
    }
    return p;
  }

  std::mt19937_64 rng_;
  size_t budget_;
  bool threaded_;
  int next_id_ = 0;
};

// -- running a plan
// -------------------------------------------------------------------

/// What a storm run observes; shared by every node of the tree.
struct storm {
  explicit storm(const storm_config& c) : cfg(c) {
    // nop
  }

  storm_config cfg;
  std::function<caf::actor_clock::time_point()> now;
  std::mutex mtx;
  /// Keys of the failures that happened ("app:<node>" or "exc:<node>").
  std::vector<std::string> failures;
  /// Function tasks' handles, by node name.
  std::vector<std::pair<std::string, handle<int>>> handles;
  caf::actor_clock::time_point last_event{};
  /// When a task last heard a cancel.
  caf::actor_clock::time_point last_cancel{};
  /// Pollers that gave up waiting for their stop.
  std::vector<std::string> starved;

  void event() {
    std::lock_guard<std::mutex> guard{mtx};
    last_event = std::max(last_event, now());
  }

  void cancelled() {
    std::lock_guard<std::mutex> guard{mtx};
    last_cancel = std::max(last_cancel, now());
  }

  void gave_up(const plan& p) {
    std::lock_guard<std::mutex> guard{mtx};
    starved.push_back(p.name());
  }

  caf::error fail(const plan& p) {
    std::lock_guard<std::mutex> guard{mtx};
    last_event = std::max(last_event, now());
    failures.push_back("app:" + p.name());
    return caf::error{1, caf::atom("storm"), caf::make_message(p.name())};
  }

  [[noreturn]] void raise(const plan& p) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      last_event = std::max(last_event, now());
      failures.push_back("exc:" + p.name());
    }
    throw std::runtime_error("boom " + p.name());
  }

  void keep(const plan& p, handle<int> h) {
    std::lock_guard<std::mutex> guard{mtx};
    handles.emplace_back(p.name(), std::move(h));
  }
};

void spawn_children(scope& s, storm* st, const std::vector<plan>& children);

/// Every seventh function task is cancelled through its handle as soon as it
/// is spawned: never a failure, and its planned fault may never happen.
void keep_or_cancel(storm* st, const plan& p, handle<int> h) {
  if (p.id % 7 == 0)
    h.cancel(caf::error{3, caf::atom("storm"), caf::make_message(p.name())});
  st->keep(p, std::move(h));
}

/// A task that ends after a few milliseconds: cleanup work.
caf::behavior cleanup_task(task_actor* self, storm* st) {
  self->on_cancel([self, st](const caf::error& why) {
    st->cancelled();
    self->quit(why);
  });
  self->delayed_send(self, 5ms, fire_atom::value);
  return {[=](fire_atom) {
    st->event();
    self->quit();
  }};
}

caf::behavior storm_task(task_actor* self, storm* st, const plan* p) {
  switch (p->what) {
  case fault::stubborn:
    // Runs on: killed at grace end.
    self->on_cancel([st](const caf::error&) { st->cancelled(); });
    break;
  case fault::fail_in_cleanup:
    self->on_cancel([self, st, p](const caf::error&) {
      st->cancelled();
      self->quit(st->fail(*p));
    });
    break;
  case fault::spawn_in_shutdown:
    self->on_cancel([self, st](const caf::error& why) {
      st->cancelled();
      caf::anon_send(caf::actor_cast<caf::actor>(self->parent_scope()),
                     spawn_atom::value,
                     make_spawn_request({.name = "cleanup"}, cleanup_task, st));
      self->quit(why);
    });
    break;
  default:
    self->on_cancel([self, st](const caf::error& why) {
      st->cancelled();
      self->quit(why);
    });
    break;
  }
  self->delayed_send(self, std::chrono::milliseconds{p->at_ms},
                     fire_atom::value);
  return {[=](fire_atom) {
    switch (p->what) {
    case fault::fail:
      self->quit(st->fail(*p));
      return;
    case fault::raise:
      st->raise(*p);
    case fault::cancel_own_scope:
      st->event();
      caf::anon_send(caf::actor_cast<caf::actor>(self->parent_scope()),
                     cancel_atom::value, p->name() + " cancels its scope");
      self->quit();
      return;
    default:
      st->event();
      self->quit();
    }
  }};
}

caf::behavior opener_task(task_actor* self, storm* st, const plan* p) {
  self->on_cancel([self, st](const caf::error& why) {
    st->cancelled();
    self->quit(why);
  });
  self->open_scope(
    {.name = "in"}, [st, p](scope& in) { spawn_children(in, st, p->children); },
    [self](caf::expected<void> r) {
      self->quit(r ? caf::error{} : r.error());
    });
  if (p->what == fault::fail)
    self->delayed_send(self, std::chrono::milliseconds{p->at_ms},
                       fire_atom::value);
  return {[=](fire_atom) { self->quit(st->fail(*p)); }};
}

/// A supervised worker: fails or just keeps running (stubbornly) until it
/// is stopped. Its failures are the supervisor's business, not recorded.
caf::behavior worker_task(task_actor* self, storm* st, const plan* p) {
  self->on_cancel([self, st, p](const caf::error& why) {
    st->cancelled();
    if (p->what != fault::stubborn) // stubborn: killed at grace end
      self->quit(why);
  });
  self->delayed_send(self, std::chrono::milliseconds{p->at_ms},
                     fire_atom::value);
  return {[=](fire_atom) {
    st->event();
    if (p->what == fault::fail)
      self->quit(
        caf::error{2, caf::atom("storm"), caf::make_message("worker")});
  }};
}

/// A pool's worker: `worker_task` for the `i`-th child of the pool's plan.
caf::behavior pool_worker_task(task_actor* self, storm* st, const plan* p,
                               int i) {
  return worker_task(self, st, &p->children[static_cast<size_t>(i)]);
}

auto function_body(storm* st, const plan* p) {
  return [st, p]() -> caf::expected<int> {
    switch (p->what) {
    case fault::fail:
      return st->fail(*p);
    case fault::raise:
      st->raise(*p);
    default:
      st->event();
      return p->id;
    }
  };
}

void spawn_children(scope& s, storm* st, const std::vector<plan>& children) {
  for (auto& c : children) {
    auto p = &c;
    spawn_options opts{c.name(), c.background};
    switch (c.kind) {
    case node_kind::scope:
      s.spawn_scope({.name = c.name()}, [st, p](scope& in) {
        spawn_children(in, st, p->children);
      });
      break;
    case node_kind::child_scope: {
      // Lives until joined: half are joined through their owner once their
      // body has spawned their children, half are left to the join of
      // their parent (join is transitive).
      auto owner = s.open_child({.name = c.name()}, [st, p](scope& in) {
        spawn_children(in, st, p->children);
      });
      if (c.id % 2 == 0)
        owner.join();
      owner.detach();
      break;
    }
    case node_kind::fn_opener: {
      // A function task (or, one in two, a blocking task) that runs a scope
      // of its own and waits for it: its children are the scope's.
      auto body = [st, p](task_context& ctx) -> caf::expected<int> {
        auto r = ctx.run({.name = "in"}, [st, p](scope& in) {
          spawn_children(in, st, p->children);
        });
        if (!r)
          return r.error();
        if (p->what == fault::fail)
          return st->fail(*p);
        st->event();
        return p->id;
      };
      if (c.id % 2 == 0)
        st->keep(c, s.spawn_fn(opts, body));
      else
        st->keep(c, s.spawn_blocking(opts, body));
      break;
    }
    case node_kind::poller:
      // In the background: it polls until its scope cancels it.
      opts.background = true;
      st->keep(c, s.spawn_fn(opts, [st, p](std::stop_token stop) -> int {
        auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds{p->at_ms};
        while (!stop.stop_requested()) {
          if (std::chrono::steady_clock::now() >= until) {
            st->gave_up(*p);
            break;
          }
          std::this_thread::sleep_for(1ms);
        }
        return p->id;
      }));
      break;
    case node_kind::opener:
      s.spawn(opts, opener_task, st, p);
      break;
    case node_kind::task:
      s.spawn(opts, storm_task, st, p);
      break;
    case node_kind::supervisor: {
      // In the background: it runs until cancelled, as OTP's does.
      opts.background = true;
      if (c.id % 4 == 3) {
        // A worker pool: its workers started by message, stopped all at
        // once (the stubborn ones killed after the shared shutdown time).
        auto pool_actor = s.spawn(
          opts, pool({.intensity = 2, .period = std::chrono::hours{1}},
                     worker<int>({.name = "w", .shutdown = st->cfg.grace},
                                 pool_worker_task, st, p)));
        if (pool_actor)
          for (size_t i = 0; i < c.children.size(); ++i)
            caf::anon_send(*pool_actor, start_child_atom::value,
                           caf::make_message(static_cast<int>(i)));
        break;
      }
      std::vector<child_spec> specs;
      for (auto& w : c.children)
        specs.push_back(child({.name = w.name(),
                               .restart = restart_type::permanent,
                               .shutdown = st->cfg.grace / (1 + w.id % 3)},
                              worker_task, st, &w));
      s.spawn(opts,
              supervisor({.strategy = static_cast<restart_strategy>(c.id % 3),
                          .intensity = 2,
                          .period = std::chrono::hours{1}},
                         std::move(specs)));
      break;
    }
    case node_kind::job:
      keep_or_cancel(st, c, s.spawn_fn(opts, function_body(st, p)));
      break;
    case node_kind::fn_actor:
      keep_or_cancel(
        st, c, s.spawn_fn(opts, [st, p](task_base*) -> caf::expected<int> {
          return function_body(st, p)();
        }));
      break;
    case node_kind::cancellable:
      keep_or_cancel(st, c,
                     s.spawn_cancellable(opts, -1, function_body(st, p)));
      break;
    case node_kind::blocking:
      st->keep(c, s.spawn_blocking(
                    opts, [st, p](std::stop_token stop) -> caf::expected<int> {
                      auto until = std::chrono::steady_clock::now() +
                                   std::chrono::milliseconds{p->at_ms};
                      if (p->what == fault::block_past_grace) {
                        // Ignores its stop token past the grace period: a
                        // straggler.
                        std::this_thread::sleep_for(st->cfg.grace * 2);
                      } else {
                        while (!stop.stop_requested() &&
                               std::chrono::steady_clock::now() < until)
                          std::this_thread::sleep_for(1ms);
                      }
                      if (p->what == fault::fail)
                        return st->fail(*p);
                      st->event();
                      return p->id;
                    }));
      break;
    }
  }
}

// -- the oracles
// ------------------------------------------------------------------------

/// The key of a failure as the tree records it, or "" for one that is no
/// node's own (a supervisor giving up).
std::string key_of(const caf::error& err) {
  if (err.category() == caf::atom("storm") &&
      err.context().match_elements<std::string>())
    return "app:" + err.context().get_as<std::string>(0);
  if (is(err, errc::task_exception)) {
    auto detail = err.context().get_as<std::string>(1);
    if (detail.rfind("boom ", 0) == 0)
      return "exc:" + detail.substr(5);
  }
  if (is(err, errc::restart_limit))
    return "";
  return "unexpected:" + render(err);
}

bool failed(const node_outcome& x) {
  return x.status == node_status::failed || x.status == node_status::timed_out;
}

/// At every scope that failed, its failure is the first failure it saw,
/// unless an exception came later: the first exception then. A scope sees a
/// child's failure when that child ends. It sees the failures a killed task
/// never handled (its own, and those of the scopes it opened) when it learns
/// of the task's death, in an order among themselves that the tree does not
/// show: those form one group.
void check_first_failures(const storm& st,
                          const std::vector<node_outcome>& children,
                          const caf::error& failure, const std::string& path,
                          bool is_supervisor,
                          std::vector<std::string>& errors) {
  if (failure && !is_supervisor) {
    std::vector<std::vector<caf::error>> groups;
    for (auto& c : children) {
      if (failed(c)) {
        groups.push_back({c.reason});
      } else if (c.status == node_status::killed && c.name[0] == 'o') {
        std::vector<caf::error> group;
        if (std::count(st.failures.begin(), st.failures.end(), "app:" + c.name))
          group.push_back(
            caf::error{1, caf::atom("storm"), caf::make_message(c.name)});
        for (auto& opened : c.children)
          if (failed(opened))
            group.push_back(opened.reason);
        if (!group.empty())
          groups.push_back(std::move(group));
      }
    }
    auto has_exception = [](const std::vector<caf::error>& g) {
      return std::any_of(g.begin(), g.end(), [](const caf::error& x) {
        return is(x, errc::task_exception);
      });
    };
    auto first = std::find_if(groups.begin(), groups.end(), has_exception);
    if (first == groups.end())
      first = groups.begin();
    auto in_group = [&](const std::vector<caf::error>& g) {
      return std::find(g.begin(), g.end(), failure) != g.end();
    };
    if (groups.empty())
      errors.push_back(path + " failed with " + render(failure) +
                       ", but none of its children failed");
    else if (!in_group(*first))
      errors.push_back(path + " failed with " + render(failure) +
                       ", not with the first failure it saw, " +
                       render(first->front()));
  }
  for (auto& c : children) {
    if (c.children.empty())
      continue;
    // A task's children are the scopes it opened; a scope's, its own.
    auto task_node = (c.name[0] == 'o' || c.name[0] == 'g') &&
                     c.name.find('/') == std::string::npos;
    if (task_node) {
      check_first_failures(st, c.children, caf::error{}, path + "/" + c.name,
                           false, errors);
      continue;
    }
    check_first_failures(st, c.children, failed(c) ? c.reason : caf::error{},
                         path + "/" + c.name, c.name[0] == 'v', errors);
  }
}

struct storm_result {
  std::vector<std::string> errors;
  size_t nodes = 0;
  size_t failures = 0;
};

/// Every node's outcome with its path; several may share a name (cleanup
/// tasks, restarted workers), the nodes of a plan do not.
void index_outcomes(
  const std::vector<node_outcome>& xs, const std::string& path,
  std::vector<std::tuple<std::string, std::string, const node_outcome*>>& out) {
  for (auto& x : xs) {
    auto full = path + "/" + x.name;
    auto name = x.name.substr(x.name.rfind('/') + 1);
    out.emplace_back(name, full, &x);
    index_outcomes(x.children, full, out);
  }
}

void index_plans(const std::vector<plan>& xs,
                 std::map<std::string, const plan*>& out) {
  for (auto& x : xs) {
    out.emplace(x.name(), &x);
    index_plans(x.children, out);
  }
}

/// Killed and cancelled told apart: a task that stops on its cancel is
/// never killed, one that ignores it never merely cancelled; the report
/// lists exactly the killed outcomes; a function task's handle says killed
/// exactly when its outcome does.
void check_stops(const storm& st, const std::vector<plan>& tree,
                 const scope_report& report, std::vector<std::string>& errors) {
  std::vector<std::tuple<std::string, std::string, const node_outcome*>>
    outcomes;
  index_outcomes(report.children, "root", outcomes);
  std::map<std::string, const plan*> plans;
  index_plans(tree, plans);
  std::set<std::string> workers;
  for (auto& [name, x] : plans)
    if (x->kind == node_kind::supervisor)
      for (auto& w : x->children)
        workers.insert(w.name());
  std::map<std::string, std::pair<std::string, const node_outcome*>> by_plan;
  std::vector<std::string> killed;
  for (auto& [name, path, outcome] : outcomes) {
    if (plans.count(name) != 0)
      by_plan.emplace(name, std::make_pair(path, outcome));
    if (outcome->status == node_status::killed) {
      killed.push_back(path);
      if (!is(outcome->reason, errc::killed))
        errors.push_back(path + " is killed with " + render(outcome->reason));
    }
    auto i = plans.find(name);
    if (i == plans.end() || i->second->kind != node_kind::task ||
        workers.count(name) != 0)
      continue; // (a supervisor stops its workers one at a time: its parent
                // may force it, killing those it has not reached yet)
    auto stubborn = i->second->what == fault::stubborn;
    // (On real threads, a cancel that crosses many edges under load may
    // arrive after the subtree's grace period ended: a kill then is right.)
    if (outcome->status == node_status::killed && !stubborn && !st.cfg.threaded)
      errors.push_back(path + " stops on its cancel, yet was killed");
    if (outcome->status == node_status::cancelled && stubborn)
      errors.push_back(path + " ignores its cancel, yet ended cancelled");
  }
  auto listed = report.killed;
  std::sort(listed.begin(), listed.end());
  std::sort(killed.begin(), killed.end());
  if (listed != killed)
    errors.push_back("the report lists " + std::to_string(listed.size()) +
                     " killed nodes, the outcomes say " +
                     std::to_string(killed.size()));
  for (auto& [name, h] : st.handles) {
    if (!h.ready())
      continue; // reported below
    auto i = by_plan.find(name);
    if (i == by_plan.end() || name[0] == 'c')
      continue; // a cancellable task resolves with its fallback
    auto handle_killed = !h.get() && is(h.get().error(), errc::killed);
    auto outcome_killed = i->second.second->status == node_status::killed;
    if (handle_killed != outcome_killed)
      errors.push_back(
        i->second.first + ": its handle says " +
        (h.get() ? std::string{"a value"} : render(h.get().error())) +
        ", its outcome " + to_string(i->second.second->status));
  }
  for (auto& name : st.starved)
    errors.push_back(name + " polled its stop token in vain: the cancel never "
                            "reached it");
}

storm_result check(storm& st, const scope_report& report) {
  storm_result out;
  std::vector<std::string> seen;
  for (auto err : {&report.failure}) {
    if (*err)
      if (auto k = key_of(*err); !k.empty())
        seen.push_back(k);
  }
  for (auto& err : report.suppressed)
    if (auto k = key_of(err); !k.empty())
      seen.push_back(k);
  auto happened = st.failures;
  std::sort(seen.begin(), seen.end());
  std::sort(happened.begin(), happened.end());
  if (seen != happened) {
    std::string diff = "failures that happened and what the report holds "
                       "differ:";
    std::vector<std::string> lost, extra;
    std::set_difference(happened.begin(), happened.end(), seen.begin(),
                        seen.end(), std::back_inserter(lost));
    std::set_difference(seen.begin(), seen.end(), happened.begin(),
                        happened.end(), std::back_inserter(extra));
    for (auto& k : lost)
      diff += " lost " + k + ";";
    for (auto& k : extra)
      diff += " unexpected " + k + ";";
    out.errors.push_back(diff);
  }
  if (!happened.empty() && report.status != scope_status::failed)
    out.errors.push_back("failures happened but the root " +
                         std::string{to_string(report.status)});
  check_first_failures(st, report.children, report.failure, "root", false,
                       out.errors);
  for (auto& [name, h] : st.handles)
    if (!h.ready())
      out.errors.push_back("the handle of " + name + " never resolved");
  out.failures = happened.size();
  return out;
}

const char* to_string(fault x) {
  static constexpr const char* names[] = {"finish",
                                          "fail",
                                          "raise",
                                          "stubborn",
                                          "cancel_own_scope",
                                          "spawn_in_shutdown",
                                          "fail_in_cleanup",
                                          "block_past_grace"};
  return names[static_cast<int>(x)];
}

void dump(const std::vector<plan>& xs, const std::string& indent) {
  for (auto& x : xs) {
    std::printf("%s%s %s at %d ms%s\n", indent.c_str(), x.name().c_str(),
                to_string(x.what), x.at_ms, x.background ? " (bg)" : "");
    dump(x.children, indent + "  ");
  }
}

size_t count_nodes(const std::vector<plan>& xs) {
  size_t n = 0;
  for (auto& x : xs)
    n += 1 + count_nodes(x.children);
  return n;
}

struct storm_config_base : caf::actor_system_config {
  explicit storm_config_base(bool threaded) {
    scaf::init(*this);
    if (!threaded)
      set("scheduler.policy", caf::atom("testing"));
    set("logger.console", caf::atom("none"));
  }
};

/// Runs one seed; returns the violated oracles (empty: all held).
storm_result run_storm(const storm_config& cfg) {
  storm_config_base sys_cfg{cfg.threaded};
  storm_result result;
  {
    caf::actor_system sys{sys_cfg};
    auto baseline = sys.registry().running();
    storm st{cfg};
    st.now = [&sys] { return sys.clock().now(); };
    auto tree = planner{cfg}.root();
    result.nodes = count_nodes(tree);
    auto report = std::make_shared<scope_report>();
    auto root = spawn_scope(
      sys, {.name = "root", .grace = cfg.grace, .record_outcomes = true},
      [&](scope& s) {
        spawn_children(s, &st, tree);
        s.join();
      },
      report);
    auto start = sys.clock().now();
    caf::actor_clock::time_point done_at;
    if (cfg.threaded) {
      caf::scoped_actor waiter{sys};
      waiter->monitor(root);
      bool down = false;
      waiter->receive(
        [&](caf::down_msg&) {
          down = true;
          // Every actor of the tree is gone before the root's done: CAF
          // counts an actor out before it sends its down message.
          auto left = static_cast<long>(sys.registry().running()) -
                      static_cast<long>(baseline) - 1; // - the waiter
          if (left != 0)
            result.errors.push_back(std::to_string(left) +
                                    " actors still running at the root's "
                                    "done");
        },
        caf::after(std::chrono::seconds{60}) >> [] {});
      if (!down) {
        std::fprintf(stderr,
                     "seed %llu hung: not done after 60 s\nreplay: "
                     "SCAF_STORM_SEED=%llu scaf_storm_tests "
                     "--gtest_filter=*Threaded*\n",
                     static_cast<unsigned long long>(cfg.seed),
                     static_cast<unsigned long long>(cfg.seed));
        std::fflush(stderr);
        std::_Exit(EXIT_FAILURE); // cannot tear the system down
      }
      done_at = sys.clock().now();
    } else {
      auto& sched =
        dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
      bool down = false;
      auto watcher = sys.spawn([&](caf::event_based_actor* self) {
        self->monitor(root);
        self->set_down_handler([&down, self](caf::down_msg&) {
          down = true;
          self->quit();
        });
        return caf::behavior{[](fire_atom) {}};
      });
      sched.run();
      while (!down && sched.clock().has_pending_timeout()) {
        sched.trigger_timeout();
        sched.run();
      }
      if (!down)
        result.errors.push_back("hung: nothing left to run, root not done");
      done_at = sched.clock().now();
      // Simulated time: the tree is done within the grace period after its
      // last event, or after the last cancel a task heard (a failure that
      // climbs up through nested scopes starts a grace period at each
      // level, from that level's cancel).
      auto last = std::max({st.last_event, st.last_cancel, start});
      if (done_at - last > cfg.grace + 1ms)
        result.errors.push_back(
          "done " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                           done_at - last)
                           .count()) +
          " ms after the last event or cancel, more than the grace period");
    }
    root = nullptr;
    if (std::getenv("SCAF_STORM_DUMP") != nullptr) {
      dump(tree, "");
      std::printf("%s", render_tree(*report, "root").c_str());
      for (auto& err : report->suppressed)
        std::printf("suppressed: %s\n", render(err).c_str());
      for (auto& k : st.failures)
        std::printf("happened: %s\n", k.c_str());
    }
    if (result.errors.empty()) {
      check_stops(st, tree, *report, result.errors);
      auto more = check(st, *report);
      result.errors.insert(result.errors.end(), more.errors.begin(),
                           more.errors.end());
      result.failures = more.failures;
    }
    if (sys.registry().running() != baseline)
      result.errors.push_back(
        std::to_string(sys.registry().running() - baseline) +
        " actors still running");
  }
  return result;
}

uint64_t env_or(const char* name, uint64_t fallback) {
  if (auto x = std::getenv(name))
    return std::strtoull(x, nullptr, 10);
  return fallback;
}

void run_seeds(bool threaded, uint64_t default_seeds, caf::timespan grace) {
  auto nodes = env_or("SCAF_STORM_NODES", 400);
  std::vector<uint64_t> seeds;
  if (auto one = std::getenv("SCAF_STORM_SEED")) {
    seeds.push_back(std::strtoull(one, nullptr, 10));
  } else {
    auto first = env_or("SCAF_STORM_FIRST_SEED", 1);
    for (auto n = env_or("SCAF_STORM_SEEDS", default_seeds); n > 0; --n)
      seeds.push_back(first++);
  }
  size_t total_nodes = 0, total_failures = 0;
  for (auto seed : seeds) {
    // Tree sizes vary with the seed, up to `nodes`.
    storm_config cfg{seed, 10 + seed * 7919 % nodes, threaded, grace};
    auto r = run_storm(cfg);
    total_nodes += r.nodes;
    total_failures += r.failures;
    if (!r.errors.empty()) {
      std::string what;
      for (auto& e : r.errors)
        what += "\n  " + e;
      FAIL() << "seed " << seed << " (" << r.nodes << " nodes, "
             << (threaded ? "threaded" : "deterministic") << ")" << what
             << "\nreplay: SCAF_STORM_SEED=" << seed
             << " SCAF_STORM_NODES=" << nodes << " scaf_storm_tests "
             << "--gtest_filter="
             << ::testing::UnitTest::GetInstance()->current_test_info()->name();
    }
  }
  // A storm in which nothing failed tested little (a replayed seed may
  // have had nothing to fail).
  if (seeds.size() > 1) {
    EXPECT_GT(total_failures, 0u);
  }
  std::printf("[ storm    ] %zu seeds, %zu nodes, %zu failures injected "
              "that happened: every oracle held\n",
              seeds.size(), total_nodes, total_failures);
}

} // namespace

TEST(FaultStorm, DeterministicSchedulerEveryOracleHolds) {
  run_seeds(false, 1000, 50ms);
}

TEST(FaultStormStress, ThreadedSchedulerEveryOracleHolds) {
  run_seeds(true, 8, 20ms);
}
