// Tests of scaf/promise.hpp: the producing side of a handle.
#include "scaf/promise.hpp"

#include <optional>
#include <string>
#include <thread>

#include "../common/fixture.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

TEST(PromiseTest, FirstResolveWinsAndEveryCopyResolvesTheSameHandle) {
  promise<int> p;
  auto copy = p;
  auto h = p.get_handle();
  EXPECT_FALSE(h.ready());
  EXPECT_TRUE(copy.resolve(7));
  EXPECT_FALSE(p.resolve(8));
  EXPECT_FALSE(p.resolve(make_error(errc::timeout)));
  EXPECT_EQ(h.get(), caf::expected<int>{7});
}

TEST(PromiseTest, DroppedPromiseResolvesItsHandleSoNoWaiterHangs) {
  handle<std::string> h;
  {
    promise<std::string> p;
    h = p.get_handle();
    auto copy = p; // the last copy going resolves it
  }
  ASSERT_TRUE(h.ready());
  EXPECT_TRUE(is(h.get().error(), errc::cancelled)) << render(h.get().error());
}

TEST(PromiseTest, ThreadWaitsForAResolveFromAnotherThread) {
  promise<void> p;
  std::thread t{[p] {
    std::this_thread::sleep_for(10ms);
    p.resolve(caf::unit);
  }};
  auto x = p.get_handle().wait();
  t.join();
  EXPECT_TRUE(x);
}
