// What a function or blocking task sees of itself (scaf/task_context.hpp).
#include "scaf/task_context.hpp"

#include <utility>

#include <caf/send.hpp>

#include "scaf/scope_owner.hpp"

#include "events.hpp"
#include "scope_impl.hpp"

namespace scaf {

task_context::task_context(caf::actor_system& sys, caf::actor scope,
                           caf::actor_id key, const detail::node_path& path,
                           const detail::stop_signal& stop) noexcept
  : sys_(&sys), scope_(std::move(scope)), key_(key), path_(&path),
    stop_(&stop) {
  // nop
}

std::stop_token task_context::stop_token() const noexcept {
  return stop_->source.get_token();
}

bool task_context::is_cancelled() const noexcept {
  return stop_->source.stop_requested();
}

caf::error task_context::cancel_reason() const {
  // The reason is written before stop is requested.
  return is_cancelled() ? stop_->reason : caf::error{};
}

std::string task_context::path() const {
  return path_->str();
}

caf::actor_system& task_context::system() const noexcept {
  return *sys_;
}

scope_owner task_context::open_child(scope_options opts) {
  return detail::ref_access::make_owner(
    open(std::move(opts), nullptr, nullptr, false));
}

std::shared_ptr<detail::scope_shared>
task_context::open(scope_options opts, std::function<void(scope&)> body,
                   std::shared_ptr<scope_report> report, bool join) {
  auto shared = std::make_shared<detail::scope_shared>();
  detail::scope_config cfg;
  cfg.options = std::move(opts);
  cfg.body = std::move(body);
  cfg.report = std::move(report);
  cfg.shared = shared;
  cfg.join_after_body = join;
  // The task's scope opens it, as the task's child; a scope that is gone
  // drops the call, which refuses it.
  auto call = std::make_shared<detail::scope_call>(
    [key = key_, cfg = std::move(cfg)](scope& s) mutable {
      detail::state_of(s).open_owned(key, std::move(cfg));
    },
    [shared](const caf::error& why) { shared->fail_to_start(why); });
  caf::anon_send(scope_, detail::scope_event{detail::call_event{call}});
  return shared;
}

caf::error
task_context::await(const std::shared_ptr<detail::scope_shared>& shared) {
  auto done =
    detail::handle_access::make<handle<scope_report>>(shared->done_state())
      .wait();
  return done ? caf::error{} : done.error();
}

} // namespace scaf
