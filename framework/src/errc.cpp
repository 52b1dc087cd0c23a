#include "scaf/errc.hpp"

#include "scaf/detail/task_exception.hpp"

#include <caf/exit_reason.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace scaf {

const char* to_string(errc x) {
  switch (x) {
  case errc::none:
    return "none";
  case errc::cancelled:
    return "cancelled";
  case errc::timeout:
    return "timeout";
  case errc::scope_closed:
    return "scope_closed";
  case errc::killed:
    return "killed";
  case errc::task_exception:
    return "task_exception";
  case errc::limit_reached:
    return "limit_reached";
  case errc::invalid_argument:
    return "invalid_argument";
  case errc::restart_limit:
    return "restart_limit";
  case errc::would_deadlock:
    return "would_deadlock";
  case errc::no_such_child:
    return "no_such_child";
  case errc::child_exists:
    return "child_exists";
  case errc::child_running:
    return "child_running";
  case errc::child_restarting:
    return "child_restarting";
  case errc::node_down:
    return "node_down";
  case errc::unknown_task:
    return "unknown_task";
  case errc::type_mismatch:
    return "type_mismatch";
  case errc::protocol_mismatch:
    return "protocol_mismatch";
  case errc::start_failed:
    return "start_failed";
  }
  return "<unknown scaf::errc>";
}

caf::error make_error(errc x) {
  return caf::error{static_cast<uint8_t>(x), errc_category};
}

caf::error make_error(errc x, std::string path, std::string detail) {
  return caf::error{static_cast<uint8_t>(x), errc_category,
                    caf::make_message(std::move(path), std::move(detail))};
}

caf::error detail::task_exception_error(std::exception_ptr eptr,
                                        std::string path) {
  try {
    std::rethrow_exception(std::move(eptr));
  } catch (const std::exception& e) {
    return make_error(errc::task_exception, std::move(path), e.what());
  } catch (...) {
    return make_error(errc::task_exception, std::move(path),
                      "unknown exception");
  }
}

caf::error make_error(errc x, std::string path, std::string detail,
                      caf::error cause) {
  auto code = static_cast<uint8_t>(x);
  if (!cause)
    return caf::error{code, errc_category,
                      caf::make_message(std::move(path), std::move(detail))};
  return caf::error{
    code, errc_category,
    caf::make_message(std::move(path), std::move(detail), std::move(cause))};
}

caf::error cause_of(const caf::error& err) {
  auto& ctx = err.context();
  if (code_of(err) != errc::none &&
      ctx.match_elements<std::string, std::string, caf::error>())
    return ctx.get_as<caf::error>(2);
  return err;
}

caf::error make_cancel_error(std::string path, std::string detail,
                             caf::error cause) {
  return make_error(errc::cancelled, std::move(path), std::move(detail),
                    std::move(cause));
}

caf::error cancel_cause(const caf::error& err) {
  auto& ctx = err.context();
  if (is(err, errc::cancelled) &&
      ctx.match_elements<std::string, std::string, caf::error>())
    return ctx.get_as<caf::error>(2);
  return err;
}

errc code_of(const caf::error& err) {
  if (!err || err.category() != errc_category)
    return errc::none;
  return static_cast<errc>(err.code());
}

namespace {

std::string render_context(const caf::message& ctx) {
  if (ctx.empty())
    return {};
  // (path, detail), and after them what travels with the error: a cancel's
  // cause, an already started child's actor.
  if (ctx.size() >= 2 && ctx.match_element<std::string>(0) &&
      ctx.match_element<std::string>(1)) {
    auto& path = ctx.get_as<std::string>(0);
    auto& detail = ctx.get_as<std::string>(1);
    if (path.empty())
      return "(" + detail + ")";
    if (detail.empty())
      return "(" + path + ")";
    return "(" + path + ": " + detail + ")";
  }
  return caf::to_string(ctx);
}

} // namespace

std::string render(const caf::error& err) {
  if (!err)
    return "none";
  auto cat = err.category();
  if (cat == errc_category)
    return std::string{"scaf::"} + to_string(static_cast<errc>(err.code())) +
           render_context(err.context());
  if (cat == caf::atom("system"))
    return "caf::sec::" + caf::to_string(static_cast<caf::sec>(err.code())) +
           render_context(err.context());
  if (cat == caf::atom("exit"))
    return "caf::exit_reason::" +
           caf::to_string(static_cast<caf::exit_reason>(err.code())) +
           render_context(err.context());
  return caf::to_string(err);
}

} // namespace scaf
