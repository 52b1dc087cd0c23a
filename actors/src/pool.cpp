// scaf::pool: OTP's simple_one_for_one, a supervisor whose children are
// workers made from one template (supervisor_impl.hpp), and the untyped
// calls behind pool_ref.
#include "scaf/pool.hpp"

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "scaf/errc.hpp"
#include "scaf/promise.hpp"

#include "supervisor_impl.hpp"

namespace scaf {

// -- pool ---------------------------------------------------------------------

child_factory pool(supervisor_options opts, pool_template workers) {
  auto shared = std::make_shared<const pool_template>(std::move(workers));
  auto opts_of_scope = supervision::supervisor_scope();
  opts_of_scope.kind = "pool";
  return scope_factory(
    std::move(opts_of_scope),
    [opts = std::move(opts), workers = std::move(shared)](scope& s) {
      if (auto err = supervision::check_pool(opts, *workers, s.path())) {
        s.fail(std::move(err));
        return;
      }
      std::make_shared<supervision::supervisor_impl>(
        s, opts, std::vector<child_spec>{}, workers)
        ->start();
    });
}

// -- pool_ref_base ------------------------------------------------------------

caf::expected<const std::any*>
pool_ref_base::start_of(const supervisor_ref& sup) {
  if (!sup.link_)
    return make_error(errc::invalid_argument, "",
                      "a supervisor_ref that refers to no supervisor");
  if (!sup.link_->pool)
    return make_error(errc::invalid_argument, sup.link_->scope.path(),
                      "the supervisor is no pool");
  return &sup.link_->pool->start;
}

namespace {

/// Makes a worker with `make` (here, on the caller's thread) and starts it
/// in the pool `link` refers to; `answer` turns the pool's reply into `T`.
template <class T, class Answer>
handle<T> start_worker_as(const std::shared_ptr<supervisor_ref::link>& link,
                          const std::function<child_factory()>& make,
                          Answer answer) {
  auto fail = [](caf::error err) {
    promise<T> p;
    p.resolve(std::move(err));
    return p.get_handle();
  };
  if (!link)
    return fail(make_error(errc::invalid_argument, "",
                           "a pool_ref that refers to no pool"));
  caf::expected<child_factory> worker{child_factory{}};
  std::string failure;
  try {
    worker = make();
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "an exception";
  }
  if (!failure.empty())
    return fail(make_error(errc::invalid_argument, link->scope.path(),
                           "making the worker threw: " + failure));
  return supervision::call<T>(
    link, [worker, answer](supervision::supervisor_impl& impl,
                           supervision::reply<T> done) {
      impl.start_worker(worker, answer(std::move(done)));
    });
}

} // namespace

handle<caf::actor>
pool_ref_base::start_worker(const supervisor_ref& sup,
                            const std::function<child_factory()>& make) {
  return start_worker_as<caf::actor>(sup.link_, make, [](auto done) {
    return supervision::actor_only(std::move(done));
  });
}

handle<started_child> pool_ref_base::start_worker_with_info(
  const supervisor_ref& sup, const std::function<child_factory()>& make) {
  return start_worker_as<started_child>(sup.link_, make,
                                        [](auto done) { return done; });
}

caf::error pool_ref_base::wrong_arguments(const supervisor_ref& sup) {
  return make_error(errc::invalid_argument, sup.scope().path(),
                    "the pool's workers take other arguments");
}

} // namespace scaf
