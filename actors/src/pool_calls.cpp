// A pool's own admin calls (see supervisor_impl.hpp): starting a worker from
// the template, with arguments from a pool_ref or a message, and stopping a
// worker by its actor.
#include "supervisor_impl.hpp"

#include <atomic>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "scaf/errc.hpp"

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

} // namespace

void supervisor_impl::start_worker(caf::expected<child_factory> worker,
                                   reply<started_child> reply_to) {
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
      // The pool's one shutdown time, whatever the worker spawns.
      opts.shutdown = child_spec{pool_->options, {}}.shutdown();
      auto key = add({std::move(opts), *worker});
      children_.at(key).fresh = true;
      start_by_call(key, std::move(done));
      return true;
    });
}

void supervisor_impl::start_worker(const caf::message& args,
                                   reply<started_child> done) {
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
    if (!worker) {
      done(invalid(path_, "an empty actor is no worker"));
      return true;
    }
    if (!pool_) {
      // OTP: a supervisor's children are found by id, never by pid.
      done(make_error(errc::no_such_child, s_.path(),
                      "the supervisor's children are stopped by name, and "
                      "an actor is no name"));
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

} // namespace scaf::supervision
