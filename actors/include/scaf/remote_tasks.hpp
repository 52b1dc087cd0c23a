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
#include "scaf/names.hpp"
#include "scaf/scope.hpp"
#include "scaf/task.hpp"

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

/// @private Receives what a remote task produced: its value packed in a
/// message (empty for none), or its error.
using remote_value_sink = std::function<void(caf::expected<caf::message>)>;

/// The task types a node offers to scopes on other nodes (see
/// `scaf/node.hpp`), each under a name and with fixed argument and result
/// types. A remote task is a name plus serializable arguments, never a
/// closure: the node checks a request's types against the registration
/// before it runs anything.
///
///     scaf::remote_tasks tasks;
///     tasks.add<std::string(std::string)>("hash", hash_file);
///     tasks.add<void(int)>("serve", serve_shard);  // a behavior task
///
/// `add<R(Args...)>(name, f)` registers one of:
/// - a behavior task, `f(scaf::task_actor*, Args...) -> caf::behavior` (with
///   `R = void`), which ends when it quits, as a local one;
/// - a function task, `f(std::stop_token, Args...)` or `f(Args...)`,
///   returning `R` or `caf::expected<R>`, run as `scope::spawn_fn` runs one:
///   the token sees the cancel; past the grace period the node reports it a
///   straggler and waits (no function is stopped mid-call). Its value
///   travels back to the caller.
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
    return add_impl(std::move(name), std::move(f), static_cast<Sig*>(nullptr));
  }

  /// @private A registered task, without its types.
  struct entry {
    remote_signature signature;
    /// Spawns the task into `s` with the arguments in `args` (already
    /// checked against the signature); `sink` receives its value.
    std::function<caf::error(scope& s, const spawn_options& opts,
                             const caf::message& args, remote_value_sink sink)>
      spawn;
  };

  /// Returns the registered tasks, by name.
  const std::map<std::string, entry>& entries() const noexcept {
    return entries_;
  }

private:
  template <class F, class R, class... Args>
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
    e.spawn = [f = std::move(f)](scope& s, const spawn_options& opts,
                                 const caf::message& args,
                                 remote_value_sink sink) -> caf::error {
      return spawn_task<R, Args...>(s, opts, f, args, std::move(sink),
                                    std::index_sequence_for<Args...>{});
    };
    entries_.emplace(std::move(name), std::move(e));
    return {};
  }

  template <class R, class... Args, class F, size_t... Is>
  static caf::error spawn_task(scope& s, const spawn_options& opts, const F& f,
                               const caf::message& args, remote_value_sink sink,
                               std::index_sequence<Is...>) {
    auto xs = std::make_tuple(args.get_as<Args>(Is)...);
    if constexpr (std::is_invocable_r_v<caf::behavior, F, task_actor*,
                                        Args...>) {
      static_assert(std::is_void_v<R>,
                    "a behavior task has no value: register it as void(...)");
      auto spawned = s.spawn(opts, f, std::get<Is>(std::move(xs))...);
      if (!spawned)
        return std::move(spawned.error());
      sink(caf::message{});
      return {};
    } else {
      // The value is handed over by the function itself, before its task
      // ends: the node reads it once the child's scope is done.
      auto h = [&] {
        if constexpr (std::is_invocable_v<F, std::stop_token, Args...>)
          return s.spawn_fn(opts, [f, xs = std::move(xs),
                                   sink = std::move(sink)](std::stop_token st) {
            return call_and_report(sink, [&] {
              return std::apply(
                [&](const Args&... ys) { return f(std::move(st), ys...); }, xs);
            });
          });
        else
          return s.spawn_fn(
            opts, [f, xs = std::move(xs), sink = std::move(sink)] {
              return call_and_report(sink, [&] { return std::apply(f, xs); });
            });
      }();
      static_assert(std::is_same_v<typename decltype(h)::value_type, R>,
                    "the function's result is not the registered one");
      return {};
    }
  }

  template <class T>
  struct is_expected : std::false_type {};

  template <class T>
  struct is_expected<caf::expected<T>> : std::true_type {};

  /// Returns `g()`, after handing its value (or error) to `sink`.
  template <class G>
  static auto call_and_report(const remote_value_sink& sink, G g) {
    using result_type = decltype(g());
    if constexpr (std::is_void_v<result_type>) {
      g();
      sink(caf::message{});
    } else {
      auto x = g();
      if constexpr (!is_expected<result_type>::value)
        sink(caf::make_message(x));
      else if (!x)
        sink(x.error());
      else if constexpr (std::is_same_v<result_type, caf::expected<void>>)
        sink(caf::message{});
      else
        sink(caf::make_message(*x));
      return x;
    }
  }

  std::map<std::string, entry> entries_;
};

} // namespace scaf
