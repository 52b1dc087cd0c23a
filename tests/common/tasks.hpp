// Task behaviors shared by the scaf test suites.
#pragma once

#include <stdexcept>
#include <string>

#include <caf/all.hpp>

#include "scaf/all.hpp"

#include "fixture.hpp"

namespace scaf::test {

using finish_atom = caf::atom_constant<caf::atom("finish")>;
using fail_atom = caf::atom_constant<caf::atom("fail")>;
using throw_atom = caf::atom_constant<caf::atom("throw")>;

/// Logs "~<name>" when destroyed: the moment a task's state goes.
struct traced {
  traced() = default;
  ~traced() {
    if (log != nullptr)
      log->add("~" + name);
  }
  event_log* log = nullptr;
  std::string name;
};

using traced_task = stateful_task<traced>;

/// What a test task does when it is cancelled.
enum class on_cancel_mode {
  /// No handler: the task quits at once with the cancel reason.
  none,
  /// A handler that logs "cancel:<name>" and lets the task quit.
  log_and_quit,
  /// A handler that logs and then fails with `fail_reason`.
  fail,
  /// A handler that logs and defers quitting forever (a stubborn task).
  stubborn,
};

/// A task that finishes on `finish_atom`, fails on `(fail_atom, error)` and
/// throws on `throw_atom`; `mode` says what it does on cancel.
inline caf::behavior worker_with(traced_task* self, event_log* log,
                                 std::string name, on_cancel_mode mode,
                                 caf::error fail_reason) {
  self->state.log = log;
  self->state.name = name;
  log->add("start:" + name);
  if (mode != on_cancel_mode::none)
    self->on_cancel([=](const caf::error& why) {
      log->add("cancel:" + name + ":" + render(why));
      if (mode == on_cancel_mode::fail)
        self->quit(fail_reason);
      else if (mode == on_cancel_mode::log_and_quit)
        self->quit(why);
      // stubborn: runs on until it is killed
    });
  return {
    [=](finish_atom) { self->quit(); },
    [=](fail_atom, caf::error& err) { self->quit(std::move(err)); },
    [=](throw_atom) { throw std::runtime_error("boom in " + name); },
  };
}

/// `worker_with` that logs its cancel and quits.
inline caf::behavior worker(traced_task* self, event_log* log,
                            std::string name) {
  return worker_with(self, log, std::move(name), on_cancel_mode::log_and_quit,
                     caf::error{});
}

/// An application error category for the tests.
inline caf::error app_error(uint8_t code, std::string what) {
  return caf::error{code, caf::atom("app"), caf::make_message(std::move(what))};
}

} // namespace scaf::test
