// The little HTTP/1.1 the observer speaks (http.hpp).
#include "http.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace scaf::detail::http {

namespace {

constexpr auto send_timeout = std::chrono::seconds{5};

const char* reason_phrase(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 413:
    return "Content Too Large";
  case 415:
    return "Unsupported Media Type";
  case 503:
    return "Service Unavailable";
  default:
    return "Error";
  }
}

} // namespace

std::string_view request::header(std::string_view name) const {
  for (auto& [key, value] : headers)
    if (key == name)
      return value;
  return {};
}

std::string lower(std::string_view x) {
  std::string result{x};
  for (auto& c : result)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return result;
}

bool same_secret(std::string_view x, std::string_view y) {
  unsigned char diff = x.size() == y.size() ? 0 : 1;
  for (size_t i = 0; i < x.size(); ++i)
    diff |=
      static_cast<unsigned char>(x[i] ^ y[i % std::max<size_t>(y.size(), 1)]);
  return diff == 0;
}

std::string json_text(const nlohmann::json& x) {
  return x.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

response error_response(int status, const std::string& what) {
  return {status, "application/json", json_text({{"error", what}})};
}

std::string serialize(const response& x) {
  std::string out = "HTTP/1.1 " + std::to_string(x.status) + " " +
                    reason_phrase(x.status) + "\r\n";
  out += "Content-Type: " + x.type + "\r\n";
  out += "Content-Length: " + std::to_string(x.body.size()) + "\r\n";
  out += "Cache-Control: no-store\r\n"
         "X-Content-Type-Options: nosniff\r\n"
         "X-Frame-Options: DENY\r\n"
         "Content-Security-Policy: default-src 'none'; "
         "script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
         "connect-src 'self'; img-src data:\r\n"
         "Connection: close\r\n\r\n";
  out += x.body;
  return out;
}

std::optional<request> parse_head(std::string_view head) {
  request r;
  auto eol = head.find("\r\n");
  auto line = head.substr(0, eol);
  auto sp1 = line.find(' ');
  auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1)
    return std::nullopt;
  r.method = line.substr(0, sp1);
  r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  auto version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return std::nullopt;
  if (r.target.empty() || r.target.front() != '/')
    return std::nullopt;
  if (auto q = r.target.find('?'); q != std::string::npos)
    r.target.resize(q);
  while (eol != std::string_view::npos) {
    auto start = eol + 2;
    eol = head.find("\r\n", start);
    auto field =
      head.substr(start, eol == std::string_view::npos ? std::string_view::npos
                                                       : eol - start);
    if (field.empty())
      continue;
    auto colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return std::nullopt;
    auto value = field.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
      value.remove_suffix(1);
    r.headers.emplace_back(lower(field.substr(0, colon)), std::string{value});
  }
  return r;
}

bool loopback_host(std::string_view host) {
  if (host.starts_with("[::1]"))
    return host.size() == 5 || host[5] == ':';
  auto name = host.substr(0, host.find(':'));
  return name == "localhost" || name == "127.0.0.1";
}

void send_all(int fd, const std::string& data) {
  auto flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  timeval tv{static_cast<time_t>(send_timeout.count()), 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  size_t sent = 0;
  while (sent < data.size()) {
    auto n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    sent += static_cast<size_t>(n);
  }
}

} // namespace scaf::detail::http
