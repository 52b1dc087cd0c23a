// Internal: the little HTTP/1.1 the observer speaks (src/observer.cpp): a
// request head parsed, an answer written, one request a connection.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace scaf::detail::http {

struct request {
  std::string method;
  /// Its path, the query string taken off.
  std::string target;
  /// Names in lower case, values trimmed.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The value of the header `name` (lower case), empty if there is none.
  std::string_view header(std::string_view name) const;
};

struct response {
  int status = 200;
  std::string type = "application/json";
  std::string body;
};

/// Parses a complete request head (without its blank line); `std::nullopt`
/// if it is malformed.
std::optional<request> parse_head(std::string_view head);

/// The answer as it goes on the wire, with the observer's security headers
/// and `Connection: close`.
std::string serialize(const response& x);

/// One line of JSON; text that is not UTF-8 is replaced, not thrown at.
std::string json_text(const nlohmann::json& x);

/// `{"error": what}` with `status`.
response error_response(int status, const std::string& what);

/// `x` in lower case (ASCII).
std::string lower(std::string_view x);

/// Compares in time that does not depend on where they differ.
bool same_secret(std::string_view x, std::string_view y);

/// Whether `host` (a `Host` header) names this machine's loopback.
bool loopback_host(std::string_view host);

/// Sends all of `data` on the socket `fd` (blocking, at most 5 s a send).
void send_all(int fd, const std::string& data);

} // namespace scaf::detail::http
