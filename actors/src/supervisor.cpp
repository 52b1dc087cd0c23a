// scaf::supervisor: OTP's supervisor as a scope, built on scaf's public API
// only (a check in tests/ keeps it that way). The scope's children are the
// supervised children; the handlers installed with `scope::on_child_done`,
// `scope::on_cancel` and `scope::on_message` are the restart strategy, the
// ordered shutdown and the admin calls of `supervisor_ref`
// (supervisor_impl.hpp).
#include "scaf/supervisor.hpp"

#include <memory>
#include <utility>

#include "scaf/errc.hpp"

#include "supervisor_impl.hpp"

namespace scaf {

scope_options supervision::supervisor_scope() {
  // Each child gets its own shutdown time; the supervisor sets the sum.
  scope_options result;
  result.grace = caf::timespan{0};
  result.kind = "supervisor";
  return result;
}

// -- supervisor ---------------------------------------------------------------

namespace {

/// Checks the spec and starts the supervisor it describes in `s`.
void start_supervisor(scope& s, const supervisor_options& opts,
                      const std::vector<child_spec>& children) {
  if (auto err = supervision::check(opts, children, s.path())) {
    s.fail(std::move(err));
    return;
  }
  std::make_shared<supervision::supervisor_impl>(s, opts, children)->start();
}

} // namespace

child_factory supervisor(supervisor_options opts,
                         std::vector<child_spec> children) {
  return scope_factory(supervision::supervisor_scope(),
                       [opts = std::move(opts), children = std::move(children)](
                         scope& s) { start_supervisor(s, opts, children); });
}

child_factory supervisor(supervisor_init init) {
  return scope_factory(
    supervision::supervisor_scope(), [init = std::move(init)](scope& s) {
      if (!init) {
        s.fail(make_error(errc::invalid_argument, s.path(),
                          "a supervisor needs an init function"));
        return;
      }
      auto spec = init(s);
      if (!spec) {
        s.fail(std::move(spec.error()));
        return;
      }
      if (!*spec) {
        // Declined: it ends now, never up (OTP's ignore).
        s.defer_started();
        return;
      }
      start_supervisor(s, (*spec)->options, (*spec)->children);
    });
}

} // namespace scaf
