#pragma once

/// Forward declarations of scaf's public types.
namespace scaf {

class child_factory;
class scope;
class scope_owner;
class scope_ref;
class stealing_policy;
class task_base;
class task_context;

template <class T>
class handle;
template <class T>
class promise;
template <class V>
class ready_signal;
template <class Derived>
class spawner;

enum class errc : unsigned char;
enum class failure_policy;
enum class node_status;
enum class scope_input : unsigned char;
enum class scope_state : unsigned char;
enum class scope_status;

struct cancel_notice;
struct child_counts;
struct child_exit;
struct limit_counts;
struct node_outcome;
struct run_options;
struct scope_options;
struct scope_report;
struct spawn_options;
struct spawn_request;

} // namespace scaf
