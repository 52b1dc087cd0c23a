// cancel_on_signal (scaf/signals.hpp) on the real scheduler, with real
// signals (SIGUSR2: scaf's tree dump owns SIGUSR1).
#include "scaf/signals.hpp"

#include <csignal>

#include "../common/fixture.hpp"

using namespace scaf;
using namespace scaf::test;
using namespace std::chrono_literals;

namespace {

using never_atom = caf::atom_constant<caf::atom("never")>;

class SignalsTest : public leak_checked_threaded_test {};

/// A task that ignores its cancel: only an abort ends it.
caf::behavior deaf(task_actor* self) {
  self->on_cancel([](const caf::error&) {});
  return {[](never_atom) {}};
}

/// Waits until `watch` has seen `n` signals.
bool seen(const signal_watch& watch, int n) {
  for (int i = 0; i < 30000 && watch.received() < n; ++i)
    std::this_thread::sleep_for(1ms);
  return watch.received() >= n;
}

} // namespace

TEST_F(SignalsTest, FirstSignalCancelsWithItsNameSecondAborts) {
  auto app = make_scope(sys, {.name = "app", .grace = 1h});
  app.ref().spawn(spawn_options{.name = "deaf"}, deaf);
  auto watch = cancel_on_signal(app.ref(), {SIGUSR2});
  ASSERT_TRUE(watch) << render(watch.error());
  std::raise(SIGUSR2);
  ASSERT_TRUE(seen(*watch, 1));
  // Cancelled, but the deaf task holds it open for its hour of grace.
  EXPECT_EQ(app.done().wait_for(50ms), std::nullopt);
  EXPECT_TRUE(app.ref().is_cancelled());
  std::raise(SIGUSR2);
  auto report = app.done().wait_for(30s);
  ASSERT_TRUE(report && *report);
  EXPECT_EQ(render((*report)->cancel_reason), "scaf::cancelled(app: SIGUSR2)");
  EXPECT_EQ((*report)->killed, std::vector<std::string>{"app/deaf"});
}

TEST_F(SignalsTest, EndingTheWatchRestoresThePreviousHandler) {
  static std::atomic<int> own_handler_ran{0};
  auto previous = std::signal(SIGUSR2, [](int) { ++own_handler_ran; });
  auto app = make_scope(sys, {.name = "app"});
  {
    // Listed twice, it still gets back the handler it had before.
    auto watch = cancel_on_signal(app.ref(), {SIGUSR2, SIGUSR2});
    ASSERT_TRUE(watch);
  }
  std::raise(SIGUSR2);
  EXPECT_EQ(own_handler_ran.load(), 1);
  EXPECT_FALSE(app.ref().is_cancelled());
  std::signal(SIGUSR2, previous);
  app.cancel();
  app.done().wait();
}

TEST_F(SignalsTest, BadInputIsRefusedWithTheRule) {
  auto app = make_scope(sys, {.name = "app"});
  auto nobody = cancel_on_signal(scope_ref{}, {SIGUSR2});
  ASSERT_FALSE(nobody);
  EXPECT_EQ(render(nobody.error()),
            "scaf::invalid_argument(cancel_on_signal: no scope to cancel)");
  auto empty = cancel_on_signal(app.ref(), {});
  ASSERT_FALSE(empty);
  EXPECT_EQ(render(empty.error()),
            "scaf::invalid_argument(cancel_on_signal: no signal to watch)");
  auto kill = cancel_on_signal(app.ref(), {SIGKILL});
  ASSERT_FALSE(kill);
  EXPECT_EQ(render(kill.error()),
            "scaf::invalid_argument(cancel_on_signal: signal 9 cannot be "
            "caught)");
  auto first = cancel_on_signal(app.ref(), {SIGUSR2});
  ASSERT_TRUE(first);
  auto second = cancel_on_signal(app.ref(), {SIGUSR2});
  ASSERT_FALSE(second);
  EXPECT_EQ(render(second.error()),
            "scaf::invalid_argument(cancel_on_signal: another signal watch "
            "is active)");
  // The refused watch took nothing from the active one.
  std::raise(SIGUSR2);
  EXPECT_TRUE(seen(*first, 1));
  EXPECT_EQ(app.done().wait_for(30s).has_value(), true);
}
