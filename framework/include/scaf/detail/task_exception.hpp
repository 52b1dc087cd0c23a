#pragma once

#include <exception>
#include <string>

#include <caf/error.hpp>

#include "scaf/errc.hpp"

namespace scaf::detail {

/// Returns the error for the exception `eptr` escaping task code at the node
/// `path`: `errc::task_exception` carrying the exception's `what()` (or
/// "unknown exception"). The one place where exceptions become errors.
caf::error task_exception_error(std::exception_ptr eptr, std::string path);

/// Returns whether the failure `x` takes the place of the earlier failure
/// `first`: an exception escaping task code is a bug and outranks an
/// ordinary error (zksync's rule). The one place that ranks failures.
inline bool outranks(const caf::error& x, const caf::error& first) {
  return is(x, errc::task_exception) && !is(first, errc::task_exception);
}

} // namespace scaf::detail
