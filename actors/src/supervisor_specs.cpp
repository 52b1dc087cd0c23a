// The checks of scaf::supervisor's and scaf::pool's specs (see
// supervisor_impl.hpp): options, children, worker templates, worker names.
#include "supervisor_impl.hpp"

#include <set>
#include <utility>

#include "scaf/errc.hpp"
#include "scaf/names.hpp"

namespace scaf::supervision {

caf::error invalid(const std::string& path, std::string what) {
  return make_error(errc::invalid_argument, path, std::move(what));
}

namespace {

/// What is wrong with a supervisor's options, if anything.
caf::error check_options(const supervisor_options& opts,
                         const std::string& path) {
  if (opts.period <= caf::timespan{0})
    return invalid(path, "the restart period must be positive");
  if (opts.backoff < caf::timespan{0} || opts.max_backoff < opts.backoff)
    return invalid(path,
                   "the backoff must be at least 0 and at most max_backoff");
  if (!(opts.backoff_jitter >= 0.0 && opts.backoff_jitter <= 1.0))
    return invalid(path, "the backoff jitter must be between 0 and 1");
  if (opts.backoff_reset && *opts.backoff_reset < caf::timespan{0})
    return invalid(path, "the backoff reset cannot be negative");
  return {};
}

/// What is wrong with how a child named `name` is treated, if anything.
caf::error check_child_options(const supervisor_options& opts,
                               const child_options& c, const std::string& name,
                               const std::string& path) {
  if (auto err = check_name(name, path))
    return err;
  if (c.shutdown && *c.shutdown < caf::timespan{0})
    return invalid(path, "child '" + name + "' has a negative shutdown time");
  if (c.significant) {
    if (opts.shutdown_when == auto_shutdown::never)
      return invalid(path, "child '" + name +
                             "' is significant, but the supervisor never "
                             "shuts down by itself (auto_shutdown::never)");
    if (c.restart == restart_type::permanent)
      return invalid(path, "child '" + name +
                             "' is significant and permanent: only a "
                             "transient or temporary child can end its "
                             "supervisor");
  }
  return {};
}

} // namespace

caf::error check_child(const supervisor_options& opts, const child_spec& c,
                       const std::string& path) {
  auto& name = c.options.name;
  if (name.empty())
    return invalid(path, "every child needs a name");
  if (auto err = check_child_options(opts, c.options, name, path))
    return err;
  if (!c.start)
    return invalid(path, "child '" + name + "' has no task");
  return {};
}

caf::error check(const supervisor_options& opts,
                 const std::vector<child_spec>& children,
                 const std::string& path) {
  if (auto err = check_options(opts, path))
    return err;
  std::set<std::string> names;
  for (auto& c : children) {
    if (auto err = check_child(opts, c, path))
      return err;
    if (!names.insert(c.options.name).second)
      return invalid(path, "two children are named '" + c.options.name + "'");
  }
  return {};
}

caf::error check_pool(const supervisor_options& opts,
                      const pool_template& workers, const std::string& path) {
  if (opts.strategy != restart_strategy::one_for_one)
    return invalid(path, "a pool restarts each worker on its own: its "
                         "strategy must be one_for_one");
  if (opts.shutdown_when != auto_shutdown::never)
    return invalid(path, "a pool never shuts down by itself: its "
                         "shutdown_when must be auto_shutdown::never");
  if (auto err = check_options(opts, path))
    return err;
  if (!workers.from_message)
    return invalid(path, "the pool's worker template has no start function");
  // The checks of a child named as the first worker.
  return check_child_options(opts, workers.options,
                             worker_name(workers.options, 1), path);
}

} // namespace scaf::supervision

namespace scaf {

caf::error check_childspecs(const std::vector<child_spec>& children,
                            auto_shutdown when) {
  supervisor_options opts;
  opts.shutdown_when = when;
  return supervision::check(opts, children, "");
}

} // namespace scaf

namespace scaf::supervision {

std::string worker_name(const child_options& opts, uint64_t n) {
  return (opts.name.empty() ? std::string{"worker"} : opts.name) + "-" +
         std::to_string(n);
}

} // namespace scaf::supervision
