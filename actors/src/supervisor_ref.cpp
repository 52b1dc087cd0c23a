// scaf::supervisor_ref: the admin calls of a supervisor, each run in the
// supervisor's context through its scope.
#include "scaf/supervisor_ref.hpp"

#include <string>
#include <utility>
#include <vector>

#include <caf/scoped_actor.hpp>

#include "scaf/atoms.hpp"
#include "scaf/errc.hpp"
#include "scaf/promise.hpp"
#include "scaf/supervisor_atoms.hpp"

#include "supervisor_impl.hpp"

namespace scaf {

// -- supervisor_ref -----------------------------------------------------------

const char* to_string(child_state x) {
  switch (x) {
  case child_state::starting:
    return "starting";
  case child_state::running:
    return "running";
  case child_state::restarting:
    return "restarting";
  case child_state::stopped:
    return "stopped";
  }
  return "<unknown scaf::child_state>";
}

supervisor_ref::supervisor_ref(std::shared_ptr<supervisor_ref::link> x)
  : link_(std::move(x)) {
  // nop
}

caf::expected<supervisor_ref> supervisor_ref::of(caf::actor_system& sys,
                                                 const caf::actor& supervisor,
                                                 caf::timespan timeout) {
  // The checks (scheduler thread, gone, no scope) are those of a scope.
  auto scope = scope_ref::of(sys, supervisor, timeout);
  if (!scope)
    return std::move(scope.error());
  caf::scoped_actor self{sys};
  caf::expected<supervisor_ref> result{
    make_error(errc::invalid_argument, scope->path(), "no supervisor")};
  self->request(supervisor, timeout, supervisor_ref_atom::value)
    .receive([&](supervisor_ref& x) { result = std::move(x); },
             [&](caf::error& err) {
               if (err == caf::sec::request_receiver_down)
                 result = make_error(errc::scope_closed, scope->path(),
                                     "the supervisor is gone");
             });
  return result;
}

handle<caf::actor> supervisor_ref::start_child(child_spec spec) const {
  return supervision::call<caf::actor>(
    link_, [spec](supervision::supervisor_impl& impl,
                  supervision::reply<caf::actor> done) {
      impl.start_child(spec, std::move(done));
    });
}

handle<void> supervisor_ref::terminate_child(std::string name) const {
  return supervision::call<void>(
    link_,
    [name](supervision::supervisor_impl& impl, supervision::reply<void> done) {
      impl.terminate_child(name, std::move(done));
    });
}

handle<void> supervisor_ref::terminate_child(caf::actor worker) const {
  return supervision::call<void>(
    link_, [worker](supervision::supervisor_impl& impl,
                    supervision::reply<void> done) {
      impl.terminate_worker(worker, std::move(done));
    });
}

handle<caf::actor> supervisor_ref::restart_child(std::string name) const {
  return supervision::call<caf::actor>(
    link_, [name](supervision::supervisor_impl& impl,
                  supervision::reply<caf::actor> done) {
      impl.restart_child(name, std::move(done));
    });
}

handle<void> supervisor_ref::delete_child(std::string name) const {
  return supervision::call<void>(
    link_,
    [name](supervision::supervisor_impl& impl, supervision::reply<void> done) {
      impl.delete_child(name, std::move(done));
    });
}

handle<std::vector<child_info>> supervisor_ref::which_children() const {
  return supervision::call<std::vector<child_info>>(
    link_, [](supervision::supervisor_impl& impl,
              supervision::reply<std::vector<child_info>> done) {
      impl.which_children(std::move(done));
    });
}

handle<supervisor_counts> supervisor_ref::count_children() const {
  return supervision::call<supervisor_counts>(
    link_, [](supervision::supervisor_impl& impl,
              supervision::reply<supervisor_counts> done) {
      impl.count_children(std::move(done));
    });
}

scope_ref supervisor_ref::scope() const {
  return link_ ? link_->scope : scope_ref{};
}

} // namespace scaf
