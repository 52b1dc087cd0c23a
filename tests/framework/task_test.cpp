// The faces of a task in scaf/task.hpp: state built in place, class-based and
// typed tasks, and a task's own CAF handlers beside scaf's. On CAF's
// deterministic scheduler.
#include "scaf/task.hpp"

#include <memory>
#include <mutex>
#include <string>

#include "../common/fixture.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

namespace {

using add_atom = caf::atom_constant<caf::atom("add")>;
using poke_atom = caf::atom_constant<caf::atom("poke")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using calculator =
  caf::typed_actor<caf::replies_to<add_atom, int, int>::with<int>>;

class TaskTest : public leak_checked_deterministic_test {
protected:
  /// Opens a top-level scope that runs `body` and then joins; its report
  /// goes to `report`.
  template <class F>
  caf::actor open(F body) {
    return spawn_scope(
      sys, {.name = "root", .grace = 1s},
      [body = std::move(body)](scope& s) mutable {
        body(s);
        s.join();
      },
      report);
  }

  std::shared_ptr<scope_report> report = std::make_shared<scope_report>();
};

// -- state built in place -----------------------------------------------------

/// How often a `pinned_state` was built and destroyed (the deterministic
/// scheduler runs every actor on the test's thread).
struct pinned_counts {
  static inline int made = 0;
  static inline int destroyed = 0;
  static inline event_log* log = nullptr;
};

/// A state that can be neither copied nor moved, and owns a resource.
struct pinned_state {
  explicit pinned_state(stateful_task<pinned_state>* self)
    : path_at_birth(self->path()), resource(std::make_unique<int>(42)) {
    ++pinned_counts::made;
  }

  pinned_state(const pinned_state&) = delete;
  pinned_state& operator=(const pinned_state&) = delete;

  ~pinned_state() {
    ++pinned_counts::destroyed;
    pinned_counts::log->add("state destroyed");
  }

  std::string path_at_birth;
  std::mutex mtx;
  std::unique_ptr<int> resource;
};

} // namespace

TEST_F(TaskTest, StateIsBuiltOnceInPlaceAndNeedNotMove) {
  pinned_counts::made = pinned_counts::destroyed = 0;
  pinned_counts::log = &log;
  int seen = 0;
  caf::actor task;
  auto root = open([&](scope& s) {
    task = *s.spawn([&](stateful_task<pinned_state>* self) -> caf::behavior {
      std::lock_guard<std::mutex> guard{self->state.mtx};
      seen = *self->state.resource;
      return {[self](stop_atom) { self->quit(); }};
    });
  });
  run();
  auto obs = observe({{task, "task"}});
  run();
  caf::anon_send(task, stop_atom::value);
  run();
  EXPECT_EQ(seen, 42);
  EXPECT_EQ(pinned_counts::made, 1);
  EXPECT_EQ(pinned_counts::destroyed, 1);
  // Destroyed before anyone hears the task is done.
  EXPECT_LT(log.index_of("state destroyed"), log.index_of("down:task"));
  EXPECT_FALSE(report->reason()) << render(report->reason());
}

// -- class-based tasks --------------------------------------------------------

namespace {

/// A CAF class-based actor ported to scaf: its base class is `task_base`.
class counter : public task_base {
public:
  counter(caf::actor_config& cfg, event_log* log, int start)
    : task_base(cfg), log_(log), value_(start) {
    // nop
  }

protected:
  caf::behavior make_behavior() override {
    log_->add("started at " + path());
    on_cancel([this](const caf::error& reason) {
      log_->add("cancelled: " + render(reason));
      quit(reason);
    });
    return {
      [this](add_atom, int x) {
        value_ += x;
        return value_;
      },
      [this](poke_atom) {
        quit(make_error(errc::invalid_argument, path(), "poked"));
      },
    };
  }

private:
  event_log* log_;
  int value_;
};

/// A class-based task that ignores its cancel.
class stubborn_counter : public task_base {
public:
  explicit stubborn_counter(caf::actor_config& cfg) : task_base(cfg) {
    // nop
  }

protected:
  caf::behavior make_behavior() override {
    on_cancel([](const caf::error&) {});
    return {[](poke_atom) {}};
  }
};

} // namespace

TEST_F(TaskTest, ClassBasedTaskIsCancelledWithItsReason) {
  caf::actor task;
  auto root = open([&](scope& s) { task = *s.spawn<counter>(&log, 10); });
  run();
  EXPECT_EQ(log.index_of("started at root/0"), 0);
  auto obs = observe({{task, "task"}, {root, "root"}});
  run();
  caf::anon_send(root, cancel_atom::value, "enough");
  run();
  EXPECT_EQ(log.count("cancelled: scaf::cancelled(root: enough)"), 1u);
  EXPECT_LT(log.index_of("down:task"), log.index_of("down:root"));
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: enough)");
}

TEST_F(TaskTest, ClassBasedTaskFailureIsTheScopesFailure) {
  caf::actor task;
  auto root = open([&](scope& s) {
    task =
      *s.spawn(spawn_options{.name = "counter"}, task_class<counter>, &log, 1);
  });
  run();
  caf::anon_send(task, poke_atom::value);
  run();
  EXPECT_EQ(render(report->reason()),
            "scaf::invalid_argument(root/counter: poked)");
  EXPECT_EQ(report->status, scope_status::failed);
}

TEST_F(TaskTest, ClassBasedTaskOverstayingItsGraceIsKilledAndNamed) {
  caf::actor task;
  auto root = open([&](scope& s) { task = *s.spawn<stubborn_counter>(); });
  run();
  caf::anon_send(root, cancel_atom::value, "enough");
  run();
  EXPECT_TRUE(report->killed.empty());
  advance(1s);
  ASSERT_EQ(report->killed.size(), 1u);
  EXPECT_EQ(report->killed.front(), "root/0");
}

TEST_F(TaskTest, ClassBasedTaskShowsInTheTree) {
  std::optional<scope_ref> ref;
  auto root = open([&](scope& s) {
    ref = s.ref();
    s.spawn(spawn_options{.name = "counter"}, task_class<counter>, &log, 0);
  });
  run();
  auto tree = ref->tree();
  run();
  ASSERT_TRUE(tree.ready());
  auto snapshot = tree.get();
  ASSERT_TRUE(snapshot);
  ASSERT_EQ(snapshot->children.size(), 1u);
  EXPECT_EQ(snapshot->children[0].path, "root/counter");
  EXPECT_EQ(snapshot->children[0].kind, "task");
  ref->cancel("done");
  run();
}

namespace {

/// A class-based task that installs its handlers in its constructor, as CAF
/// actors often do: before scaf's bookkeeping exists.
class picky : public task_base {
public:
  picky(caf::actor_config& cfg, event_log* log) : task_base(cfg), log_(log) {
    set_default_handler([log](caf::scheduled_actor*, caf::message_view& x) {
      log->add("stray " + to_string(x.content()));
      return caf::result<caf::message>{caf::message{}};
    });
  }

protected:
  caf::behavior make_behavior() override {
    return {[this](poke_atom) {
      yield([this] {
        log_->add("continued");
        quit();
      });
    }};
  }

private:
  event_log* log_;
};

} // namespace

TEST_F(TaskTest, ClassBasedTaskInstallsItsHandlersInItsConstructor) {
  caf::actor task;
  auto root = open([&](scope& s) { task = *s.spawn<picky>(&log); });
  run();
  caf::anon_send(task, std::string{"hello"});
  caf::anon_send(task, poke_atom::value);
  run();
  EXPECT_EQ(log.count("stray (\"hello\")"), 1u);
  EXPECT_EQ(log.count("continued"), 1u);
  EXPECT_EQ(report->status, scope_status::succeeded);
}

// -- typed tasks --------------------------------------------------------------

namespace {

calculator::behavior_type typed_calculator(task_actor* self) {
  return {
    [self](add_atom, int x, int y) -> int {
      if (x < 0)
        self->quit(
          make_error(errc::invalid_argument, self->path(), "negative"));
      return x + y;
    },
  };
}

} // namespace

TEST_F(TaskTest, TypedTaskGivesItsTypedHandleAndAnswersTypedRequests) {
  calculator calc;
  auto root = open([&](scope& s) {
    caf::expected<calculator> spawned = s.spawn(typed_calculator);
    ASSERT_TRUE(spawned);
    calc = *spawned;
  });
  run();
  ASSERT_TRUE(calc);
  auto client = sys.spawn([&](caf::event_based_actor* self) {
    self->request(calc, caf::infinite, add_atom::value, 2, 3)
      .then([&](int sum) { log.add("sum " + std::to_string(sum)); });
  });
  run();
  EXPECT_EQ(log.count("sum 5"), 1u);
  caf::anon_send(calc, add_atom::value, -1, 0);
  run();
  EXPECT_EQ(render(report->reason()),
            "scaf::invalid_argument(root/0: negative)");
}

// -- the task's own CAF handlers ----------------------------------------------

TEST_F(TaskTest, OwnDefaultHandlerSeesStrayMessagesButNotContinuations) {
  caf::actor task;
  auto root = open([&](scope& s) {
    task = *s.spawn([&](task_actor* self) -> caf::behavior {
      self->set_default_handler(
        [&](caf::scheduled_actor*, caf::message_view& x) {
          log.add("stray " + to_string(x.content()));
          return caf::result<caf::message>{caf::message{}};
        });
      return {[&, self](poke_atom) {
        // A continuation: arrives as a message no behavior matches.
        self->yield([&, self] {
          log.add("continued");
          self->quit();
        });
      }};
    });
  });
  run();
  caf::anon_send(task, std::string{"hello"});
  caf::anon_send(task, poke_atom::value);
  run();
  EXPECT_EQ(log.count("stray (\"hello\")"), 1u) << log.events().front();
  EXPECT_EQ(log.count("continued"), 1u);
  EXPECT_EQ(log.count_prefix("stray "), 1u);
  EXPECT_EQ(report->status, scope_status::succeeded);
}

namespace {

/// A plain CAF actor that quits with `app error` when poked.
caf::behavior linked_peer(caf::event_based_actor* self) {
  return {[self](poke_atom) {
    self->quit(make_error(errc::invalid_argument, "peer", "gone"));
  }};
}

} // namespace

TEST_F(TaskTest, OwnExitHandlerHearsLinksWhileTheCancelStaysScafs) {
  auto peer = sys.spawn(linked_peer);
  auto root = open([&](scope& s) {
    s.spawn([&](task_actor* self) -> caf::behavior {
      self->link_to(peer);
      self->set_exit_handler(
        [&](caf::exit_msg& msg) { log.add("exit " + render(msg.reason)); });
      self->on_cancel([&, self](const caf::error& reason) {
        log.add("cancel " + render(reason));
        self->quit(reason);
      });
      return {[](poke_atom) {}};
    });
  });
  run();
  caf::anon_send(peer, poke_atom::value);
  run();
  EXPECT_EQ(log.count("exit scaf::invalid_argument(peer: gone)"), 1u);
  EXPECT_EQ(log.count_prefix("cancel "), 0u);
  EXPECT_EQ(report->status, scope_status::succeeded) << "still running";
  caf::anon_send(root, cancel_atom::value, "enough");
  run();
  EXPECT_EQ(log.count("cancel scaf::cancelled(root: enough)"), 1u);
  EXPECT_EQ(log.count_prefix("exit "), 1u);
  EXPECT_EQ(render(report->reason()), "scaf::cancelled(root: enough)");
}

TEST_F(TaskTest, OwnExceptionHandlerDecidesTheTasksError) {
  caf::actor task;
  auto root = open([&](scope& s) {
    task = *s.spawn([](task_actor* self) -> caf::behavior {
      self->set_exception_handler([](std::exception_ptr& eptr) -> caf::error {
        try {
          std::rethrow_exception(eptr);
        } catch (const std::exception& e) {
          return make_error(errc::invalid_argument, "handler", e.what());
        }
      });
      return {[](poke_atom) { throw std::runtime_error("bad poke"); }};
    });
  });
  run();
  caf::anon_send(task, poke_atom::value);
  run();
  EXPECT_EQ(render(report->reason()),
            "scaf::invalid_argument(handler: bad poke)");
}

TEST_F(TaskTest, OwnDownHandlerHearsItsMonitorsAndNestedScopesStayScafs) {
  auto peer = sys.spawn(linked_peer);
  caf::actor task;
  auto root = open([&](scope& s) {
    task = *s.spawn([&](task_actor* self) -> caf::behavior {
      self->monitor(peer);
      self->set_down_handler(
        [&](caf::down_msg& msg) { log.add("down " + render(msg.reason)); });
      // A nested scope's down is scaf's: it reaches on_done, not the handler.
      self->open_scope(
        {.name = "inner"}, [](scope&) {},
        [&](const caf::expected<void>& x) {
          log.add(x ? "inner done" : "inner failed");
        });
      return {[self](stop_atom) { self->quit(); }};
    });
  });
  run();
  caf::anon_send(peer, poke_atom::value);
  run();
  EXPECT_EQ(log.count("inner done"), 1u);
  EXPECT_EQ(log.count("down scaf::invalid_argument(peer: gone)"), 1u);
  EXPECT_EQ(log.count_prefix("down "), 1u);
  caf::anon_send(task, stop_atom::value);
  run();
  EXPECT_EQ(report->status, scope_status::succeeded);
}
