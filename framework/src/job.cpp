#include "scaf/detail/job.hpp"

#include <caf/execution_unit.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message_id.hpp>

#include "events.hpp"

namespace scaf::detail {

job::job(job_context ctx)
  : scope_(std::move(ctx.scope)), cancel_(std::move(ctx.cancel)),
    path_(std::move(ctx.path)), key_(ctx.key), stop_(std::move(ctx.stop)),
    spawned_cancelled_(ctx.spawned_cancelled) {
  // nop
}

job::~job() {
  // nop
}

caf::resumable::subtype_t job::subtype() const {
  return function_object;
}

caf::resumable::resume_result job::resume(caf::execution_unit* ctx, size_t) {
  // Cancelled before it started: it never runs, unless it was spawned into
  // the cancelled scope as cleanup work. Nothing runs once the scope died.
  // Cancelled on its own (through its handle), it never runs either.
  const caf::error* skipped = nullptr;
  if (cancelled_.load(std::memory_order_acquire))
    skipped = &reason_;
  else if (cancel_->cancelled.load(std::memory_order_acquire) &&
           (!spawned_cancelled_ ||
            cancel_->abandoned.load(std::memory_order_relaxed)))
    skipped = &cancel_->reason;
  result_ = run(skipped);
  // The scheduler keeps its own reference until we return; the message holds
  // another one until the scope has read the result.
  auto scope = std::move(scope_);
  scope->enqueue(
    caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                              scope_event{job_done_event{job_ptr{this}}}),
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
