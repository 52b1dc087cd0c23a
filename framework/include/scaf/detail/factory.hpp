#pragma once

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "scaf/detail/body.hpp"
#include "scaf/detail/node.hpp"
#include "scaf/detail/spawn_task.hpp"
#include "scaf/scope_options.hpp"

namespace scaf::detail {

/// What a `scaf::child_factory` holds: spawns one child as a monitored child
/// of the scope actor `parent`, with the context that scope made for it.
class factory_impl {
public:
  virtual ~factory_impl() = default;

  virtual caf::actor spawn(caf::local_actor* parent,
                           node_context&& ctx) const = 0;

  virtual bool spawns_scope() const noexcept = 0;
};

/// Spawns the task `fun(self, xs...)` from copies of the stored arguments.
template <class F, class... Ts>
class task_factory_impl final : public factory_impl {
public:
  template <class... Us>
  explicit task_factory_impl(F fun, Us&&... xs)
    : fun_(std::move(fun)), args_(std::forward<Us>(xs)...) {
    // nop
  }

  caf::actor spawn(caf::local_actor* parent,
                   node_context&& ctx) const override {
    return std::apply(
      [&](const auto&... ys) {
        return spawn_task(parent, std::move(ctx), fun_, ys...);
      },
      args_);
  }

  bool spawns_scope() const noexcept override {
    return false;
  }

private:
  F fun_;
  std::tuple<Ts...> args_;
};

/// Spawns a nested scope running a copy of the stored body.
class scope_factory_impl final : public factory_impl {
public:
  scope_factory_impl(scope_options opts, std::function<void(scope&)> body)
    : opts_(std::move(opts)), body_(std::move(body)) {
    // nop
  }

  caf::actor spawn(caf::local_actor* parent,
                   node_context&& ctx) const override {
    scope_config cfg;
    cfg.options = opts_;
    cfg.body = body_;
    return spawn_nested_scope(parent, std::move(ctx), std::move(cfg));
  }

  bool spawns_scope() const noexcept override {
    return true;
  }

private:
  scope_options opts_;
  std::function<void(scope&)> body_;
};

} // namespace scaf::detail
