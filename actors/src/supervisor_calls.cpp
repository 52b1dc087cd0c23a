// The admin calls of scaf::supervisor (see supervisor_impl.hpp):
// start/terminate/restart/delete/which/count, their refusals, and the CAF
// messages that carry them. Spec checks: supervisor_specs.cpp; a pool's
// worker calls: pool_calls.cpp.
#include "supervisor_impl.hpp"

#include <utility>

#include "scaf/atoms.hpp"
#include "scaf/errc.hpp"
#include "scaf/supervisor_atoms.hpp"

namespace scaf::supervision {

void supervisor_impl::start_child(child_spec spec, reply<caf::actor> reply_to) {
  enqueue_call(std::move(reply_to), [this, spec = std::move(spec)](auto& done) {
    if (auto err = refuse_wrong_kind(false, "starts workers from its "
                                            "template, with arguments")) {
      done(err);
      return true;
    }
    if (auto err = refuse_start(spec)) {
      done(err);
      return true;
    }
    if (waiting_backoff_)
      return false; // the restart the backoff waits for comes first
    auto key = add(std::move(spec));
    children_.at(key).fresh = true;
    start_by_call(key, std::move(done));
    return true;
  });
}

void supervisor_impl::terminate_child(const std::string& name,
                                      reply<void> reply_to) {
  enqueue_call(std::move(reply_to), [this, name](auto& done) {
    if (auto err = refuse_wrong_kind(false, "stops workers by actor")) {
      done(err);
      return true;
    }
    auto key = find(name);
    if (!key)
      done(no_such_child(name));
    else
      terminate(*key, std::move(done));
    return true;
  });
}

void supervisor_impl::terminate(uint64_t key, reply<void> done) {
  auto& c = children_.at(key);
  c.terminated = true;
  if (!c.actor) {
    // Stopped, or waiting for its restart: it stays stopped.
    std::erase(to_start_, key);
    stopped(key);
    done(caf::unit);
    return;
  }
  c.stop_waiters.push_back(std::move(done));
  // (A shutdown under way stops it anyway.)
  if (!shutting_down_)
    stop_one(key);
}

void supervisor_impl::restart_child(const std::string& name,
                                    reply<caf::actor> reply_to) {
  enqueue_call(std::move(reply_to), [this, name](auto& done) {
    if (auto err = refuse_wrong_kind(false, "starts new workers instead of "
                                            "restarting stopped ones")) {
      done(err);
      return true;
    }
    if (auto err = refuse_restart(name)) {
      done(err);
      return true;
    }
    if (waiting_backoff_)
      return false; // the restart the backoff waits for comes first
    start_by_call(*find(name), std::move(done));
    return true;
  });
}

void supervisor_impl::delete_child(const std::string& name,
                                   reply<void> reply_to) {
  enqueue_call(std::move(reply_to), [this, name](auto& done) {
    auto key = find(name);
    if (auto wrong = refuse_wrong_kind(false, "forgets stopped workers by "
                                              "itself"))
      done(wrong);
    else if (!key)
      done(no_such_child(name));
    else if (auto running = refuse_unless_stopped(*key))
      done(running);
    else {
      forget(*key);
      done(caf::unit);
    }
    return true;
  });
}

void supervisor_impl::which_children(reply<std::vector<child_info>> reply_to) {
  enqueue_call(std::move(reply_to), [this](auto& done) {
    done(children());
    return true;
  });
}

void supervisor_impl::count_children(reply<supervisor_counts> reply_to) {
  enqueue_call(std::move(reply_to), [this](auto& done) {
    done(counts());
    return true;
  });
}

std::vector<child_info> supervisor_impl::children() const {
  std::vector<child_info> result;
  result.reserve(children_.size());
  for (auto& [key, c] : children_)
    result.push_back({c.spec.options.name, c.state, c.actor, c.restarts,
                      c.spec.options.restart, c.spec.options.significant,
                      c.spec.start.spawns_scope()});
  return result;
}

supervisor_counts supervisor_impl::counts() const {
  supervisor_counts result;
  // A pool's spec is its template (OTP).
  result.specs = pool_ ? 1 : children_.size();
  for (auto& [key, c] : children_) {
    if (c.actor)
      ++result.active;
    if (c.spec.start.spawns_scope())
      ++result.supervisors;
    else
      ++result.workers;
  }
  return result;
}

supervisor_ref supervisor_impl::ref() const {
  return supervisor_ref{link_};
}

caf::error supervisor_impl::closed_error() const {
  return make_error(errc::scope_closed, path_,
                    "the supervisor is shutting down");
}

caf::error supervisor_impl::no_such_child(const std::string& name) const {
  return make_error(errc::no_such_child, s_.path(),
                    "no child is named '" + name + "'");
}

caf::error supervisor_impl::refuse_if_closing() const {
  return shutting_down_ || s_.is_closed() ? closed_error() : caf::error{};
}

caf::error supervisor_impl::refuse_start(const child_spec& spec) const {
  if (auto err = refuse_if_closing())
    return err;
  if (auto err = check_child(options_, spec, path_))
    return err;
  if (auto i = names_.find(spec.options.name); i != names_.end()) {
    auto running = children_.at(i->second).actor != nullptr;
    return make_error(errc::child_exists, path_,
                      "child '" + spec.options.name + "' is " +
                        (running ? "already started" : "already present"));
  }
  return {};
}

caf::error supervisor_impl::refuse_wrong_kind(bool for_pools,
                                              const char* what) const {
  if (for_pools == (pool_ != nullptr))
    return {};
  return make_error(errc::invalid_argument, path_,
                    std::string{pool_ ? "a pool " : "the supervisor "} + what);
}

caf::error supervisor_impl::refuse_restart(const std::string& name) const {
  if (auto err = refuse_if_closing())
    return err;
  auto key = find(name);
  if (!key)
    return no_such_child(name);
  return refuse_unless_stopped(*key);
}

caf::error supervisor_impl::refuse_unless_stopped(uint64_t key) const {
  auto& c = children_.at(key);
  auto& name = c.spec.options.name;
  switch (c.state) {
  case child_state::starting:
  case child_state::running:
    return make_error(errc::child_running, s_.path(),
                      "child '" + name + "' is running");
  case child_state::restarting:
    return make_error(errc::child_restarting, s_.path(),
                      "child '" + name + "' is restarting");
  case child_state::stopped:
    break;
  }
  return {};
}

void supervisor_impl::settle_up_waiters(child_entry& c,
                                        caf::expected<caf::actor> x) {
  auto waiters = std::move(c.up_waiters);
  c.up_waiters.clear();
  for (auto& done : waiters)
    done(x);
}

void supervisor_impl::refuse_all(const caf::error& why) {
  for (auto& [key, c] : children_) {
    settle_up_waiters(c, why);
    auto waiters = std::move(c.stop_waiters);
    c.stop_waiters.clear();
    for (auto& done : waiters)
      done(caf::unit);
  }
}

caf::message_handler supervisor_impl::admin_handler() {
  auto self = shared_from_this();
  return {
    [self](start_child_atom, child_spec& spec) {
      self->answer<caf::actor>([&](reply<caf::actor> done) {
        self->start_child(std::move(spec), std::move(done));
      });
    },
    [self](terminate_child_atom, std::string& name) {
      self->answer<void>([&](reply<void> done) {
        self->terminate_child(name, std::move(done));
      });
    },
    [self](start_child_atom, const caf::message& args) {
      self->answer<caf::actor>([&](reply<caf::actor> done) {
        self->start_worker(args, std::move(done));
      });
    },
    [self](terminate_child_atom, const caf::actor& worker) {
      self->answer<void>([&](reply<void> done) {
        self->terminate_worker(worker, std::move(done));
      });
    },
    [self](restart_child_atom, std::string& name) {
      self->answer<caf::actor>([&](reply<caf::actor> done) {
        self->restart_child(name, std::move(done));
      });
    },
    [self](delete_child_atom, std::string& name) {
      self->answer<void>(
        [&](reply<void> done) { self->delete_child(name, std::move(done)); });
    },
    [self](which_children_atom) {
      self->answer<std::vector<child_info>>(
        [&](reply<std::vector<child_info>> done) {
          self->which_children(std::move(done));
        });
    },
    [self](count_children_atom) {
      self->answer<supervisor_counts>([&](reply<supervisor_counts> done) {
        self->count_children(std::move(done));
      });
    },
    [self](supervisor_ref_atom) { return self->ref(); },
  };
}

} // namespace scaf::supervision
