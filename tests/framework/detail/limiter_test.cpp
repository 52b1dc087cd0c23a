// Tests of src/limiter.hpp: at most `limit` tasks at once, the others wait
// in spawn order.
#include "limiter.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace scaf::detail;

namespace {

queued_task task(caf::actor_id key, std::vector<caf::actor_id>* started) {
  return {false, key, [key, started] { started->push_back(key); },
          [](const caf::error&) {}};
}

} // namespace

TEST(Limiter, NoLimitNeverQueues) {
  limiter x;
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(x.full());
    x.acquire();
  }
  EXPECT_EQ(x.counts().running, 100u);
}

TEST(Limiter, TasksWaitInSpawnOrderForAFreeSlot) {
  limiter x;
  x.set_limit(2);
  std::vector<caf::actor_id> started;
  x.acquire();
  x.acquire();
  EXPECT_TRUE(x.full());
  x.push(task(1, &started));
  x.push(task(2, &started));
  x.push(task(3, &started));
  EXPECT_FALSE(x.ready());
  EXPECT_EQ(x.queued(), 3u);
  x.release();
  ASSERT_TRUE(x.ready());
  x.pop().start();
  x.acquire();
  EXPECT_FALSE(x.ready());
  x.release();
  x.release();
  while (x.ready()) {
    x.pop().start();
    x.acquire();
  }
  EXPECT_EQ(started, (std::vector<caf::actor_id>{1, 2, 3}));
  EXPECT_EQ(x.counts().running, 2u);
}

TEST(Limiter, ATaskLeavesTheQueueByItsKeyAndRefusalsAreCounted) {
  limiter x;
  x.set_limit(1);
  x.acquire();
  std::vector<caf::actor_id> started;
  x.push(task(7, &started));
  x.push(task(8, &started));
  auto taken = x.take(7);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->key, 7u);
  EXPECT_FALSE(x.take(7));
  x.count_rejected();
  auto counts = x.counts();
  EXPECT_EQ(counts.queued, 1u);
  EXPECT_EQ(counts.running, 1u);
  EXPECT_EQ(counts.rejected, 1u);
  EXPECT_EQ(x.take_all().size(), 1u);
  EXPECT_EQ(x.queued(), 0u);
}
