// Blocking calls: which threads may block, and the pool's compensation for
// a thread of its own that does.
#include "scaf/blocking.hpp"

#include <pthread.h>

#include <cstring>
#include <string>

#include "scaf/detail/blocking.hpp"
#include "scaf/detail/runtime.hpp"
#include "scaf/errc.hpp"

namespace scaf::detail {

namespace {

/// Set on the threads the actor system started for its scheduler. Not a
/// thread name: threads started from a worker inherit the worker's name.
thread_local bool scheduler_thread = false;

} // namespace

void mark_scheduler_thread() noexcept {
  // CAF 0.17 names its worker threads "caf.multiplexer" (the I/O loop has
  // the same name) and its clock "caf.clock" before it calls the thread
  // hooks; detached actors run on "caf.actor" threads, where blocking is
  // what they are for.
  char name[16] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0)
    return;
  scheduler_thread = std::strcmp(name, "caf.multiplexer") == 0 ||
                     std::strcmp(name, "caf.clock") == 0;
}

bool on_scheduler_thread() noexcept {
  return scheduler_thread;
}

caf::error refuse_blocking(const char* call) {
  if (!on_scheduler_thread())
    return {};
  return make_error(errc::would_deadlock, "",
                    std::string{call} +
                      " blocks, and this is a CAF scheduler thread: use the "
                      "continuation form inside actors");
}

blocking_section::blocking_section(const char* call)
  : refused_(refuse_blocking(call)) {
  if (!refused_ && function_pool::on_pool_thread()) {
    on_pool_ = true;
    function_pool::enter_blocking();
  }
}

blocking_section::~blocking_section() {
  if (on_pool_)
    function_pool::leave_blocking();
}

} // namespace scaf::detail

namespace scaf {

caf::error check_may_block(const char* call) {
  return detail::refuse_blocking(call);
}

} // namespace scaf
