#pragma once

#include <exception>
#include <string>

#include <caf/error.hpp>

namespace scaf::detail {

/// Returns the error for the exception `eptr` escaping task code at the node
/// `path`: `errc::task_exception` carrying the exception's `what()` (or
/// "unknown exception"). The one place where exceptions become errors.
caf::error task_exception_error(std::exception_ptr eptr, std::string path);

} // namespace scaf::detail
