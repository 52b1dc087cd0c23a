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
  // (`wait` refuses on a scheduler thread, as every blocking call does.)
  return request(sys, supervisor, timeout).wait();
}

handle<supervisor_ref> supervisor_ref::request(caf::actor_system& sys,
                                               const caf::actor& supervisor,
                                               caf::timespan timeout) {
  promise<supervisor_ref> p;
  auto result = p.get_handle();
  auto refuse = [&](const char* why) {
    p.resolve(
      make_error(errc::invalid_argument, "",
                 std::string{"the actor is no scaf supervisor ("} + why + ")"));
    return result;
  };
  if (!supervisor)
    return refuse("an empty actor");
  // (A local actor of another kind would print "unexpected message".)
  if (supervisor->node() == sys.node() && !is_local_scope(supervisor))
    return refuse("a local actor that is no scope");
  sys.spawn([p, supervisor, timeout](caf::event_based_actor* self) {
    self->request(supervisor, timeout, supervisor_ref_atom::value)
      .then([p](supervisor_ref& x) { p.resolve(std::move(x)); },
            [p](caf::error& err) {
              if (err == caf::sec::request_receiver_down)
                p.resolve(
                  make_error(errc::scope_closed, "", "the supervisor is gone"));
              else if (err == caf::sec::unexpected_message ||
                       err == caf::sec::unexpected_response)
                p.resolve(make_error(errc::invalid_argument, "",
                                     "the actor is no scaf supervisor (it "
                                     "does not understand "
                                     "supervisor_ref_atom)"));
              else if (err == caf::sec::request_timeout)
                p.resolve(make_error(errc::invalid_argument, "",
                                     "the actor is no scaf supervisor (no "
                                     "answer in time)"));
              else
                p.resolve(std::move(err));
            });
  });
  return result;
}

handle<caf::actor> supervisor_ref::start_child(child_spec spec) const {
  return supervision::call<caf::actor>(
    link_, [spec](supervision::supervisor_impl& impl,
                  supervision::reply<caf::actor> done) {
      impl.start_child(spec, supervision::actor_only(std::move(done)));
    });
}

handle<started_child>
supervisor_ref::start_child_with_info(child_spec spec) const {
  return supervision::call<started_child>(
    link_, [spec](supervision::supervisor_impl& impl,
                  supervision::reply<started_child> done) {
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

handle<child_spec> supervisor_ref::get_childspec(std::string name) const {
  return supervision::call<child_spec>(
    link_, [name](supervision::supervisor_impl& impl,
                  supervision::reply<child_spec> done) {
      impl.get_childspec(name, std::move(done));
    });
}

handle<child_info> supervisor_ref::which_child(std::string name) const {
  return supervision::call<child_info>(
    link_, [name](supervision::supervisor_impl& impl,
                  supervision::reply<child_info> done) {
      impl.which_child(name, std::move(done));
    });
}

handle<void>
supervisor_ref::check_childspecs(std::vector<child_spec> specs) const {
  return supervision::call<void>(
    link_,
    [specs](supervision::supervisor_impl& impl, supervision::reply<void> done) {
      impl.check_childspecs(specs, std::move(done));
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

caf::actor already_started(const caf::error& err) {
  if (!is(err, errc::child_exists))
    return {};
  auto& ctx = err.context();
  if (ctx.size() != 3 || !ctx.match_element<caf::actor_addr>(2))
    return {};
  return caf::actor_cast<caf::actor>(ctx.get_as<caf::actor_addr>(2));
}

} // namespace scaf
