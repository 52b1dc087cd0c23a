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
  /// handshake, and later `remote_node::hosted`) before failing with
  /// `errc::node_down`. A spawn request has no timeout: the node is watched
  /// through its connection (`network_options`), and a burst of requests
  /// may queue there for longer while it is well.
  caf::timespan timeout = std::chrono::seconds{5};
};

/// A node this process spawns children on (made by `connect`): its entry
/// actor, its name (`host:port`, the suffix of its children's names) and
/// the tasks it offers. Cheap to copy; valid from any thread.
class remote_node {
public:
  remote_node() = default;

  /// The node's own name (`node_options::name`; by default `host:port` of
  /// the address it listens on): the root of its paths, the suffix of its
  /// children's names, and the node every error from it names.
  const std::string& name() const noexcept;

  /// `host:port`, as given to `connect`.
  const std::string& address() const noexcept;

  /// The tasks the node offers, one signature each, as CAF names the types:
  /// `hash(@str) -> @str`.
  const std::vector<std::string>& offers() const noexcept;

  /// Asks the node how many remote children it runs now (for all its
  /// callers: its load). Blocking (`errc::would_deadlock` on a scheduler
  /// thread); `errc::node_down` at once for a node already known lost, and
  /// if it does not answer within the timeout.
  caf::expected<size_t> hosted() const;

  /// A handle that resolves with `errc::node_down` (naming the node) once
  /// the node is lost: its connection closed or timed out, or it was gone
  /// already. In or out of a scope; from an actor, `then` runs on its
  /// thread. `errc::invalid_argument` for a `remote_node` that refers to no
  /// node.
  handle<void> when_down() const;

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

/// `connect` for actors, which must not block: returns at once, and the
/// handle resolves with the node or with the error `connect` would return
/// (`handle::then` delivers it on the calling actor's thread). Needs no
/// thread of its own; a short-lived actor does the requests.
handle<remote_node> connect_async(caf::actor_system& sys,
                                  const std::string& host, uint16_t port,
                                  connect_options opts = {});

/// @private Where a cluster may place a child (see `scaf/cluster.hpp`).
struct cluster_state;

/// @private A child's share of its node's load in a cluster.
class cluster_ticket;

/// @private Everything a remote child's local stand-in needs.
struct remote_request {
  /// Where it runs first.
  remote_node node;
  remote_signature signature;
  caf::message args;
  caf::timespan grace{0};
  /// What the live tree calls the stand-in (`spawn_options::kind`).
  std::string kind;
  /// Set for a child spawned into a cluster: the cluster, its place there
  /// (counted from the placement on), the nodes that offer the task, and
  /// how many runs it may take (more than one for an idempotent child).
  std::shared_ptr<cluster_state> cluster;
  std::shared_ptr<cluster_ticket> ticket;
  std::vector<size_t> eligible;
  uint32_t max_attempts = 1;
};

/// @private Takes the child's value from the wire; returns an error if it
/// is not of the expected type.
using remote_delivery = std::function<caf::error(const caf::message&)>;

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
                           std::shared_ptr<const remote_request> req,
                           remote_delivery deliver);

/// @private The stand-in of a remote child with a value of type `R`.
template <class R>
caf::behavior
remote_child_with_result(task_actor* self, task_result<R> result,
                         std::shared_ptr<const remote_request> req) {
  return remote_child(self, std::move(req),
                      [result](const caf::message& x) -> caf::error {
                        auto value = decode_remote_value<R>(x);
                        if (!value)
                          return std::move(value.error());
                        result(std::move(*value));
                        return {};
                      });
}

/// @private The stand-in of a remote child without a value.
caf::behavior
remote_child_without_result(task_actor* self,
                            std::shared_ptr<const remote_request> req);

/// @private A handle already resolved with `err`.
template <class R>
handle<R> refused_handle(caf::error err) {
  promise<R> result;
  result.resolve(std::move(err));
  return result.get_handle();
}

/// @private Spawns the stand-in of the child `req` describes into `s`.
template <class R>
handle<R> spawn_remote_request(scope& s, spawn_options opts,
                               std::shared_ptr<remote_request> req) {
  req->grace = opts.grace ? *opts.grace : s.grace();
  if (opts.name.empty())
    opts.name = remote_child_name(req->signature.name, req->node);
  if (opts.kind.empty())
    opts.kind = "remote";
  opts.stand_in = true;
  req->kind = opts.kind;
  std::shared_ptr<const remote_request> creq = std::move(req);
  if constexpr (std::is_void_v<R>) {
    auto spawned = s.spawn(opts, remote_child_without_result, std::move(creq));
    if (!spawned)
      return refused_handle<R>(std::move(spawned.error()));
    auto h = s.handle_of(*spawned);
    if (!h)
      return refused_handle<R>(std::move(h.error()));
    return *h;
  } else {
    return s.spawn_with_result<R>(opts, remote_child_with_result<R>,
                                  std::move(creq));
  }
}

/// Spawns the task `task(xs...)` registered on `node` as a child of `s`. The
/// child is a child like any other of its kind (see `remote_tasks`): it
/// counts toward `s`'s completion; a cancel of `s`, or of the child through
/// the returned handle or `scope::cancel_child` on its local stand-in,
/// reaches it across the wire with its reason; it gets its grace period
/// there and is then forced there (a function or blocking task is asked to
/// stop and waited for, as a local one); an abort through the handle forces
/// it at once. Its failure is a failure of `s` (the first one wins, local or
/// remote), and its value comes back through the returned handle. Its name
/// defaults to `task@node#N` (e.g. `hash@127.0.0.1:4242#7`, N counting this
/// process's remote children), so paths and reports say where it ran;
/// every error from it names its node.
///
/// `R` is the task's registered result type (`void` for none) and the
/// arguments travel as `remote_arg_t<Ts>` (string literals as
/// `std::string`); a task the node does not offer gives
/// `errc::unknown_task`, other types `errc::type_mismatch` (both with what
/// the node offers), before anything is spawned. The handle resolves as a
/// local child's: with the value; with the child's failure (its error, an
/// exception's `errc::task_exception`); with its cancel reason
/// (`errc::cancelled`); with `errc::killed` if it was forced, here or on its
/// node; with `errc::node_down` (naming the node and the child) if the node
/// was lost, stopped while the child ran, or refused it while stopping,
/// which also fails `s`.
template <class R, class... Ts>
handle<R> spawn_remote(scope& s, const remote_node& node, spawn_options opts,
                       std::string task, Ts&&... xs) {
  auto sig = remote_signature::of<R, remote_arg_t<Ts>...>(std::move(task));
  if (auto err = check_remote_spawn(s.self()->system(), node, sig))
    return refused_handle<R>(std::move(err));
  auto req = std::make_shared<remote_request>();
  req->node = node;
  req->signature = std::move(sig);
  req->args = caf::make_message(remote_arg_t<Ts>(std::forward<Ts>(xs))...);
  return spawn_remote_request<R>(s, std::move(opts), std::move(req));
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
