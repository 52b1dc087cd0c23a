#pragma once

#include <tuple>
#include <type_traits>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/scoped_actor.hpp>

#include <caf/allowed_unsafe_message_type.hpp>

#include "scaf/atoms.hpp"
#include "scaf/child_factory.hpp"
#include "scaf/detail/blocking.hpp"
#include "scaf/errc.hpp"
#include "scaf/scope_options.hpp"

namespace scaf {

/// The payload of `(spawn_atom, spawn_request)`: asks a scope to spawn a
/// child from `factory` with `options`. The scope responds with the child's
/// actor, or with an error: `errc::scope_closed` if it is closed or
/// finishing, `errc::task_exception` if copying the arguments in the scope
/// threw (nothing ran), `errc::invalid_argument` for an empty factory or a
/// negative grace period. A scope that is gone cannot answer: CAF then
/// responds `caf::sec::request_receiver_down` (`spawn_in` maps it to
/// `errc::scope_closed`). An exception once the child runs (its function,
/// or the copies into its parameters) is a failure of that child, which its
/// scope sees. Local only: it carries a closure, so it cannot cross to
/// another node.
struct spawn_request {
  /// The child's name, whether it is a background child, its grace period.
  spawn_options options;
  /// What to spawn.
  child_factory factory;
};

/// Packs the task `fun(self, xs...)` into a request that any actor can send
/// to a scope it does not run in: `self->request(scope, timeout,
/// scaf::spawn_atom::value, make_spawn_request(...))`. The arguments are
/// copied into the request.
template <class F, class... Ts>
spawn_request make_spawn_request(spawn_options opts, F fun, Ts&&... xs) {
  return {std::move(opts),
          task_factory(std::move(fun), std::forward<Ts>(xs)...)};
}

/// Spawns the task `fun(self, xs...)` into the scope `scope_hdl` from outside
/// any actor and blocks until the scope answered. Returns the task's handle,
/// `errc::scope_closed`, or the error of a scope that is gone.
template <class F, class... Ts>
caf::expected<caf::actor> spawn_in(caf::actor_system& sys,
                                   const caf::actor& scope_hdl,
                                   spawn_options opts, F fun, Ts&&... xs) {
  detail::blocking_section section{"scaf::spawn_in"};
  if (section.refused())
    return section.error();
  caf::scoped_actor self{sys};
  caf::expected<caf::actor> result{caf::actor{}};
  self
    ->request(scope_hdl, caf::infinite, spawn_atom::value,
              make_spawn_request(std::move(opts), std::move(fun),
                                 std::forward<Ts>(xs)...))
    .receive([&](caf::actor& hdl) { result = std::move(hdl); },
             [&](caf::error& err) {
               if (err == caf::sec::request_receiver_down)
                 result =
                   make_error(errc::scope_closed, "", "the scope has finished");
               else
                 result = std::move(err);
             });
  return result;
}

} // namespace scaf

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(scaf::spawn_request)
