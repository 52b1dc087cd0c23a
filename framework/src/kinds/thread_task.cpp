// The child contract for tasks on a thread of their own: blocking tasks
// (`spawn_blocking`) and function tasks that take `task_base*`, each a
// detached task actor busy in one call. A cancel requests stop on its token
// (and `is_cancelled()` turns true); it cannot be killed mid-call, so forced
// it is a straggler and is waited for.
#include "../kinds.hpp"
#include "../scope_impl.hpp"

namespace scaf::detail {

namespace {

class thread_task final : public child_kind {
public:
  constexpr thread_task(const char* name, count_slot slot) noexcept
    : name_(name), slot_(slot) {
    // nop
  }

  const char* name() const noexcept override {
    return name_;
  }

  count_slot slot() const noexcept override {
    return slot_;
  }

  void cancel(scope_impl&, child_record& c, const caf::error& reason,
              time_point, bool) const override {
    c.stop->request(reason);
  }

  void force(scope_impl& s, child_record& c) const override {
    c.stop->request(s.forced_reason(c.forced_by));
    s.mark_straggler(c);
  }

  void abandon(child_record& c, const caf::error& why) const override {
    c.stop->request(why);
  }

  const char* why_still_running() const noexcept override {
    return "a function cannot be stopped while it runs";
  }

private:
  const char* name_;
  count_slot slot_;
};

} // namespace

const child_kind& function_thread_kind() noexcept {
  static const thread_task instance{"function", count_slot::functions};
  return instance;
}

const child_kind& blocking_task_kind() noexcept {
  static const thread_task instance{"blocking", count_slot::blocking};
  return instance;
}

} // namespace scaf::detail
