// Tests of scaf/scope_state.hpp: the lifecycle's table, then a scope walking
// through its states on CAF's deterministic scheduler, each state named the
// same way by the scope, its references, the live tree and the log.
#include "scaf/scope_state.hpp"

#include <array>
#include <string>
#include <vector>

#include "../common/fixture.hpp"
#include "../common/tasks.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

namespace {

constexpr std::array<scope_state, 7> all_states = {
  scope_state::open,       scope_state::joined,   scope_state::closed,
  scope_state::cancelling, scope_state::draining, scope_state::aborting,
  scope_state::finished};

constexpr std::array<scope_input, 6> all_inputs = {
  scope_input::join,  scope_input::close,     scope_input::cancel,
  scope_input::abort, scope_input::main_done, scope_input::idle};

using s = scope_state;
using in = scope_input;

} // namespace

TEST(ScopeStateTable, CancelCloseAndJoinCombineAsTheModelSays) {
  EXPECT_EQ(next(s::open, in::join), s::joined);
  EXPECT_EQ(next(s::open, in::close), s::closed);
  EXPECT_EQ(next(s::joined, in::close), s::closed);
  EXPECT_EQ(next(s::open, in::cancel), s::cancelling);
  EXPECT_EQ(next(s::joined, in::cancel), s::cancelling);
  EXPECT_EQ(next(s::closed, in::cancel), s::draining);
  EXPECT_EQ(next(s::cancelling, in::close), s::draining);
  // Main work done: a joined scope cancels its background children.
  EXPECT_EQ(next(s::joined, in::main_done), s::cancelling);
  EXPECT_EQ(next(s::closed, in::main_done), s::draining);
  EXPECT_EQ(next(s::open, in::main_done), s::open);
}

TEST(ScopeStateTable,
     EveryStateButFinishedCanBeAbortedAndOnlyOpenOutlivesIdle) {
  for (auto x : all_states) {
    SCOPED_TRACE(to_string(x));
    if (x == s::finished) {
      for (auto y : all_inputs)
        EXPECT_EQ(next(x, y), s::finished) << to_string(y);
      continue;
    }
    EXPECT_EQ(next(x, in::abort), s::aborting);
    // A service scope (open) with nothing left waits to be joined.
    EXPECT_EQ(next(x, in::idle), x == s::open ? s::open : s::finished);
  }
}

TEST(ScopeStateTable, NothingUndoesACancelOrAClose) {
  for (auto x : all_states)
    for (auto y : all_inputs) {
      auto z = next(x, y);
      if (is_cancelled(x) && z != s::finished) {
        EXPECT_TRUE(is_cancelled(z)) << to_string(x) << " " << to_string(y);
      }
      if (!accepts_children(x)) {
        EXPECT_FALSE(accepts_children(z))
          << to_string(x) << " " << to_string(y);
      }
    }
}

TEST(ScopeStateTable, OnlyOpenJoinedAndCancellingAcceptChildren) {
  std::vector<std::string> accepting;
  for (auto x : all_states)
    if (accepts_children(x))
      accepting.emplace_back(to_string(x));
  EXPECT_EQ(accepting,
            (std::vector<std::string>{"open", "joined", "cancelling"}));
}

namespace {

class ScopeStateTest : public leak_checked_deterministic_test {
protected:
  /// The scope's own state, as its tree says it.
  scope_state tree_state(const scope_ref& ref) {
    auto h = ref.tree();
    run();
    EXPECT_TRUE(h.ready() && h.get());
    if (!h.ready() || !h.get() || !h.get()->scope_state)
      return scope_state::finished;
    return *h.get()->scope_state;
  }
};

} // namespace

TEST_F(ScopeStateTest, AScopeWalksThroughItsStatesAndEveryoneNamesThemAlike) {
  log_capture lines{spdlog::level::debug};
  auto owner = make_scope(sys, {.name = "svc", .grace = 1s});
  auto ref = owner.ref();
  auto a = ref.spawn(worker, &log, std::string{"a"});
  auto b = ref.spawn({.background = true}, worker, &log, std::string{"b"});
  run();
  EXPECT_EQ(ref.state(), scope_state::open);
  EXPECT_EQ(tree_state(ref), scope_state::open);
  ref.close();
  run();
  EXPECT_EQ(ref.state(), scope_state::closed);
  EXPECT_EQ(tree_state(ref), scope_state::closed);
  // Closed: no new child. Its main work done, the background child is
  // cancelled: draining.
  auto refused = ref.spawn_fn([] { return 1; });
  caf::anon_send(a.task(), finish_atom::value);
  run();
  EXPECT_TRUE(is(refused.get().error(), errc::scope_closed));
  ASSERT_TRUE(owner.done().ready());
  EXPECT_EQ(ref.state(), scope_state::finished);
  EXPECT_EQ(log.count_prefix("cancel:b:"), 1u);
  auto text = lines.text();
  auto at = [&](const std::string& what) { return text.find(what); };
  EXPECT_NE(at("svc: open -> closed (close)"), std::string::npos) << text;
  EXPECT_NE(at("svc: closed -> draining (main_done)"), std::string::npos)
    << text;
  EXPECT_NE(at("svc: draining -> finished (idle)"), std::string::npos) << text;
  EXPECT_LT(at("open -> closed"), at("closed -> draining"));
  EXPECT_LT(at("closed -> draining"), at("draining -> finished"));
  EXPECT_EQ(owner.done().get()->status, scope_status::succeeded);
}

TEST_F(ScopeStateTest, AnAbortOverridesEveryOtherStateAndLetsTheOwnerGo) {
  auto parent = cancelled_scope("p", 1s);
  // Opened into a cancelled scope: cancelling, and held for its owner.
  auto child = parent.ref().open_child({.name = "c"});
  run();
  EXPECT_EQ(child.ref().state(), scope_state::cancelling);
  EXPECT_FALSE(child.done().ready());
  child.ref().close();
  run();
  EXPECT_EQ(child.ref().state(), scope_state::finished); // close let go
  auto other = parent.ref().open_child({.name = "d"});
  run();
  EXPECT_EQ(other.ref().state(), scope_state::cancelling);
  other.ref().abort();
  run();
  EXPECT_TRUE(other.done().ready());
  EXPECT_FALSE(parent.done().ready()); // the mule overstays its grace
  advance(1s);
  ASSERT_TRUE(parent.done().ready());
  EXPECT_EQ(parent.done().get()->status, scope_status::cancelled);
  EXPECT_EQ(parent.done().get()->killed, std::vector<std::string>{"p/0"});
}
