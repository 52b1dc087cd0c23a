// scope_ref and scope_owner: holding a scope from outside its actor. Every
// call becomes a scope_call that runs in the scope's context.
#include "scaf/scope_ref.hpp"

#include <string>
#include <utility>

#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include "scaf/atoms.hpp"
#include "scaf/detail/blocking.hpp"
#include "scaf/promise.hpp"
#include "scaf/scope_owner.hpp"

#include "scope_impl.hpp"

namespace scaf {

using detail::refuse_negative;

// -- scope_ref ----------------------------------------------------------------

bool is_local_scope(const caf::actor& x) {
  auto ptr = caf::actor_cast<caf::abstract_actor*>(x);
  return dynamic_cast<detail::scope_impl::actor_type*>(ptr) != nullptr;
}

handle<scope_ref> scope_ref::request(caf::actor_system& sys,
                                     const caf::actor& scope,
                                     caf::timespan timeout) {
  promise<scope_ref> p;
  auto result = p.get_handle();
  auto not_a_scope = [](const char* why) {
    return make_error(errc::invalid_argument, "",
                      std::string{"the actor is not a scaf scope ("} + why +
                        ")");
  };
  if (!scope) {
    p.resolve(make_error(errc::invalid_argument, "",
                         "scope_ref needs a scope actor, got none"));
    return result;
  }
  // (A local actor of another kind would print "unexpected message".)
  if (scope->node() == sys.node() && !is_local_scope(scope)) {
    p.resolve(not_a_scope("a local actor of another kind"));
    return result;
  }
  sys.spawn([p, scope, timeout, not_a_scope](caf::event_based_actor* self) {
    self->request(scope, timeout, ref_atom::value)
      .then([p](scope_ref& x) { p.resolve(std::move(x)); },
            [p, not_a_scope](caf::error& err) {
              if (err == caf::sec::request_receiver_down)
                p.resolve(
                  make_error(errc::scope_closed, "", "the scope has finished"));
              else if (err == caf::sec::request_timeout)
                p.resolve(not_a_scope("no answer in time"));
              else if (err == caf::sec::unexpected_message ||
                       err == caf::sec::unexpected_response)
                p.resolve(not_a_scope("it does not understand scaf::ref_atom"));
              else
                p.resolve(std::move(err));
            });
  });
  return result;
}

caf::expected<scope_ref> scope_ref::of(caf::actor_system& sys,
                                       const caf::actor& scope,
                                       caf::timespan timeout) {
  detail::blocking_section section{"scope_ref::of"};
  if (section.refused())
    return section.error();
  return request(sys, scope, timeout).wait();
}

void scope_ref::post(std::function<void(scope&)> f) const {
  shared_->post(std::make_shared<detail::scope_call>(std::move(f), nullptr));
}

scope_owner scope_ref::open_child(scope_options opts) const {
  auto child = std::make_shared<detail::scope_shared>();
  shared_->post(std::make_shared<detail::scope_call>(
    [opts = std::move(opts), child](scope& s) mutable {
      if (auto err = s.open_child_scope(std::move(opts), child))
        child->fail_to_start(err);
    },
    [child](const caf::error& err) { child->fail_to_start(err); }));
  return detail::ref_access::make_owner(std::move(child));
}

void scope_ref::cancel(std::string why) const {
  shared_->note_requested(true, false);
  post([why = std::move(why)](scope& s) { s.cancel(why); });
}

void scope_ref::cancel(caf::error cause) const {
  // An empty cause fails the scope instead: nothing to note.
  if (cause)
    shared_->note_requested(true, false);
  post([cause = std::move(cause)](scope& s) { s.cancel(cause); });
}

void scope_ref::close() const {
  shared_->note_requested(false, true);
  post([](scope& s) { s.close(); });
}

void scope_ref::abort() const {
  shared_->note_requested(true, true);
  post([](scope& s) { s.abort(); });
}

handle<scope_report> scope_ref::join() const {
  post([](scope& s) { s.join(); });
  return done();
}

caf::error scope_ref::refuse_if_gone() const {
  if (!shared_->gone())
    return {};
  return make_error(errc::scope_closed, path(),
                    "the scope has finished or never started");
}

caf::error scope_ref::set_limit(size_t n) const {
  if (n == 0)
    return make_error(errc::invalid_argument, path(),
                      "the task limit must be at least 1");
  if (auto err = refuse_if_gone())
    return err;
  post([n](scope& s) { s.set_limit(n); });
  return {};
}

caf::error scope_ref::post_duration(caf::timespan x, const char* what,
                                    void (*apply)(scope&,
                                                  caf::timespan)) const {
  if (auto err = refuse_negative(x, path(), what))
    return err;
  if (auto err = refuse_if_gone())
    return err;
  post([x, apply](scope& s) { apply(s, x); });
  return {};
}

caf::error scope_ref::set_grace(caf::timespan grace) const {
  return post_duration(grace, "a grace period",
                       [](scope& s, caf::timespan x) { s.set_grace(x); });
}

caf::error scope_ref::fail_after(caf::timespan timeout) const {
  return post_duration(timeout, "a deadline",
                       [](scope& s, caf::timespan x) { s.fail_after(x); });
}

caf::error scope_ref::move_on_after(caf::timespan timeout) const {
  return post_duration(timeout, "a deadline",
                       [](scope& s, caf::timespan x) { s.move_on_after(x); });
}

std::string scope_ref::path() const {
  return shared_->path();
}

bool scope_ref::is_cancelled() const {
  return shared_->cancelled();
}

bool scope_ref::is_closed() const {
  return shared_->closed();
}

scope_state scope_ref::state() const {
  return shared_->state();
}

bool scope_ref::is_finished() const {
  return shared_->done_state()->ready();
}

child_counts scope_ref::children() const {
  return shared_->counts();
}

handle<cancel_notice> scope_ref::when_cancelled() const {
  return detail::handle_access::make<handle<cancel_notice>>(
    shared_->cancel_state());
}

handle<tree_node> scope_ref::tree(caf::timespan timeout) const {
  auto state = std::make_shared<detail::handle_state<tree_node>>();
  shared_->post(std::make_shared<detail::scope_call>(
    [state, timeout](scope& s) {
      detail::state_of(s).collect_tree(
        [state](tree_node x) { state->resolve(std::move(x)); }, timeout);
    },
    [state](const caf::error& why) { state->resolve(why); }));
  return detail::handle_access::make<handle<tree_node>>(std::move(state));
}

handle<void> scope_ref::when_no_tasks() const {
  auto state = std::make_shared<detail::handle_state<void>>();
  shared_->post(std::make_shared<detail::scope_call>(
    [state](scope& s) {
      s.on_no_tasks([state] { state->resolve(caf::unit); });
    },
    // A scope that is gone has no tasks.
    [state](const caf::error&) { state->resolve(caf::unit); }));
  return detail::handle_access::make<handle<void>>(std::move(state));
}

handle<scope_report> scope_ref::done() const {
  return detail::handle_access::make<handle<scope_report>>(
    shared_->done_state());
}

caf::actor scope_ref::actor() const {
  return shared_->actor();
}

// -- scope_owner --------------------------------------------------------------

scope_owner
detail::ref_access::make_owner(std::shared_ptr<scope_shared> shared) {
  return scope_owner{std::move(shared)};
}

scope_owner::scope_owner(std::shared_ptr<detail::scope_shared> shared)
  : shared_(std::move(shared)) {
  // nop
}

scope_owner::scope_owner(scope_owner&& other) noexcept
  : shared_(std::move(other.shared_)) {
  // nop
}

scope_owner& scope_owner::operator=(scope_owner&& other) noexcept {
  if (this != &other) {
    release();
    shared_ = std::move(other.shared_);
  }
  return *this;
}

scope_owner::~scope_owner() {
  release();
}

namespace {

/// The owner lets go of its scope (see `scope_state`): a scope opened into a
/// cancelled scope, kept open for its owner, may now finish.
void let_go(const std::shared_ptr<detail::scope_shared>& shared) {
  shared->post(std::make_shared<detail::scope_call>(
    [](scope& s) { detail::state_of(s).release_owner(); }, nullptr));
}

} // namespace

void scope_owner::release() noexcept {
  if (!shared_)
    return;
  auto shared = std::move(shared_);
  if (shared->done_state()->ready())
    return;
  try {
    auto ref = detail::ref_access::make(shared);
    ref.cancel(std::string{"its owner was destroyed"});
    let_go(shared);
    // Inside an actor the wait could deadlock; the parent scope still
    // waits for this one.
    if (!detail::on_scheduler_thread())
      shared->done_state()->wait();
  } catch (...) {
    // Out of memory while posting: nothing else to do in a destructor.
  }
}

namespace {

/// What the calls of an owner that owns nothing return.
handle<scope_report> owns_nothing() {
  auto state = std::make_shared<detail::handle_state<scope_report>>();
  state->resolve(make_error(errc::invalid_argument, "",
                            "the scope_owner owns no scope (empty, moved "
                            "from or detached)"));
  return detail::handle_access::make<handle<scope_report>>(std::move(state));
}

} // namespace

handle<scope_report> scope_owner::join() {
  return shared_ ? ref().join() : owns_nothing();
}

handle<scope_report> scope_owner::close() {
  if (!shared_)
    return owns_nothing();
  auto r = ref();
  r.close();
  return r.done();
}

void scope_owner::cancel(std::string why) {
  if (shared_) {
    ref().cancel(std::move(why));
    let_go(shared_);
  }
}

void scope_owner::abort() {
  if (shared_)
    ref().abort();
}

void scope_owner::detach() noexcept {
  if (!shared_)
    return;
  auto shared = std::move(shared_);
  try {
    if (!shared->done_state()->ready())
      let_go(shared);
  } catch (...) {
    // Out of memory while posting: the scope still finishes once joined,
    // closed, cancelled or forced by its parent.
  }
}

scope_ref scope_owner::ref() const {
  return detail::ref_access::make(shared_);
}

handle<scope_report> scope_owner::done() const {
  return shared_ ? detail::handle_access::make<handle<scope_report>>(
                     shared_->done_state())
                 : owns_nothing();
}

scope_owner make_scope(caf::actor_system& sys, scope_options opts) {
  auto shared = std::make_shared<detail::scope_shared>();
  if (opts.grace)
    if (auto err = refuse_negative(*opts.grace, opts.name, "a grace period")) {
      shared->fail_to_start(err);
      return detail::ref_access::make_owner(std::move(shared));
    }
  detail::scope_config cfg;
  cfg.options = std::move(opts);
  if (cfg.options.name.empty())
    cfg.options.name = "scope";
  cfg.join_after_body = false;
  cfg.keep_alive = true;
  cfg.shared = shared;
  cfg.owned = true;
  detail::spawn_scope_actor(sys, std::move(cfg));
  return detail::ref_access::make_owner(std::move(shared));
}

} // namespace scaf
