// Entry point of every scaf test binary: GoogleTest plus a per-test watchdog
// (SCAF_TEST_TIMEOUT seconds, default 120), so a hang fails with the test's
// name instead of blocking CI.
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "watchdog.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // scaf warns about every suppressed error and killed task; the tests
  // provoke many on purpose. SCAF_LOG=warn shows them.
  setenv("SCAF_LOG", "error", 0);
  auto limit = std::chrono::seconds{120};
  if (auto env = std::getenv("SCAF_TEST_TIMEOUT"))
    limit = std::chrono::seconds{std::stoi(env)};
  ::testing::UnitTest::GetInstance()->listeners().Append(
    new scaf::test::watchdog{limit});
  return RUN_ALL_TESTS();
}
