#pragma once

#include <caf/error.hpp>

namespace scaf {

/// Returns `errc::would_deadlock`, naming `call`, when called on one of
/// CAF's scheduler threads, where a blocking call could wait for actors that
/// need that very thread; an empty error elsewhere (a plain thread, a
/// blocking task). scaf's blocking calls check it first and then block
/// nothing; libraries built on scaf can do the same.
caf::error check_may_block(const char* call);

} // namespace scaf
