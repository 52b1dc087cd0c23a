#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/behavior.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>
#include <caf/timespan.hpp>

#include "scaf/errc.hpp"
#include "scaf/handle.hpp"
#include "scaf/promise.hpp"
#include "scaf/remote_tasks.hpp"
#include "scaf/scope.hpp"
#include "scaf/scope_ref.hpp"
#include "scaf/task.hpp"

namespace scaf {

/// How `connect` talks to a node.
struct connect_options {
  /// How long to wait for the node to answer (the connection, the
  /// handshake, and later each spawn request) before failing with
  /// `errc::node_down`.
  caf::timespan timeout = std::chrono::seconds{5};
};

/// A node this process spawns children on (made by `connect`): its entry
/// actor, its name (`host:port`, the suffix of its children's names) and
/// the tasks it offers. Cheap to copy; valid from any thread.
class remote_node {
public:
  remote_node() = default;

  /// `host:port`, as given to `connect`.
  const std::string& name() const noexcept;

  /// The tasks the node offers, one signature each, as CAF names the types:
  /// `hash(@str) -> @str`.
  const std::vector<std::string>& offers() const noexcept;

  /// Asks the node how many remote children it runs now (for all its
  /// callers). Blocking (`errc::would_deadlock` on a scheduler thread);
  /// `errc::node_down` if it does not answer within the timeout.
  caf::expected<size_t> hosted() const;

  /// Returns whether it refers to a connected node.
  explicit operator bool() const noexcept {
    return state_ != nullptr;
  }

  /// @private
  struct state;

  /// @private
  explicit remote_node(std::shared_ptr<const state> st)
    : state_(std::move(st)) {
    // nop
  }

  /// @private
  const std::shared_ptr<const state>& get() const noexcept {
    return state_;
  }

private:
  std::shared_ptr<const state> state_;
};

/// Connects to the scaf node at `host:port` (see `scaf/node.hpp`) and
/// checks that it runs the same node protocol with the same heartbeat and
/// connection timeout as this process (`errc::protocol_mismatch`
/// otherwise, with both). `sys` must have been configured with `scaf::init`
/// and `scaf::init_network`. Blocking (`errc::would_deadlock` on a
/// scheduler thread); `errc::node_down` if nothing answers within
/// `opts.timeout`.
caf::expected<remote_node> connect(caf::actor_system& sys,
                                   const std::string& host, uint16_t port,
                                   connect_options opts = {});

/// @private Everything a remote child's local stand-in needs.
struct remote_request {
  remote_node node;
  remote_signature signature;
  caf::message args;
  caf::timespan grace;
  /// Takes the child's value (or error) from the wire; returns an error if
  /// the value is not of the expected type.
  std::function<caf::error(caf::expected<caf::message>)> deliver;
};

/// @private The value of a remote child whose result type is `R`, from the
/// message that came back: `errc::type_mismatch` unless it holds exactly
/// one `R` (nothing, for `void`).
template <class R>
caf::expected<R> decode_remote_value(const caf::message& x) {
  auto mismatch = [] {
    return make_error(errc::type_mismatch, "",
                      "the value that came back is not of the task's result "
                      "type");
  };
  if constexpr (std::is_void_v<R>) {
    if (!x.empty())
      return mismatch();
    return {};
  } else {
    if (x.size() != 1 || !x.template match_elements<R>())
      return mismatch();
    return x.template get_as<R>(0);
  }
}

/// @private Checks `sig` against what `node` offers, in `sys`'s types.
caf::error check_remote_spawn(caf::actor_system& sys, const remote_node& node,
                              const remote_signature& sig);

/// @private `task@node#N`, N counting the remote children this process
/// spawned (siblings need names of their own).
std::string remote_child_name(const std::string& task, const remote_node& node);

/// @private The local stand-in of a remote child (see `spawn_remote`).
caf::behavior remote_child(task_actor* self,
                           std::shared_ptr<const remote_request> req);

/// Spawns the task `task(xs...)` registered on `node` as a child of `s`. The
/// child is a child like any other: it counts toward `s`'s completion, a
/// cancel of `s` (or of the child, by `scope::cancel_child` on its local
/// stand-in; the returned handle cannot cancel it) reaches it across the
/// wire with its reason, it gets its grace period there and is then killed
/// there (a function task is told to stop, not killed), its
/// failure is a failure of `s` (the first one wins, local or remote), and
/// its value comes back through the returned handle. Its name defaults to
/// `task@node#N` (e.g. `hash@127.0.0.1:4242#7`, N counting this process's
/// remote children), so paths and reports say where it ran.
///
/// `R` is the task's registered result type (`void` for a behavior task)
/// and the arguments travel as `remote_arg_t<Ts>` (string literals as
/// `std::string`); a task the node does not offer gives
/// `errc::unknown_task`, other types `errc::type_mismatch` (both with what
/// the node offers), before anything is spawned. The handle resolves with
/// the value; with the child's error if it failed; with `errc::cancelled`
/// if it was cancelled; with `errc::node_down` (naming the node and the
/// child) if the node was lost, which also fails `s`.
template <class R, class... Ts>
handle<R> spawn_remote(scope& s, const remote_node& node, spawn_options opts,
                       std::string task, Ts&&... xs) {
  promise<R> result;
  auto sig = remote_signature::of<R, remote_arg_t<Ts>...>(std::move(task));
  if (auto err = check_remote_spawn(s.self()->system(), node, sig)) {
    result.resolve(std::move(err));
    return result.get_handle();
  }
  auto req = std::make_shared<remote_request>();
  req->node = node;
  req->grace = opts.grace ? *opts.grace : s.grace();
  req->args = caf::make_message(remote_arg_t<Ts>(std::forward<Ts>(xs))...);
  req->deliver = [result](caf::expected<caf::message> x) -> caf::error {
    if (!x) {
      result.resolve(x.error());
      return {};
    }
    auto value = decode_remote_value<R>(*x);
    auto err = value ? caf::error{} : value.error();
    result.resolve(std::move(value));
    return err;
  };
  if (opts.name.empty())
    opts.name = remote_child_name(sig.name, node);
  if (opts.kind.empty())
    opts.kind = "remote";
  req->signature = std::move(sig);
  auto spawned = s.spawn(opts, remote_child,
                         std::shared_ptr<const remote_request>{std::move(req)});
  if (!spawned)
    result.resolve(std::move(spawned.error()));
  return result.get_handle();
}

/// Spawns the task `task(xs...)` on `node` as a child of the scope that
/// `ref` refers to, from any thread or actor: as the overload above, run in
/// the scope through `scope_ref::call`. The handle resolves with
/// `errc::scope_closed` if the scope is gone.
template <class R, class... Ts>
handle<R> spawn_remote(const scope_ref& ref, const remote_node& node,
                       spawn_options opts, std::string task, Ts&&... xs) {
  return ref.call(
    [node, opts = std::move(opts), task = std::move(task),
     ... args = remote_arg_t<Ts>(std::forward<Ts>(xs))](scope& s) mutable {
      return spawn_remote<R>(s, node, std::move(opts), std::move(task),
                             std::move(args)...);
    });
}

} // namespace scaf
