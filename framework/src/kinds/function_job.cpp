// The child contract for function tasks run as jobs: `f(std::stop_token)`
// and `f(task_context&)` on scaf's function pool, `f()` (short work, deaf to
// a cancel once it runs) on CAF's scheduler. A job that a cancel reaches
// before it starts never runs (unless it is cleanup work spawned into a
// cancelled scope); a running one hears the cancel on its token and cannot
// be killed: forced, it is a straggler and is waited for.
#include "../kinds.hpp"
#include "../scope_impl.hpp"

namespace scaf::detail {

namespace {

class function_job final : public child_kind {
public:
  const char* name() const noexcept override {
    return "function";
  }

  count_slot slot() const noexcept override {
    return count_slot::functions;
  }

  void start(scope_impl& s, child_record& c) const override {
    s.submit(c.job);
  }

  void cancel(scope_impl&, child_record& c, const caf::error& reason,
              time_point, bool alone) const override {
    // The scope's cancel of all children reaches jobs that have not started
    // through the scope's cancel state; one cancelled alone never runs.
    if (alone)
      c.job->cancel(reason);
    if (c.stop)
      c.stop->request(reason);
  }

  void force(scope_impl& s, child_record& c) const override {
    auto why = s.forced_reason(c.forced_by);
    if (c.stop)
      c.stop->request(why);
    if (!c.job->started()) {
      // It never runs, and its handle says it was killed.
      c.job->cancel(
        make_error(errc::killed, s.child_path(c).str(), to_text(c.forced_by)));
      return;
    }
    s.mark_straggler(c);
  }

  void abandon(child_record& c, const caf::error& why) const override {
    // Jobs that have not started see the scope's cancel state abandoned.
    if (c.stop)
      c.stop->request(why);
  }

  const char* why_still_running() const noexcept override {
    return "a function cannot be stopped while it runs";
  }
};

} // namespace

const child_kind& function_job_kind() noexcept {
  static const function_job instance;
  return instance;
}

} // namespace scaf::detail
