#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <caf/error.hpp>

namespace scaf {

/// The longest name a child may have.
inline constexpr size_t max_name_length = 128;

/// Checks `name` as the name a user gives a child (of a scope or a
/// supervisor), the one place where the rules live: no `/` (it separates
/// the elements of a path), no control characters, at most
/// `max_name_length` characters, and not only digits (those are the
/// automatic names, "0", "1", ...). Returns an `errc::invalid_argument`
/// error for the node at `path` naming the rule that `name` breaks, or an
/// empty error. (An empty name is the automatic one for a scope's child; a
/// supervisor's children must have one.) Scopes also refuse a name that a
/// live sibling has.
caf::error check_name(std::string_view name, std::string path);

} // namespace scaf
