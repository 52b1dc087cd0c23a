#include "scaf/init.hpp"

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/config_value.hpp>
#include <caf/defaults.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/thread_hook.hpp>

#include "scaf/detail/blocking.hpp"
#include "scaf/errc.hpp"
#include "scaf/scheduler.hpp"

namespace scaf {

namespace {

constexpr size_t default_max_throughput = 300;

caf::actor_system::module* make_scheduler(caf::actor_system& sys) {
  using caf::atom;
  auto policy = caf::get_or(sys.config(), "scheduler.policy", atom("stealing"));
  switch (static_cast<uint64_t>(policy)) {
  case static_cast<uint64_t>(atom("testing")):
    return new caf::scheduler::test_coordinator(sys);
  case static_cast<uint64_t>(atom("sharing")):
    return new coordinator<caf::policy::work_sharing>(sys);
  default:
    return new coordinator<stealing_policy>(sys);
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

} // namespace

void init(caf::actor_system_config& cfg) {
  cfg.add_error_category(errc_category, render_scaf_error);
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
