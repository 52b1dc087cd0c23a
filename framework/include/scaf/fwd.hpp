#pragma once

/// Forward declarations of scaf's public types.
namespace scaf {

class scope;
class stealing_policy;
class task_base;

enum class errc : unsigned char;
enum class failure_policy;

struct run_options;
struct scope_options;
struct scope_report;
struct spawn_options;

} // namespace scaf
