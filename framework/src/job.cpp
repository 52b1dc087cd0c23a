#include "scaf/detail/job.hpp"

#include <caf/execution_unit.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message_id.hpp>

#include "scaf/detail/scope_event.hpp"

namespace scaf::detail {

job::job(caf::actor scope, std::shared_ptr<const job_cancel_state> cancel,
         std::string path)
  : scope_(std::move(scope)), cancel_(std::move(cancel)), path_(std::move(path)) {
  // nop
}

job::~job() {
  // nop
}

caf::resumable::subtype_t job::subtype() const {
  return function_object;
}

caf::resumable::resume_result job::resume(caf::execution_unit* ctx, size_t) {
  const caf::error* cancelled = nullptr;
  if (cancel_->cancelled.load(std::memory_order_acquire))
    cancelled = &cancel_->reason;
  result_ = run(cancelled);
  // The scheduler keeps its own reference until we return; the message holds
  // another one until the scope has read the result.
  auto scope = std::move(scope_);
  scope->enqueue(caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                           scope_event{
                                             job_done_event{job_ptr{this}}}),
                 ctx);
  return done;
}

void job::intrusive_ptr_add_ref_impl() {
  intrusive_ptr_add_ref(this);
}

void job::intrusive_ptr_release_impl() {
  intrusive_ptr_release(this);
}

} // namespace scaf::detail
