// The admin calls of scaf::supervisor (see supervisor_impl.hpp):
// start/terminate/restart/delete/which/count, their refusals, and the CAF
// messages that carry them. Spec checks: supervisor_specs.cpp; a pool's
// worker calls: pool_calls.cpp.
#include "supervisor_impl.hpp"

#include <set>
#include <utility>

#include "scaf/atoms.hpp"
#include "scaf/errc.hpp"
#include "scaf/supervisor_atoms.hpp"

namespace scaf::supervision {

void supervisor_impl::start_child(child_spec spec,
                                  reply<started_child> reply_to) {
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
  // (A pool's worker names are ids that survive its restarts.)
  enqueue_call(std::move(reply_to), [this, name](auto& done) {
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
    start_by_call(*find(name), actor_only(std::move(done)));
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

void supervisor_impl::get_childspec(const std::string& name,
                                    reply<child_spec> reply_to) {
  enqueue_call(std::move(reply_to), [this, name](auto& done) {
    if (auto key = find(name)) {
      auto& c = children_.at(*key);
      auto spec = c.spec;
      spec.options.shutdown = c.shutdown; // resolved: `start` may be gone
      done(std::move(spec));
    } else
      done(no_such_child(name));
    return true;
  });
}

void supervisor_impl::which_child(const std::string& name,
                                  reply<child_info> reply_to) {
  enqueue_call(std::move(reply_to), [this, name](auto& done) {
    if (auto key = find(name))
      done(info_of(children_.at(*key)));
    else
      done(no_such_child(name));
    return true;
  });
}

void supervisor_impl::check_childspecs(std::vector<child_spec> specs,
                                       reply<void> reply_to) {
  enqueue_call(
    std::move(reply_to), [this, specs = std::move(specs)](auto& done) {
      if (auto err = refuse_wrong_kind(false, "starts workers from its "
                                              "template, with arguments")) {
        done(err);
        return true;
      }
      std::set<std::string> names;
      for (auto& spec : specs) {
        if (auto err = refuse_start(spec)) {
          done(err);
          return true;
        }
        if (!names.insert(spec.options.name).second) {
          done(invalid(path_,
                       "two children are named '" + spec.options.name + "'"));
          return true;
        }
      }
      done(caf::unit);
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
    result.push_back(info_of(c));
  return result;
}

child_info supervisor_impl::info_of(const child_entry& c) const {
  return {c.spec.options.name,
          c.state,
          c.actor,
          c.restarts,
          c.spec.options.restart,
          c.spec.options.significant,
          c.scope};
}

supervisor_counts supervisor_impl::counts() const {
  supervisor_counts result;
  // A pool's spec is its template (OTP).
  result.specs = pool_ ? 1 : children_.size();
  for (auto& [key, c] : children_) {
    if (c.actor)
      ++result.active;
    if (c.scope)
      ++result.supervisors;
    else
      ++result.workers;
  }
  return result;
}

caf::error refuse_shape(const std::string& path, const caf::message& msg) {
  if (msg.empty() || !msg.match_element<caf::atom_value>(0))
    return {};
  struct call_shape {
    caf::atom_value atom;
    const char* shape;
  };
  static const call_shape shapes[] = {
    {start_child_atom::value,
     "(start_child_atom, scaf::child_spec), or for a pool (start_child_atom, "
     "caf::make_message(args...))"},
    {start_child_with_info_atom::value,
     "(start_child_with_info_atom, scaf::child_spec), or for a pool "
     "(start_child_with_info_atom, caf::make_message(args...))"},
    {terminate_child_atom::value,
     "(terminate_child_atom, std::string name) or (terminate_child_atom, "
     "caf::actor)"},
    {restart_child_atom::value, "(restart_child_atom, std::string name)"},
    {delete_child_atom::value, "(delete_child_atom, std::string name)"},
    {get_childspec_atom::value, "(get_childspec_atom, std::string name)"},
    {which_child_atom::value, "(which_child_atom, std::string name)"},
    {check_childspecs_atom::value,
     "(check_childspecs_atom, std::vector<scaf::child_spec>)"},
    {which_children_atom::value, "(which_children_atom)"},
    {count_children_atom::value, "(count_children_atom)"},
  };
  auto atom = msg.get_as<caf::atom_value>(0);
  for (auto& x : shapes)
    if (x.atom == atom)
      return invalid(path, std::string{"the call takes "} + x.shape + ", not " +
                             caf::to_string(msg));
  return {};
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
    auto& running = children_.at(i->second).actor;
    auto detail = "child '" + spec.options.name + "' is " +
                  (running ? "already started" : "already present");
    if (!running)
      return make_error(errc::child_exists, path_, std::move(detail));
    // OTP's {already_started, Child}: the actor travels with the error.
    return caf::error{
      static_cast<uint8_t>(errc::child_exists), errc_category,
      caf::make_message(path_, std::move(detail), running.address())};
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
                                        caf::expected<caf::actor> x,
                                        caf::message info) {
  auto waiters = std::move(c.up_waiters);
  c.up_waiters.clear();
  for (auto& done : waiters)
    if (x)
      done(started_child{*x, c.spec.options.name, info});
    else
      done(x.error());
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
        self->start_child(std::move(spec), actor_only(std::move(done)));
      });
    },
    [self](start_child_with_info_atom, child_spec& spec) {
      self->answer<started_child>([&](reply<started_child> done) {
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
        self->start_worker(args, actor_only(std::move(done)));
      });
    },
    [self](start_child_with_info_atom, const caf::message& args) {
      self->answer<started_child>([&](reply<started_child> done) {
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
    [self](get_childspec_atom, std::string& name) {
      self->answer<child_spec>([&](reply<child_spec> done) {
        self->get_childspec(name, std::move(done));
      });
    },
    [self](which_child_atom, std::string& name) {
      self->answer<child_info>([&](reply<child_info> done) {
        self->which_child(name, std::move(done));
      });
    },
    [self](check_childspecs_atom, std::vector<child_spec>& specs) {
      self->answer<void>([&](reply<void> done) {
        self->check_childspecs(std::move(specs), std::move(done));
      });
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
    [self](retry_child_atom, uint64_t key, uint64_t backoff_gen) {
      if (!self->from_self())
        return;
      self->due_.push_back({key, backoff_gen});
      self->after_sequence();
    },
    [self](resume_starts_atom, uint64_t gen) {
      if (self->from_self())
        self->wait_over(gen);
    },
  };
}

} // namespace scaf::supervision
