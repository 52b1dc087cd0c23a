// A minimal HTTP/1.1 client over loopback for the observer's tests: one
// request a connection, read until the server closes it.
#pragma once

#include <cstdint>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace scaf::test {

struct http_reply {
  /// 0 if there was no answer (nothing listens, or it was not HTTP).
  int status = 0;
  std::string head;
  std::string body;

  nlohmann::json json() const {
    return nlohmann::json::parse(body, nullptr, false);
  }
};

/// Sends `raw` to 127.0.0.1:`port` and reads the answer until the server
/// closes the connection.
inline http_reply http_exchange(uint16_t port, const std::string& raw) {
  http_reply result;
  auto fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return result;
  }
  ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
  std::string in;
  char buf[65536];
  for (;;) {
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    in.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto end = in.find("\r\n\r\n");
  if (in.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos)
    return result;
  result.status = std::stoi(in.substr(9, 3));
  result.head = in.substr(0, end);
  result.body = in.substr(end + 4);
  return result;
}

/// `GET target`, with the token if one is given.
inline http_reply http_get(uint16_t port, const std::string& target,
                           const std::string& token = "",
                           const std::string& host = "127.0.0.1") {
  std::string raw = "GET " + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
  if (!token.empty())
    raw += "Authorization: Bearer " + token + "\r\n";
  return http_exchange(port, raw + "\r\n");
}

/// The observer's cancel action: `POST /api/cancel` with `body`.
inline http_reply
http_post_cancel(uint16_t port, const std::string& token,
                 const std::string& body,
                 const std::string& type = "application/json") {
  std::string raw =
    "POST /api/cancel HTTP/1.1\r\nHost: localhost\r\n"
    "Content-Type: " +
    type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (!token.empty())
    raw += "Authorization: Bearer " + token + "\r\n";
  return http_exchange(port, raw + "\r\n" + body);
}

/// The body of a cancel of `path` with `reason`.
inline std::string cancel_body(const std::string& path,
                               const std::string& reason) {
  return nlohmann::json{{"path", path}, {"reason", reason}}.dump();
}

} // namespace scaf::test
