#include "scaf/init.hpp"

#include <map>
#include <mutex>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/config_value.hpp>
#include <caf/defaults.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/settings.hpp>
#include <caf/thread_hook.hpp>

#include "scaf/detail/blocking.hpp"
#include "scaf/errc.hpp"
#include "scaf/scheduler.hpp"

#include "config.hpp"
#include "log.hpp"
#include "trace.hpp"

namespace scaf {

namespace {

constexpr size_t default_max_throughput = 300;

/// Reaches the option set that `caf::actor_system_config` keeps protected,
/// so that scaf's options are declared like CAF's own (command line, config
/// file, `--help`).
struct option_access : caf::actor_system_config {
  static caf::config_option_set& of(caf::actor_system_config& cfg) {
    return cfg.*(&option_access::custom_options_);
  }
};

/// Renders a duration for an error message (CAF renders negative ones as 0).
std::string render_duration(caf::timespan x) {
  auto ns = x.count();
  return ns % 1000000 == 0 ? std::to_string(ns / 1000000) + "ms"
                           : std::to_string(ns) + "ns";
}

/// Checks scaf's settings once the configuration is final (the actor system
/// is being built) and applies the log level. Returns what is wrong, if
/// anything: nothing is replaced by a default silently.
caf::error check_settings(const caf::actor_system& sys) {
  auto& cfg = sys.config();
  auto invalid = [](std::string what) {
    return make_error(errc::invalid_argument, "configuration", std::move(what));
  };
  // The sink first: what is wrong with the other settings goes there.
  if (auto x = caf::get_if(&cfg.content, "scaf.log-sink")) {
    auto where = caf::get_if<std::string>(x);
    if (!where)
      return invalid("scaf.log-sink must be stderr, stdout or a file path, "
                     "got " +
                     caf::to_string(*x));
    if (auto what = detail::configure_log_sink(*where); !what.empty())
      return invalid(std::move(what));
  }
  for (std::string key :
       {"scaf.grace-period", "scaf.watchdog-interval", "scaf.busy-warning"}) {
    auto x = caf::get_if(&cfg.content, key);
    if (x == nullptr)
      continue;
    auto value = caf::get_if<caf::timespan>(x);
    if (!value)
      return invalid(key + " must be a duration (e.g. 500ms), got " +
                     caf::to_string(*x));
    if (value->count() < 0)
      return invalid(key + " cannot be negative, got " +
                     render_duration(*value));
  }
  if (auto x = caf::get_if(&cfg.content, "scaf.function-threads")) {
    auto value = caf::get_if<size_t>(x);
    if (!value || *value == 0)
      return invalid("scaf.function-threads must be a number of at least 1, "
                     "got " +
                     caf::to_string(*x));
  }
  if (auto x = caf::get_if(&cfg.content, "scaf.trace-file")) {
    auto where = caf::get_if<std::string>(x);
    if (!where)
      return invalid("scaf.trace-file must be a file path, got " +
                     caf::to_string(*x));
    if (auto what = detail::trace::open(sys, *where); !what.empty())
      return invalid(std::move(what));
  }
  for (std::string key : {"scaf.observer", "scaf.observer-token"})
    if (auto x = caf::get_if(&cfg.content, key);
        x != nullptr && caf::get_if<std::string>(x) == nullptr)
      return invalid(key + " must be a string, got " + caf::to_string(*x));
  if (auto x = caf::get_if(&cfg.content, "scaf.log-level")) {
    auto name = caf::get_if<std::string>(x);
    auto level = name ? detail::parse_level(*name) : std::nullopt;
    if (!level)
      return invalid("scaf.log-level must be one of trace, debug, info, "
                     "warn, error, critical, off (any case), got " +
                     caf::to_string(*x));
    detail::configure_log(*level);
  }
  return {};
}

/// A scheduler module that forgets its system's configuration check when it
/// goes (a later system may live at the same address).
template <class Base>
class checked_module : public Base {
public:
  using Base::Base;

  void start() override {
    Base::start();
    // (Once the scheduler runs: the observer asks scopes for their trees.)
    if (auto err = detail::start_configured_observer(this->system())) {
      detail::log().error("{}", detail::rendered{err});
      if (!detail::config_error(this->system()))
        detail::set_config_error(this->system(), std::move(err));
    }
  }

  void stop() override {
    detail::stop_configured_observer(this->system());
    Base::stop();
  }

  ~checked_module() override {
    detail::trace::close(this->system());
    detail::forget_config(this->system());
  }
};

caf::actor_system::module* make_scheduler(caf::actor_system& sys) {
  // CAF 0.17 cannot stop building a system cleanly from here (throwing
  // leaves it half made): the error is logged now and every top-level scope
  // of this system fails with it.
  auto err = check_settings(sys);
  if (err)
    detail::log().error("{}", detail::rendered{err});
  detail::set_config_error(sys, std::move(err));
  using caf::atom;
  auto policy = caf::get_or(sys.config(), "scheduler.policy", atom("stealing"));
  switch (static_cast<uint64_t>(policy)) {
  case static_cast<uint64_t>(atom("testing")):
    return new checked_module<caf::scheduler::test_coordinator>(sys);
  case static_cast<uint64_t>(atom("sharing")):
    return new checked_module<coordinator<caf::policy::work_sharing>>(sys);
  default:
    return new checked_module<coordinator<stealing_policy>>(sys);
  }
}

std::string render_scaf_error(uint8_t code, caf::atom_value,
                              const caf::message& ctx) {
  return render(caf::error{code, errc_category, ctx});
}

/// Tells blocking calls which threads are the scheduler's.
class thread_marker : public caf::thread_hook {
public:
  void init(caf::actor_system&) override {
    // nop
  }

  void thread_started() override {
    detail::mark_scheduler_thread();
  }

  void thread_terminates() override {
    // nop
  }
};

std::mutex config_errors_mtx;
std::map<const caf::actor_system*, caf::error> config_errors;

} // namespace

void detail::set_config_error(const caf::actor_system& sys, caf::error err) {
  std::lock_guard<std::mutex> guard{config_errors_mtx};
  config_errors[&sys] = std::move(err);
}

void detail::forget_config(const caf::actor_system& sys) {
  std::lock_guard<std::mutex> guard{config_errors_mtx};
  config_errors.erase(&sys);
}

caf::error detail::config_error(const caf::actor_system& sys) {
  std::lock_guard<std::mutex> guard{config_errors_mtx};
  auto i = config_errors.find(&sys);
  if (i == config_errors.end())
    return make_error(errc::invalid_argument, "configuration",
                      "scaf::init(cfg) was not called on the "
                      "caf::actor_system_config before the actor system was "
                      "built");
  return i->second;
}

void init(caf::actor_system_config& cfg) {
  cfg.add_error_category(errc_category, render_scaf_error);
  caf::config_option_adder{option_access::of(cfg), "scaf"}
    .add<caf::timespan>("grace-period",
                        "default grace period of scopes (default: 5s)")
    .add<caf::timespan>("watchdog-interval",
                        "how often a scope names the children it forced "
                        "that are still running (default: 5s; 0s: never)")
    .add<std::string>("log-level",
                      "trace, debug, info, warn, error, critical or off "
                      "(default: warn; the environment variable SCAF_LOG "
                      "wins)")
    .add<std::string>("log-sink",
                      "where scaf logs: stderr, stdout or a file path "
                      "(default: stderr)")
    .add<std::string>("trace-file",
                      "writes the lifecycle of every node to this file as "
                      "Chrome trace-event JSON (default: none)")
    .add<size_t>("function-threads",
                 "how many function tasks run at once on scaf's function "
                 "pool, off CAF's scheduler (default: the number of cores, "
                 "at least 4)")
    .add<std::string>("observer",
                      "serves the live tree to a browser at this host:port "
                      "(e.g. 127.0.0.1:8080; port 0 picks one; see "
                      "scaf/observer.hpp; default: none)")
    .add<std::string>("observer-token",
                      "the observer's access token: needed for a "
                      "non-loopback address, and allows cancels from the "
                      "page (default: none, read-only)")
    .add<caf::timespan>("busy-warning",
                        "names (at warn) a task that holds a scheduler "
                        "thread longer than this in one go (default: 100ms; "
                        "0s: never)");
  // CAF's default max-throughput is unlimited: an actor that keeps sending to
  // itself (task_base::yield) would never give its worker back, and shutdown
  // would never complete. A bound keeps the scheduler fair.
  // (CAF fills in its default when the config is constructed, so "not set"
  // reads as that default here.)
  auto current = caf::get_or(cfg, "scheduler.max-throughput",
                             caf::defaults::scheduler::max_throughput);
  if (current == caf::defaults::scheduler::max_throughput)
    cfg.set("scheduler.max-throughput", default_max_throughput);
  cfg.module_factories.push_back(make_scheduler);
  cfg.add_thread_hook<thread_marker>();
}

} // namespace scaf
