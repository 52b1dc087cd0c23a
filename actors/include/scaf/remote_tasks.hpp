#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/behavior.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>
#include <caf/rtti_pair.hpp>

#include "scaf/errc.hpp"
#include "scaf/handle.hpp"
#include "scaf/names.hpp"
#include "scaf/scope.hpp"
#include "scaf/task.hpp"
#include "scaf/task_context.hpp"

namespace scaf {

/// @private The type an argument of a remote task travels as: string
/// literals and `char` pointers travel as `std::string`.
template <class T>
using remote_arg_t =
  std::conditional_t<std::is_same_v<std::decay_t<T>, const char*> ||
                       std::is_same_v<std::decay_t<T>, char*>,
                     std::string, std::decay_t<T>>;

/// @private The types of a remote task: its name, its argument types and
/// its result type, as CAF identifies them.
struct remote_signature {
  std::string name;
  std::vector<caf::rtti_pair> args;
  /// Unset for `void`.
  std::optional<caf::rtti_pair> result;

  template <class R, class... Args>
  static remote_signature of(std::string name) {
    remote_signature sig;
    sig.name = std::move(name);
    (sig.args.push_back(caf::make_rtti_pair<Args>()), ...);
    if constexpr (!std::is_void_v<R>)
      sig.result = caf::make_rtti_pair<R>();
    return sig;
  }
};

/// @private How a remote child ended, read on its node once its nested
/// scope is done: its value packed in a message (empty for none), or how
/// its handle resolved (its failure, `errc::cancelled` with the reason,
/// `errc::killed`); nothing if the handle has not resolved.
using remote_outcome =
  std::function<std::optional<caf::expected<caf::message>>()>;

/// The task types a node offers to scopes on other nodes (see
/// `scaf/node.hpp`), each under a name and with fixed argument and result
/// types. A remote task is a name plus serializable arguments, never a
/// closure: the node checks a request's types against the registration
/// before it runs anything.
///
///     scaf::remote_tasks tasks;
///     tasks.add<std::string(std::string)>("hash", hash_file);
///     tasks.add<void(int)>("serve", serve_shard);  // a behavior task
///     tasks.add_blocking<int(std::string)>("scan", scan_disk);
///
/// A remote child is the same child as a local one of its kind: it hears its
/// caller's cancel with the reason, gets its grace period, can be forced, may
/// open scopes of its own on its node, and ends in one of the four ways
/// (value, failure, cancelled, killed) that travel back to its caller's
/// handle and scope. `add<R(Args...)>(name, f)` registers one of:
/// - a behavior task, `f(scaf::task_actor*, Args...) -> caf::behavior` for
///   `R = void`, or `f(scaf::task_actor*, scaf::task_result<R>, Args...)`
///   with a value (see `scope::spawn_with_result`); it ends when it quits;
/// - a function task, `f(Args...)`, `f(std::stop_token, Args...)` or
///   `f(scaf::task_context&, Args...)`, returning `R` or `caf::expected<R>`,
///   run as `scope::spawn_fn` runs one (on scaf's function pool once it
///   takes a token or a context; the context has the cancel's reason and
///   opens scopes).
///
/// `add_blocking<R(Args...)>(name, f)` registers a blocking task,
/// `f(std::stop_token, Args...)` or `f(scaf::task_context&, Args...)`, run on
/// a thread of its own as `scope::spawn_blocking` runs one: work that sleeps
/// or waits on I/O without holding the node's scheduler.
///
/// `Args` and `R` must be value types CAF can serialize; the node checks
/// that each is registered with its actor system when it starts serving.
class remote_tasks {
public:
  /// Registers `f` under `name` (see the class). Fails with
  /// `errc::invalid_argument` if the name breaks the rules of child names
  /// (`scaf/names.hpp`) or is already taken; nothing is registered then.
  template <class Sig, class F>
  caf::error add(std::string name, F f) {
    return add_impl<false>(std::move(name), std::move(f),
                           static_cast<Sig*>(nullptr));
  }

  /// Registers the blocking task `f` under `name` (see the class), failing
  /// as `add` does.
  template <class Sig, class F>
  caf::error add_blocking(std::string name, F f) {
    return add_impl<true>(std::move(name), std::move(f),
                          static_cast<Sig*>(nullptr));
  }

  /// @private A registered task, without its types.
  struct entry {
    remote_signature signature;
    /// Spawns the task into `s` with the arguments in `args` (already
    /// checked against the signature); returns how to read its end.
    std::function<caf::expected<remote_outcome>(
      scope& s, const spawn_options& opts, const caf::message& args)>
      spawn;
  };

  /// Returns the registered tasks, by name.
  const std::map<std::string, entry>& entries() const noexcept {
    return entries_;
  }

private:
  template <bool Blocking, class F, class R, class... Args>
  caf::error add_impl(std::string name, F f, R (*)(Args...)) {
    static_assert((std::is_same_v<Args, std::decay_t<Args>> && ...),
                  "a remote task's arguments are values: no references, "
                  "no const");
    static_assert((!std::is_pointer_v<Args> && ...),
                  "a remote task's arguments cannot be pointers");
    static_assert(std::is_void_v<R> || (std::is_same_v<R, std::decay_t<R>> &&
                                        !std::is_pointer_v<R>),
                  "a remote task's result is a value");
    if (auto err = check_name(name, "remote_tasks"))
      return err;
    if (entries_.count(name) > 0)
      return make_error(errc::invalid_argument, "remote_tasks",
                        "a task named '" + name + "' is registered already");
    entry e;
    e.signature = remote_signature::of<R, Args...>(name);
    e.spawn = [f = std::move(f)](
                scope& s, const spawn_options& opts,
                const caf::message& args) -> caf::expected<remote_outcome> {
      return spawn_task<Blocking, R, Args...>(
        s, opts, f, args, std::index_sequence_for<Args...>{});
    };
    entries_.emplace(std::move(name), std::move(e));
    return {};
  }

  /// How the task's handle resolved, packed for the wire.
  template <class T>
  static remote_outcome outcome_of(handle<T> h) {
    return [h]() -> std::optional<caf::expected<caf::message>> {
      if (!h.ready())
        return std::nullopt;
      auto x = h.get();
      if (!x)
        return caf::expected<caf::message>{std::move(x.error())};
      if constexpr (std::is_void_v<T>)
        return caf::expected<caf::message>{caf::message{}};
      else
        return caf::expected<caf::message>{caf::make_message(std::move(*x))};
    };
  }

  template <bool Blocking, class R, class... Args, class F, size_t... Is>
  static caf::expected<remote_outcome>
  spawn_task(scope& s, const spawn_options& opts, const F& f,
             const caf::message& args, std::index_sequence<Is...>) {
    auto xs = std::make_tuple(args.get_as<Args>(Is)...);
    if constexpr (Blocking) {
      static_assert(std::is_invocable_v<const F&, task_context&, Args...> ||
                      std::is_invocable_v<const F&, std::stop_token, Args...>,
                    "a blocking task is f(std::stop_token, Args...) or "
                    "f(scaf::task_context&, Args...)");
      auto h = s.spawn_blocking(opts, bind_first(f, std::move(xs)));
      check_result<R>(h);
      return outcome_of(std::move(h));
    } else if constexpr (std::is_invocable_r_v<caf::behavior, const F&,
                                               task_actor*, Args...>) {
      static_assert(std::is_void_v<R>,
                    "a behavior task with a value takes a "
                    "scaf::task_result<R> after its self pointer");
      auto spawned = s.spawn(opts, f, std::get<Is>(std::move(xs))...);
      if (!spawned)
        return std::move(spawned.error());
      auto h = s.handle_of(*spawned);
      if (!h)
        return std::move(h.error());
      return outcome_of(std::move(*h));
    } else if constexpr (!std::is_void_v<R> &&
                         std::is_invocable_r_v<caf::behavior, const F&,
                                               task_actor*, task_result<R>,
                                               Args...>) {
      auto h = s.spawn_with_result<R>(opts, f, std::get<Is>(std::move(xs))...);
      return outcome_of(std::move(h));
    } else if constexpr (std::is_invocable_v<const F&, Args...>) {
      auto h =
        s.spawn_fn(opts, [f, xs = std::move(xs)] { return std::apply(f, xs); });
      check_result<R>(h);
      return outcome_of(std::move(h));
    } else {
      static_assert(std::is_invocable_v<const F&, task_context&, Args...> ||
                      std::is_invocable_v<const F&, std::stop_token, Args...>,
                    "a remote task is a behavior function, or a function "
                    "f(Args...), f(std::stop_token, Args...) or "
                    "f(scaf::task_context&, Args...)");
      auto h = s.spawn_fn(opts, bind_first(f, std::move(xs)));
      check_result<R>(h);
      return outcome_of(std::move(h));
    }
  }

  /// `f(first, xs...)` as a function of `first`, the task's context or its
  /// stop token (whichever `f` takes).
  template <class F, class Tuple>
  static auto bind_first(const F& f, Tuple xs) {
    auto call = [f, xs = std::move(xs)](auto& first) {
      return std::apply([&](const auto&... ys) { return f(first, ys...); }, xs);
    };
    if constexpr (is_invocable_with_tuple<const F&, task_context&, Tuple>())
      return [call](task_context& ctx) { return call(ctx); };
    else
      return [call](std::stop_token st) { return call(st); };
  }

  template <class F, class First, class Tuple>
  static constexpr bool is_invocable_with_tuple() {
    return []<size_t... Is>(std::index_sequence<Is...>) {
      return std::is_invocable_v<F, First, std::tuple_element_t<Is, Tuple>...>;
    }
    (std::make_index_sequence<std::tuple_size_v<Tuple>>{});
  }

  template <class R, class H>
  static void check_result(const H&) {
    static_assert(std::is_same_v<typename H::value_type, R>,
                  "the function's result is not the registered one");
  }

  std::map<std::string, entry> entries_;
};

} // namespace scaf
