// Tests of scaf/init.hpp: scaf's settings are declared options of the
// configuration, and invalid values are refused instead of replaced.
#include "scaf/init.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

#include <caf/all.hpp>

#include <gtest/gtest.h>

#include "scaf/all.hpp"

using namespace std::chrono_literals;

namespace {

struct config : caf::actor_system_config {
  config() {
    scaf::init(*this);
    set("logger.console", caf::atom("none"));
  }
};

/// Parses `args` as a command line into `cfg`.
caf::error parse(config& cfg, std::vector<std::string> args) {
  std::vector<char*> argv{const_cast<char*>("test")};
  for (auto& x : args)
    argv.push_back(x.data());
  return cfg.parse(static_cast<int>(argv.size()), argv.data());
}

/// What a top-level scope of a system built from `cfg` sees as its grace
/// period, or why it failed.
caf::expected<caf::timespan> grace_of(config& cfg) {
  caf::actor_system sys{cfg};
  return scaf::run(sys, [](scaf::scope& s) { return s.grace(); });
}

} // namespace

TEST(InitTest, GracePeriodComesFromTheCommandLine) {
  config cfg;
  ASSERT_FALSE(parse(cfg, {"--scaf.grace-period=250ms"}));
  EXPECT_EQ(grace_of(cfg), caf::expected<caf::timespan>{250ms});
}

TEST(InitTest, GracePeriodDefaultsToFiveSeconds) {
  config cfg;
  ASSERT_FALSE(parse(cfg, {}));
  EXPECT_EQ(grace_of(cfg), caf::expected<caf::timespan>{5s});
}

TEST(InitTest, UnparsableGracePeriodIsAParseError) {
  config cfg;
  EXPECT_TRUE(parse(cfg, {"--scaf.grace-period=garbage"}));
}

TEST(InitTest, NegativeGracePeriodFailsEveryTopLevelScope) {
  config cfg;
  ASSERT_FALSE(parse(cfg, {"--scaf.grace-period=-5ms"}));
  auto r = grace_of(cfg);
  ASSERT_FALSE(r);
  EXPECT_EQ(scaf::render(r.error()),
            "scaf::invalid_argument(configuration: scaf.grace-period cannot "
            "be negative, got -5ms)");
}

TEST(InitTest, NegativeWatchdogIntervalFailsEveryTopLevelScope) {
  config cfg;
  ASSERT_FALSE(parse(cfg, {"--scaf.watchdog-interval=-1s"}));
  auto r = grace_of(cfg);
  ASSERT_FALSE(r);
  EXPECT_EQ(scaf::render(r.error()),
            "scaf::invalid_argument(configuration: scaf.watchdog-interval "
            "cannot be negative, got -1000ms)");
  config off;
  ASSERT_FALSE(parse(off, {"--scaf.watchdog-interval=0s"}));
  EXPECT_TRUE(grace_of(off));
}

TEST(InitTest, FunctionThreadsAndBusyWarningAreCheckedToo) {
  config none;
  ASSERT_FALSE(parse(none, {"--scaf.function-threads=0"}));
  auto r = grace_of(none);
  ASSERT_FALSE(r);
  EXPECT_EQ(scaf::render(r.error()),
            "scaf::invalid_argument(configuration: scaf.function-threads "
            "must be a number of at least 1, got 0)");
  config negative;
  ASSERT_FALSE(parse(negative, {"--scaf.busy-warning=-1ms"}));
  r = grace_of(negative);
  ASSERT_FALSE(r);
  EXPECT_EQ(scaf::render(r.error()),
            "scaf::invalid_argument(configuration: scaf.busy-warning cannot "
            "be negative, got -1ms)");
  config fine;
  ASSERT_FALSE(
    parse(fine, {"--scaf.function-threads=2", "--scaf.busy-warning=0s"}));
  EXPECT_TRUE(grace_of(fine));
}

TEST(InitTest, TraceFileThatCannotBeOpenedFailsEveryTopLevelScope) {
  config cfg;
  ASSERT_FALSE(parse(cfg, {"--scaf.trace-file=/nonexistent-scaf-dir/t.json"}));
  auto r = grace_of(cfg);
  ASSERT_FALSE(r);
  EXPECT_EQ(scaf::render(r.error()),
            "scaf::invalid_argument(configuration: scaf.trace-file: cannot "
            "open /nonexistent-scaf-dir/t.json for writing)");
}

TEST(InitTest, LogLevelsAreReadInAnyCaseAndUnknownOnesRefused) {
  for (auto level : {"debug", "WARN", "Error", "off"}) {
    config cfg;
    ASSERT_FALSE(parse(cfg, {std::string{"--scaf.log-level="} + level}));
    EXPECT_TRUE(grace_of(cfg)) << level;
  }
  config cfg;
  ASSERT_FALSE(parse(cfg, {"--scaf.log-level=loud"}));
  auto r = grace_of(cfg);
  ASSERT_FALSE(r);
  EXPECT_TRUE(scaf::is(r.error(), scaf::errc::invalid_argument));
  // The next system with a valid configuration is not affected.
  config good;
  ASSERT_FALSE(parse(good, {"--scaf.log-level=warn"}));
  EXPECT_TRUE(grace_of(good));
}

TEST(InitTest, SettingsAppearInTheHelpText) {
  config cfg;
  // CAF 0.17 prints every group's options with --long-help.
  testing::internal::CaptureStdout();
  ASSERT_FALSE(parse(cfg, {"--long-help"}));
  auto help = testing::internal::GetCapturedStdout();
  EXPECT_NE(help.find("--scaf.grace-period=<timespan>"), std::string::npos);
  EXPECT_NE(help.find("--scaf.watchdog-interval=<timespan>"),
            std::string::npos);
  EXPECT_NE(help.find("--scaf.log-level=<string>"), std::string::npos);
  EXPECT_NE(help.find("--scaf.log-sink=<string>"), std::string::npos);
}

TEST(InitTest, LogSinkSendsScafsLinesToAFile) {
  auto file = std::filesystem::temp_directory_path() /
              ("scaf_init_test_" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(file);
  config cfg;
  ASSERT_FALSE(parse(
    cfg, {"--scaf.grace-period=-5ms", "--scaf.log-sink=" + file.string()}));
  EXPECT_FALSE(grace_of(cfg));
  // Back to the default sink before anything else logs.
  config reset;
  ASSERT_FALSE(parse(reset, {"--scaf.log-sink=stderr"}));
  EXPECT_TRUE(grace_of(reset));
  std::ifstream in{file};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  std::filesystem::remove(file);
  // What is wrong with the configuration is logged (as an error) there.
  EXPECT_NE(text.find("scaf.grace-period cannot be negative"),
            std::string::npos)
    << text;
}

TEST(InitTest, LogSinkThatCannotBeOpenedFailsEveryTopLevelScope) {
  // A folder is no file (missing folders on the way would be created).
  auto folder = std::filesystem::temp_directory_path().string();
  config cfg;
  ASSERT_FALSE(parse(cfg, {"--scaf.log-sink=" + folder}));
  auto r = grace_of(cfg);
  ASSERT_FALSE(r);
  EXPECT_TRUE(scaf::is(r.error(), scaf::errc::invalid_argument));
  auto text = scaf::render(r.error());
  EXPECT_NE(text.find("scaf.log-sink"), std::string::npos) << text;
  EXPECT_NE(text.find(folder), std::string::npos) << text;
  config empty;
  ASSERT_FALSE(parse(empty, {}));
  empty.set("scaf.log-sink", std::string{}); // as `log-sink = ""` would
  auto e = grace_of(empty);
  ASSERT_FALSE(e);
  EXPECT_EQ(scaf::render(e.error()),
            "scaf::invalid_argument(configuration: scaf.log-sink must be "
            "stderr, stdout or a file path, got an empty string)");
}

TEST(InitTest, ForgettingInitFailsTheFirstScopeSayingWhatToCall) {
  caf::actor_system_config cfg; // no scaf::init
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  auto ran = false;
  auto r = scaf::run(sys, [&](scaf::scope&) { ran = true; });
  ASSERT_FALSE(r);
  EXPECT_FALSE(ran);
  EXPECT_EQ(scaf::render(r.error()),
            "scaf::invalid_argument(configuration: scaf::init(cfg) was not "
            "called on the caf::actor_system_config before the actor system "
            "was built)");
}
