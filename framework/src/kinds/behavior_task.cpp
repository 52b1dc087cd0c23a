// The child contract for behavior tasks: event-based task actors on CAF's
// scheduler. A cancel is a high-priority `caf::exit_msg` (its cancel
// handler runs); force is a kill, after the scopes the task opened (which it
// relays cancel and force to: one message per tree edge).
#include <caf/actor_cast.hpp>
#include <caf/exit_reason.hpp>

#include "../kinds.hpp"
#include "../scope_impl.hpp"
#include "../send.hpp"

namespace scaf::detail {

namespace {

class behavior_task final : public child_kind {
public:
  const char* name() const noexcept override {
    return "task";
  }

  count_slot slot() const noexcept override {
    return count_slot::behaviors;
  }

  void cancel(scope_impl& s, child_record& c, const caf::error& reason,
              time_point, bool) const override {
    // An abort kills it at once (OTP's brutal kill): no cancel handler runs.
    // A task that opened scopes still hears it, so that it does not take
    // their ending for a failure to react to; it is killed once they are
    // done.
    if (s.aborting() && c.nested == 0)
      return;
    send_urgent(s.self(), c.handle, caf::exit_msg{s.self()->address(), reason});
  }

  void force(scope_impl& s, child_record& c) const override {
    if (c.stand_in) {
      // It passes the force on to the work it stands for, and ends once
      // that is gone.
      send_urgent(s.self(), c.handle,
                  caf::exit_msg{s.self()->address(),
                                make_error(errc::killed, s.child_path(c).str(),
                                           to_text(c.forced_by))});
      return;
    }
    if (c.nested == 0) {
      s.kill(c);
      return;
    }
    // Force bottom-up: abort the scopes the task opened, kill the task once
    // they are done, so that its done still follows theirs.
    c.kill_pending = true;
    for (auto id : c.ext().owned)
      if (auto nested = s.children_.find(id))
        s.force(*nested, c.forced_by);
  }

  void abandon(child_record& c, const caf::error&) const override {
    send_urgent(nullptr, c.handle,
                caf::exit_msg{caf::actor_addr{}, caf::exit_reason::kill});
  }

  caf::actor describe(const scope_impl& s, const child_record& c,
                      tree_node& x) const override {
    x.busy = s.busy_for(c.handle);
    // A stand-in answers with the subtree of the work it stands for.
    return c.stand_in ? c.handle : caf::actor{};
  }

  const char* why_still_running() const noexcept override {
    return "a kill lands only once the handler it runs returns";
  }

  bool offers_handle_of() const noexcept override {
    return true;
  }

  bool relays_to_owned() const noexcept override {
    return true;
  }
};

} // namespace

const child_kind& behavior_task_kind() noexcept {
  static const behavior_task instance;
  return instance;
}

} // namespace scaf::detail
