// The admin calls of scaf::supervisor (see supervisor_impl.hpp): the spec
// checks, start/terminate/restart/delete/which/count, their refusals, and the
// CAF messages that carry them.
#include "supervisor_impl.hpp"

#include <atomic>
#include <memory>
#include <set>
#include <utility>

#include "scaf/atoms.hpp"
#include "scaf/errc.hpp"
#include "scaf/names.hpp"

namespace scaf::supervision {

namespace {

/// Notes that the actor it is attached to has ended. CAF runs it at once, in
/// `attach`, on an actor that has ended already.
class end_probe : public caf::attachable {
public:
  explicit end_probe(std::shared_ptr<std::atomic<bool>> ended)
    : ended_(std::move(ended)) {
    // nop
  }

  void actor_exited(const caf::error&, caf::execution_unit*) override {
    ended_->store(true);
  }

  bool matches(const token& what) override {
    return what.subtype == token::anonymous && what.ptr == this;
  }

private:
  std::shared_ptr<std::atomic<bool>> ended_;
};

/// Whether the actor `x` has ended.
bool has_ended(const caf::actor& x) {
  auto ended = std::make_shared<std::atomic<bool>>(false);
  auto probe = new end_probe(ended);
  const void* key = probe;
  x->attach(caf::attachable_ptr{probe});
  if (ended->load())
    return true;
  // Still running: the probe goes again (it may have ended meanwhile; it
  // was running when asked).
  x->detach(caf::attachable::token{caf::attachable::token::anonymous, key});
  return false;
}

caf::error invalid(const std::string& path, std::string what) {
  return make_error(errc::invalid_argument, path, std::move(what));
}

/// What is wrong with a supervisor's options, if anything.
caf::error check_options(const supervisor_options& opts,
                         const std::string& path) {
  if (opts.period <= caf::timespan{0})
    return invalid(path, "the restart period must be positive");
  if (opts.backoff < caf::timespan{0} || opts.max_backoff < opts.backoff)
    return invalid(path,
                   "the backoff must be at least 0 and at most max_backoff");
  if (!(opts.backoff_jitter >= 0.0 && opts.backoff_jitter <= 1.0))
    return invalid(path, "the backoff jitter must be between 0 and 1");
  if (opts.backoff_reset && *opts.backoff_reset < caf::timespan{0})
    return invalid(path, "the backoff reset cannot be negative");
  return {};
}

/// What is wrong with how a child named `name` is treated, if anything.
caf::error check_child_options(const supervisor_options& opts,
                               const child_options& c, const std::string& name,
                               const std::string& path) {
  if (auto err = check_name(name, path))
    return err;
  if (c.shutdown < caf::timespan{0})
    return invalid(path, "child '" + name + "' has a negative shutdown time");
  if (c.significant) {
    if (opts.shutdown_when == auto_shutdown::never)
      return invalid(path, "child '" + name +
                             "' is significant, but the supervisor never "
                             "shuts down by itself (auto_shutdown::never)");
    if (c.restart == restart_type::permanent)
      return invalid(path, "child '" + name +
                             "' is significant and permanent: only a "
                             "transient or temporary child can end its "
                             "supervisor");
  }
  return {};
}

} // namespace

caf::error check_child(const supervisor_options& opts, const child_spec& c,
                       const std::string& path) {
  auto& name = c.options.name;
  if (name.empty())
    return invalid(path, "every child needs a name");
  if (auto err = check_child_options(opts, c.options, name, path))
    return err;
  if (!c.start)
    return invalid(path, "child '" + name + "' has no task");
  return {};
}

caf::error check(const supervisor_options& opts,
                 const std::vector<child_spec>& children,
                 const std::string& path) {
  if (auto err = check_options(opts, path))
    return err;
  std::set<std::string> names;
  for (auto& c : children) {
    if (auto err = check_child(opts, c, path))
      return err;
    if (!names.insert(c.options.name).second)
      return invalid(path, "two children are named '" + c.options.name + "'");
  }
  return {};
}

caf::error check_pool(const supervisor_options& opts,
                      const pool_template& workers, const std::string& path) {
  if (opts.strategy != restart_strategy::one_for_one)
    return invalid(path, "a pool restarts each worker on its own: its "
                         "strategy must be one_for_one");
  if (opts.shutdown_when != auto_shutdown::never)
    return invalid(path, "a pool never shuts down by itself: its "
                         "shutdown_when must be auto_shutdown::never");
  if (auto err = check_options(opts, path))
    return err;
  if (!workers.from_message)
    return invalid(path, "the pool's worker template has no start function");
  // The checks of a child named as the first worker.
  return check_child_options(opts, workers.options,
                             worker_name(workers.options, 1), path);
}

std::string worker_name(const child_options& opts, uint64_t n) {
  return (opts.name.empty() ? std::string{"worker"} : opts.name) + "-" +
         std::to_string(n);
}

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

void supervisor_impl::start_worker(caf::expected<child_factory> worker,
                                   reply<caf::actor> reply_to) {
  enqueue_call(
    std::move(reply_to), [this, worker = std::move(worker)](auto& done) {
      if (auto err = refuse_wrong_kind(true, "is no pool: start_child takes "
                                             "a child_spec")) {
        done(err);
        return true;
      }
      if (auto err = refuse_if_closing()) {
        done(err);
        return true;
      }
      if (!worker) {
        done(worker.error());
        return true;
      }
      if (!*worker) {
        done(invalid(path_, "the worker template made no task"));
        return true;
      }
      if (waiting_backoff_)
        return false; // the restart the backoff waits for comes first
      auto opts = pool_->options;
      opts.name = worker_name(opts, ++workers_started_);
      auto key = add({std::move(opts), *worker});
      children_.at(key).fresh = true;
      start_by_call(key, std::move(done));
      return true;
    });
}

void supervisor_impl::start_worker(const caf::message& args,
                                   reply<caf::actor> done) {
  if (!pool_ || !pool_->from_message) {
    start_worker(child_factory{}, std::move(done));
    return;
  }
  caf::expected<child_factory> worker{child_factory{}};
  try {
    if (auto made = pool_->from_message(args))
      worker = std::move(*made);
    else
      worker = invalid(path_, "the arguments are not the ones the pool's "
                              "workers take");
  } catch (const std::exception& e) {
    worker =
      invalid(path_, std::string{"making the worker threw: "} + e.what());
  } catch (...) {
    worker = invalid(path_, "making the worker threw");
  }
  start_worker(std::move(worker), std::move(done));
}

void supervisor_impl::terminate_worker(const caf::actor& worker,
                                       reply<void> reply_to) {
  enqueue_call(std::move(reply_to), [this, worker](auto& done) {
    if (auto err = refuse_wrong_kind(true, "is no pool: it stops children "
                                           "by name")) {
      done(err);
      return true;
    }
    if (!worker) {
      done(invalid(path_, "an empty actor is no worker"));
      return true;
    }
    auto i = actors_.find(worker.id());
    if (i != actors_.end()) {
      // A worker, running or waiting for its restart.
      terminate(i->second, std::move(done));
      return true;
    }
    if (has_ended(worker))
      done(caf::unit); // a worker that ended and was forgotten (OTP: ok)
    else
      done(make_error(errc::no_such_child, s_.path(),
                      "actor " + std::to_string(worker.id()) +
                        " is no worker of this pool"));
    return true;
  });
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
