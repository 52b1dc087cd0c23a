// Tests of src/child_registry.hpp: a scope's children by id, walked in spawn
// order, taken out in any order.
#include "child_registry.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kinds.hpp"

using namespace scaf::detail;

namespace {

std::vector<caf::actor_id> order(const child_registry& xs) {
  std::vector<caf::actor_id> out;
  for (auto c = xs.first(); c != nullptr; c = c->next)
    out.push_back(c->id);
  return out;
}

} // namespace

TEST(ChildRegistry, WalksInSpawnOrderWhateverIsTakenOut) {
  child_registry xs;
  for (caf::actor_id id : {5, 3, 9, 1})
    xs.add(id, behavior_task_kind());
  EXPECT_EQ(order(xs), (std::vector<caf::actor_id>{5, 3, 9, 1}));
  auto middle = xs.take(*xs.find(9));
  EXPECT_EQ(middle.mapped().id, 9u); // still valid once taken
  EXPECT_EQ(order(xs), (std::vector<caf::actor_id>{5, 3, 1}));
  xs.take(*xs.find(5));
  xs.take(*xs.find(1));
  EXPECT_EQ(order(xs), (std::vector<caf::actor_id>{3}));
  EXPECT_EQ(xs.size(), 1u);
  xs.take(*xs.find(3));
  EXPECT_EQ(xs.first(), nullptr);
}

TEST(ChildRegistry, FindsByIdAndMovesAChildToTheBack) {
  child_registry xs;
  auto& a = xs.add(1, behavior_task_kind());
  xs.add(2, function_job_kind());
  xs.add(3, child_scope_kind());
  EXPECT_EQ(xs.find(2)->kind, &function_job_kind());
  EXPECT_EQ(xs.find(4), nullptr);
  xs.move_to_back(a);
  EXPECT_EQ(order(xs), (std::vector<caf::actor_id>{2, 3, 1}));
  EXPECT_EQ(xs.find(1), &a); // records stay where they are
}

TEST(ChildRecord, PhasesOnlyMoveForward) {
  child_record c;
  EXPECT_FALSE(c.cancelled());
  c.phase = child_phase::cancelled;
  EXPECT_TRUE(c.cancelled());
  EXPECT_FALSE(c.forced());
  c.phase = child_phase::forced;
  EXPECT_TRUE(c.cancelled() && c.forced() && !c.straggler());
  c.phase = child_phase::straggler;
  EXPECT_TRUE(c.cancelled() && c.forced() && c.straggler());
}

TEST(ChildRecord, TheTreeCallsAChildByItsKindUnlessItHasALabel) {
  child_record c;
  c.kind = &blocking_task_kind();
  EXPECT_STREQ(c.kind_name(), "blocking");
  c.ext().label = "remote";
  EXPECT_STREQ(c.kind_name(), "remote");
  EXPECT_STREQ(function_job_kind().name(), "function");
  EXPECT_STREQ(function_thread_kind().name(), "function");
  EXPECT_STREQ(child_scope_kind().name(), "scope");
  EXPECT_STREQ(owned_scope_kind().name(), "scope");
  EXPECT_STREQ(behavior_task_kind().name(), "task");
  EXPECT_EQ(&kind_of(actor_kind::behavior), &behavior_task_kind());
  EXPECT_EQ(&kind_of(actor_kind::function), &function_thread_kind());
  EXPECT_EQ(&kind_of(actor_kind::blocking), &blocking_task_kind());
  EXPECT_EQ(&kind_of(actor_kind::scope), &child_scope_kind());
}
