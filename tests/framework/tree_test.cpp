// Tests of scaf/tree.hpp: the live tree of a scope, asked for while it runs
// and while it is cancelled, rendered as text and as JSON, on CAF's
// deterministic scheduler (whose clock moves only when told, so ages are
// exact), then during a 10,000-node cancel on the real scheduler.
#include "scaf/tree.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include <chrono>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "scaf/tree_dump.hpp"

#include "../common/tasks.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

namespace {

class TreeTest : public leak_checked_deterministic_test {
protected:
  /// A service scope "app" (grace 1 s) running `body`; its reference.
  template <class F>
  scope_ref open(F body) {
    std::optional<scope_ref> ref;
    app = spawn_scope(sys, {.name = "app", .grace = 1s},
                      [&, body = std::move(body)](scope& s) mutable {
                        ref = s.ref();
                        body(s);
                      });
    run();
    return *ref;
  }

  /// Asks `ref` for its tree and runs until it answers.
  tree_node tree_of(const scope_ref& ref) {
    auto h = ref.tree();
    run();
    EXPECT_TRUE(h.ready());
    if (!h.ready() || !h.get())
      return {};
    return *h.get();
  }

  void TearDown() override {
    caf::anon_send_exit(app, caf::exit_reason::user_shutdown);
    leak_checked_deterministic_test::TearDown();
  }

  caf::actor app;
};

/// "name:kind:state" of every node, depth first, indented by depth.
std::vector<std::string> shape(const tree_node& x, int depth = 0) {
  std::vector<std::string> out{std::string(static_cast<size_t>(depth), ' ') +
                               x.name + ":" + x.kind + ":" +
                               to_string(x.state)};
  for (auto& child : x.children)
    for (auto& line : shape(child, depth + 1))
      out.push_back(std::move(line));
  return out;
}

caf::behavior idle(task_actor*) {
  return {[](finish_atom) {}};
}

/// Quits on `finish_atom`.
caf::behavior finisher(task_actor* self) {
  return {[self](finish_atom) { self->quit(); }};
}

/// Ignores its cancel: runs on until it is killed.
caf::behavior stubborn(task_actor* self) {
  self->on_cancel([](const caf::error&) {});
  return {[](finish_atom) {}};
}

} // namespace

TEST_F(TreeTest, RunningScopeListsItsChildrenInSpawnOrderWithTheirAges) {
  auto ref = open([&](scope& s) {
    s.spawn({.name = "a"}, idle);
    s.spawn_scope({.name = "inner"},
                  [](scope& in) { in.spawn({.name = "x"}, idle); });
  });
  advance(1500ms);
  auto tree = tree_of(ref);
  EXPECT_EQ(shape(tree), (std::vector<std::string>{
                           "app:scope:running",
                           " a:task:running",
                           " inner:scope:waiting",
                           "  x:task:running",
                         }));
  EXPECT_EQ(tree.live_children, 2u);
  EXPECT_EQ(tree.children[1].live_children, 1u);
  EXPECT_EQ(tree.children[1].children[0].path, "app/inner/x");
  // A scope names its lifecycle state (scaf/scope_state.hpp).
  EXPECT_EQ(tree.scope_state, scope_state::open);
  EXPECT_EQ(tree.children[1].scope_state, scope_state::joined);
  EXPECT_FALSE(tree.children[0].scope_state);
  EXPECT_EQ(to_text(tree), "app  scope  open  1.5 s  2 children\n"
                           "  a  task  running  1.5 s\n"
                           "  inner  scope  joined  1.5 s  1 child\n"
                           "    x  task  running  1.5 s\n");
}

TEST_F(TreeTest, JsonParsesBackIntoTheSameTree) {
  auto ref = open([&](scope& s) {
    s.spawn({.name = "a"}, idle);
    s.spawn_scope({.name = "inner"},
                  [](scope& in) { in.spawn({.name = "x"}, idle); });
  });
  advance(250ms);
  auto tree = tree_of(ref);
  auto json = nlohmann::json::parse(to_json(tree));
  EXPECT_EQ(json["path"], "app");
  EXPECT_EQ(json["kind"], "scope");
  EXPECT_EQ(json["state"], "running");
  EXPECT_EQ(json["age_ms"], 250);
  EXPECT_EQ(json["live_children"], 2);
  ASSERT_EQ(json["children"].size(), 2u);
  EXPECT_EQ(json["children"][0]["name"], "a");
  EXPECT_EQ(json["children"][1]["children"][0]["path"], "app/inner/x");
  EXPECT_FALSE(json.contains("overdue_ms"));
  EXPECT_FALSE(json.contains("unanswered"));
}

TEST_F(TreeTest, CancellingScopeNamesTheChildItWaitsForAndHowLongPastItsGrace) {
  caf::actor mule;
  auto ref = open([&](scope& s) {
    s.spawn({.name = "quick"}, idle);
    mule = *s.spawn({.name = "mule"}, stubborn);
  });
  caf::anon_send(app, cancel_atom::value, "stop");
  run(); // quick quits at once; mule ignores its cancel
  advance(400ms);
  auto cancelling = tree_of(ref);
  EXPECT_EQ(shape(cancelling),
            (std::vector<std::string>{"app:scope:cancelling",
                                      " mule:task:cancelling"}));
  EXPECT_FALSE(cancelling.children[0].overdue); // 600 ms of grace left
  // The grace period ends: app forces mule, and is asked again before mule
  // has taken the kill, 1.5 s later.
  sched.advance_time(600ms);
  sched.prioritize(app);
  sched.run_once(); // app forces mule: the kill waits in mule's mailbox
  sched.advance_time(1500ms);
  auto h = ref.tree();
  sched.prioritize(app);
  sched.run_once();
  ASSERT_TRUE(h.ready());
  auto late = *h.get();
  ASSERT_EQ(late.children.size(), 1u);
  EXPECT_EQ(late.children[0].state, node_state::killing);
  ASSERT_TRUE(late.children[0].overdue);
  EXPECT_EQ(*late.children[0].overdue, caf::timespan{1500ms});
  EXPECT_EQ(to_text(late), "app  scope  cancelling  2.5 s  1 child\n"
                           "  mule  task  killing  2.5 s  overdue 1.5 s\n");
  auto json = nlohmann::json::parse(to_json(late));
  EXPECT_EQ(json["children"][0]["overdue_ms"], 1500);
  run();
}

TEST_F(TreeTest, WatchdogNamesAForcedChildStillRunningEachInterval) {
  // (scaf.watchdog-interval is 5 s unless set.)
  std::optional<log_capture> lines{std::in_place, spdlog::level::warn};
  auto ref = open([&](scope& s) { s.spawn({.name = "mule"}, stubborn); });
  caf::anon_send(app, cancel_atom::value, "stop");
  run();
  sched.advance_time(1s); // the grace period ends: app forces mule
  sched.prioritize(app);
  sched.run_once(); // the kill waits in mule's mailbox: mule is stuck
  for (int i = 0; i < 2; ++i) {
    sched.advance_time(5s);
    sched.prioritize(app);
    sched.run_once();
  }
  auto text = lines->text();
  lines.reset();
  auto first = text.find("app/mule: still running 5000 ms after it "
                         "overstayed the grace period (being stopped: a kill "
                         "lands only once the handler it runs returns)");
  EXPECT_NE(first, std::string::npos) << text;
  EXPECT_NE(text.find("app/mule: still running 10000 ms after it", first),
            std::string::npos)
    << text;
  run();
}

TEST_F(TreeTest, TreeByMessageForCafActors) {
  open([&](scope& s) { s.spawn({.name = "a"}, idle); });
  std::optional<std::string> seen;
  sys.spawn([&](caf::event_based_actor* self) {
    self->request(app, caf::infinite, tree_atom::value).then([&](tree_node& x) {
      seen = to_text(x);
    });
  });
  run();
  EXPECT_EQ(seen, "app  scope  open  0 ms  1 child\n"
                  "  a  task  running  0 ms\n");
}

TEST_F(TreeTest, ScopeOpenedByATaskSitsUnderThatTask) {
  auto ref = open([&](scope& s) {
    s.spawn({.name = "owner"}, [](task_actor* self) -> caf::behavior {
      self->open_scope({.name = "sub"},
                       [](scope& in) { in.spawn({.name = "leaf"}, idle); });
      return {[](finish_atom) {}};
    });
  });
  auto tree = tree_of(ref);
  EXPECT_EQ(shape(tree), (std::vector<std::string>{
                           "app:scope:running",
                           " owner:task:running",
                           "  sub:scope:waiting",
                           "   leaf:task:running",
                         }));
  EXPECT_EQ(tree.children[0].children[0].path, "app/owner/sub");
}

TEST_F(TreeTest, ScopeThatIsGoneRefusesWithScopeClosed) {
  auto ref = open([](scope&) {});
  caf::anon_send_exit(app, caf::exit_reason::user_shutdown);
  run();
  auto h = ref.tree();
  run();
  ASSERT_TRUE(h.ready());
  ASSERT_FALSE(h.get());
  EXPECT_TRUE(is(h.get().error(), errc::scope_closed))
    << render(h.get().error());
}

// -- the trace file (scaf.trace-file)

namespace {

/// A known run, traced on the deterministic scheduler: "app" with a task
/// that finishes, a nested scope whose task is cancelled, and a stubborn
/// task killed at the end of the grace period. Returns the trace.
nlohmann::json traced_run(const std::string& file) {
  struct config : caf::actor_system_config {
    explicit config(const std::string& trace) {
      init(*this);
      set("scheduler.policy", caf::atom("testing"));
      set("logger.console", caf::atom("none"));
      set("scaf.trace-file", trace);
    }
  };
  {
    config cfg{file};
    caf::actor_system sys{cfg};
    auto& sched =
      dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
    caf::actor quick;
    auto app = spawn_scope(sys, {.name = "app", .grace = 1s}, [&](scope& s) {
      quick = *s.spawn({.name = "quick"}, finisher);
      s.spawn_scope({.name = "inner"},
                    [](scope& in) { in.spawn({.name = "x"}, idle); });
      s.spawn({.name = "mule"}, stubborn);
    });
    sched.run();
    sched.advance_time(100ms);
    caf::anon_send(quick, finish_atom::value);
    sched.run();
    sched.advance_time(100ms);
    caf::anon_send(app, cancel_atom::value, "stop");
    sched.run();
    sched.advance_time(1s); // mule overstays: killed
    sched.run();
  } // the system is gone: the file is closed
  std::ifstream in{file};
  return nlohmann::json::parse(in);
}

} // namespace

TEST(TraceTest, TraceOfAKnownRunHasNestedSpansAndCancelsBeforeTheirDone) {
  auto file = (std::filesystem::temp_directory_path() /
               ("scaf_trace_" + std::to_string(::getpid()) + ".json"))
                .string();
  auto trace = traced_run(file);
  std::filesystem::remove(file);
  ASSERT_TRUE(trace.is_array());
  struct span {
    long long begin;
    long long end;
    std::string outcome;
  };
  std::map<std::string, span> spans;
  std::map<std::string, std::vector<std::string>> instants;
  std::map<std::string, long long> cancel_at;
  std::map<long long, std::string> track;
  for (auto& e : trace)
    if (e["ph"] == "M" && e["name"] == "thread_name")
      track[e["tid"].get<long long>()] = e["args"]["name"];
  for (auto& e : trace) {
    if (e["ph"] == "X") {
      std::string path = e["args"]["path"];
      EXPECT_EQ(track[e["tid"].get<long long>()], path);
      auto begin = e["ts"].get<long long>();
      EXPECT_EQ(spans.count(path), 0u) << "two spans for " << path;
      spans[path] = {begin, begin + e["dur"].get<long long>(),
                     e["args"]["outcome"]};
    } else if (e["ph"] == "i") {
      std::string path = e["args"]["path"];
      instants[path].push_back(e["name"]);
      if (e["name"] == "cancel")
        cancel_at[path] = e["ts"];
    }
  }
  std::vector<std::string> paths;
  for (auto& [path, x] : spans)
    paths.push_back(path + ":" + x.outcome);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"app:cancelled", "app/inner:cancelled",
                                      "app/inner/x:cancelled",
                                      "app/mule:killed", "app/quick:done"}));
  // Every child's span sits inside its parent's.
  for (auto& [path, x] : spans) {
    EXPECT_LE(x.begin, x.end) << path;
    auto slash = path.rfind('/');
    if (slash == std::string::npos)
      continue;
    auto& parent = spans.at(path.substr(0, slash));
    EXPECT_LE(parent.begin, x.begin) << path;
    EXPECT_LE(x.end, parent.end) << path;
  }
  EXPECT_EQ(spans.at("app/quick").end - spans.at("app/quick").begin, 100'000);
  // Every cancel comes before the matching done.
  for (auto& [path, at] : cancel_at)
    EXPECT_LE(at, spans.at(path).end) << path;
  // The root's own cancel, then the lifecycle state it moved to.
  EXPECT_EQ(instants["app"],
            (std::vector<std::string>{"cancel", "cancelling"}));
  EXPECT_EQ(instants["app/mule"], (std::vector<std::string>{"cancel", "kill"}));
  EXPECT_EQ(instants["app/inner/x"], std::vector<std::string>{"cancel"});
  EXPECT_EQ(spans.at("app/mule").end - cancel_at.at("app/mule"), 1'000'000);
}

// -- real scheduler
// -------------------------------------------------------------

namespace {

using ThreadedTreeTest = leak_checked_threaded_test;

caf::behavior waiter(task_actor*) {
  return {[](finish_atom) {}};
}

/// Counts the nodes of `x` and checks that every scope lists as many
/// children as it says it has (a scope's answer is one snapshot).
size_t count_consistent(const tree_node& x, std::vector<std::string>& errors) {
  size_t n = 1;
  if (x.kind == "scope" && !x.unanswered) {
    // Its children, and the scopes its tasks opened (listed under them).
    auto listed = x.children.size();
    for (auto& c : x.children)
      if (c.kind != "scope")
        listed += c.children.size();
    if (listed != x.live_children)
      errors.push_back(x.path + " lists " + std::to_string(listed) +
                       " children but counts " +
                       std::to_string(x.live_children));
  }
  for (auto& c : x.children)
    n += count_consistent(c, errors);
  return n;
}

} // namespace

TEST_F(ThreadedTreeTest, TopLevelTreesListEveryRootStillRunning) {
  auto one = make_scope(sys, {.name = "one"});
  auto two = make_scope(sys, {.name = "two"});
  two.ref().spawn({.name = "t"}, waiter);
  // A nested scope is no root.
  ASSERT_TRUE(two.ref()
                .call([](scope& s) {
                  s.spawn_scope({.name = "nested"},
                                [](scope& in) { in.spawn(waiter); });
                })
                .wait_for(30s));
  // (A scope counts once it has started: a call runs after that.)
  ASSERT_TRUE(one.ref().call([](scope&) {}).wait_for(30s));
  ASSERT_TRUE(two.ref().call([](scope&) {}).wait_for(30s));
  auto trees = top_level_trees(sys);
  ASSERT_EQ(trees.size(), 2u);
  EXPECT_EQ(trees[0].path, "one");
  EXPECT_EQ(trees[1].path, "two");
  one.ref().cancel("done");
  ASSERT_TRUE(one.join().wait());
  ASSERT_TRUE(one.ref().done().wait_for(30s));
  trees = top_level_trees(sys);
  ASSERT_EQ(trees.size(), 1u);
  EXPECT_EQ(trees[0].path, "two");
}

TEST_F(ThreadedTreeTest, SignalPrintsTheLiveTreeOfEveryRoot) {
  auto svc = make_scope(sys, {.name = "svc"});
  svc.ref().spawn({.name = "worker"}, waiter);
  // (A scope counts once it has started: a call runs after that.)
  ASSERT_TRUE(svc.ref().call([](scope&) {}).wait_for(30s));
  auto out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  std::string text;
  {
    tree_dump_on_signal dump{sys, SIGUSR1, out};
    EXPECT_THROW(tree_dump_on_signal(sys, SIGUSR2), std::logic_error);
    std::raise(SIGUSR1);
    // Bounded: the printer thread answers within moments.
    for (int i = 0; i < 1000 && text.find("worker") == std::string::npos; ++i) {
      std::this_thread::sleep_for(10ms);
      std::fflush(out);
      std::rewind(out);
      char buf[4096];
      auto n = std::fread(buf, 1, sizeof(buf), out);
      text.assign(buf, n);
    }
  }
  std::fclose(out);
  EXPECT_NE(text.find("scaf: live tree of 1 top-level scope(s)\nsvc  scope  "
                      "open"),
            std::string::npos)
    << text;
  EXPECT_NE(text.find("  worker  task  running"), std::string::npos) << text;
}

TEST_F(ThreadedTreeTest, TreeAskedDuringATenThousandNodeCancelIsConsistent) {
  auto owner = make_scope(sys, {.name = "big"});
  // 100 scopes of 99 tasks: 10,000 nodes.
  auto spawned = owner.ref().call([](scope& s) {
    for (int i = 0; i < 100; ++i)
      s.spawn_scope({}, [](scope& in) {
        for (int j = 0; j < 99; ++j)
          in.spawn(waiter);
      });
  });
  ASSERT_TRUE(spawned.wait_for(30s));
  // Every snapshot is consistent, scope by scope, while the nested scopes
  // are still spawning their tasks; the last one has them all.
  std::vector<std::string> errors;
  size_t nodes = 0;
  auto give_up = std::chrono::steady_clock::now() + 60s;
  while (nodes != 10'001 && std::chrono::steady_clock::now() < give_up) {
    auto full = owner.ref().tree().wait_for(30s);
    ASSERT_TRUE(full && *full);
    nodes = count_consistent(**full, errors);
    if (nodes != 10'001)
      std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(nodes, 10'001u); // and the owner's scope
  owner.ref().cancel("stop");
  auto during = owner.ref().tree().wait_for(30s);
  ASSERT_TRUE(during);
  if (*during) {
    EXPECT_EQ((*during)->state, node_state::cancelling);
    count_consistent(**during, errors);
  } else {
    // Done before it could answer: refused, not hung.
    EXPECT_TRUE(is(during->error(), errc::scope_closed));
  }
  EXPECT_EQ(errors, std::vector<std::string>{});
  EXPECT_TRUE(owner.join().wait());
}
