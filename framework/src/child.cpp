// What every kind of child does unless its own file says otherwise.
#include "child.hpp"

#include <caf/exit_reason.hpp>
#include <caf/make_message.hpp>

#include "scaf/errc.hpp"

#include "kinds.hpp"
#include "scope_impl.hpp"

namespace scaf::detail {

const char* to_text(force_cause x) noexcept {
  switch (x) {
  case force_cause::none:
    break;
  case force_cause::grace:
    return "overstayed the grace period";
  case force_cause::own_grace:
    return "overstayed its grace period";
  case force_cause::no_grace:
    return "cancelled without a grace period";
  case force_cause::abort:
    return "aborted";
  case force_cause::abort_one:
    return "aborted through its handle";
  }
  return "forced";
}

namespace {

bool is_kill(const caf::error& reason) {
  return reason == caf::exit_reason::kill;
}

} // namespace

void child_kind::start(scope_impl&, child_record&) const {
  // nop: an actor runs since its spawn
}

child_status child_kind::ended(scope_impl& s, child_record& c,
                               caf::error& reason) const {
  if (!reason)
    return c.straggler() ? node_status::straggler : node_status::done;
  if (is_kill(reason)) {
    if (c.forced()) {
      reason =
        make_error(errc::killed, s.child_path(c).str(), to_text(c.forced_by));
      return node_status::killed;
    }
    // Killed by another actor than its scope: a failure, said the way CAF
    // says it, with the node's path.
    reason = caf::error{reason.code(), reason.category(),
                        caf::make_message(s.child_path(c).str(),
                                          "killed by another actor than its "
                                          "scope")};
    return node_status::failed;
  }
  if (is(reason, errc::killed))
    return node_status::killed;
  if (is(reason, errc::cancelled))
    return c.straggler() ? node_status::straggler : node_status::cancelled;
  if (is(reason, errc::timeout))
    return node_status::timed_out;
  return node_status::failed;
}

void child_kind::join(scope_impl&, child_record&) const {
  // nop: only scopes are joined with their parent
}

void child_kind::close(scope_impl&, child_record&) const {
  // nop: only scopes are closed with their parent
}

caf::actor child_kind::describe(const scope_impl&, const child_record&,
                                tree_node&) const {
  return {};
}

const char* child_kind::why_still_running() const noexcept {
  return "it cannot be stopped while it runs";
}

bool child_kind::offers_handle_of() const noexcept {
  return false;
}

bool child_kind::controlled_by_scope(const scope_impl&,
                                     const child_record&) const {
  return true;
}

bool child_kind::relays_to_owned() const noexcept {
  return false;
}

const child_kind& kind_of(actor_kind x) noexcept {
  // In the order of `actor_kind`.
  static const child_kind* const kinds[] = {
    &behavior_task_kind(), &function_thread_kind(), &blocking_task_kind(),
    &child_scope_kind()};
  return *kinds[static_cast<int>(x)];
}

} // namespace scaf::detail
