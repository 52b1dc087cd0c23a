#pragma once

#include <memory>
#include <utility>

#include <caf/expected.hpp>

#include "scaf/errc.hpp"
#include "scaf/handle.hpp"

namespace scaf {

namespace detail {

/// What the copies of one promise share: its handle's state, which the last
/// copy resolves if nobody did (a handle never hangs on a lost promise).
template <class T>
struct promise_core {
  std::shared_ptr<handle_state<T>> state = std::make_shared<handle_state<T>>();

  ~promise_core() {
    state->resolve(make_error(errc::cancelled, "",
                              "the promise was dropped before it resolved"));
  }
};

} // namespace detail

/// The producing side of a `handle<T>`: code that finishes later (in an
/// actor's handler, on another thread) resolves the handle it gave out
/// earlier. Copies share one handle; the first `resolve` wins. If every copy
/// is gone before anyone resolved it, the handle resolves with
/// `errc::cancelled`, so a waiter never waits for a promise nobody keeps.
/// Thread-safe.
template <class T>
class promise {
public:
  promise() : core_(std::make_shared<detail::promise_core<T>>()) {
    // nop
  }

  /// Returns the handle this promise resolves.
  handle<T> get_handle() const {
    return detail::handle_access::make<handle<T>>(core_->state);
  }

  /// Resolves the handle with `x`: a value (`caf::unit` for `void`) or an
  /// error. Returns whether this call resolved it.
  bool resolve(caf::expected<T> x) const {
    return core_->state->resolve(std::move(x));
  }

private:
  std::shared_ptr<detail::promise_core<T>> core_;
};

} // namespace scaf
