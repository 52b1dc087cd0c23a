// scaf::supervisor: OTP's supervisor as a scope, built on scaf's public API
// only (a check in tests/ keeps it that way). The scope's children are the
// supervised children; the handlers installed with `scope::on_child_done`,
// `scope::on_cancel` and `scope::on_message` are the restart strategy, the
// ordered shutdown and the admin calls of `supervisor_ref`
// (supervisor_impl.hpp).
#include "scaf/supervisor.hpp"

#include <memory>
#include <utility>

#include "supervisor_impl.hpp"

namespace scaf {

// -- supervisor ---------------------------------------------------------------

child_factory supervisor(supervisor_options opts,
                         std::vector<child_spec> children) {
  // Its grace period bounds its ordered shutdown, in which each child gets
  // its own shutdown time, one after another: the supervisor keeps it the
  // sum of its children's (zero without children).
  scope_options scope_opts;
  scope_opts.grace = caf::timespan{0};
  return scope_factory(
    std::move(scope_opts),
    [opts = std::move(opts), children = std::move(children)](scope& s) {
      if (auto err = supervision::check(opts, children, s.path())) {
        s.fail(std::move(err));
        return;
      }
      auto impl =
        std::make_shared<supervision::supervisor_impl>(s, opts, children);
      impl->start();
    });
}

} // namespace scaf
