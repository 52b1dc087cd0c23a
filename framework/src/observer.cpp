// scaf::observer: the live tree in a browser (scaf/observer.hpp). One thread
// polls a listening socket and its connections; it answers one request at a
// time and closes each connection after its answer.
#include "scaf/observer.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "scaf/errc.hpp"
#include "scaf/tree.hpp"

#include "events.hpp"
#include "http.hpp"
#include "top_level.hpp"

namespace scaf::detail {

/// The page, with its script and style (src/observer_page.html, embedded at
/// build time).
const char* observer_page_html() noexcept;

} // namespace scaf::detail

namespace scaf {

namespace {

using clock_type = std::chrono::steady_clock;

constexpr size_t max_request = 64 * 1024;
constexpr size_t max_connections = 32;
constexpr auto request_timeout = std::chrono::seconds{10};
/// How long a snapshot, or a cancel, waits for the scopes.
constexpr auto scope_timeout = std::chrono::seconds{2};

bool is_loopback(const sockaddr_storage& x) {
  if (x.ss_family == AF_INET) {
    auto& in = reinterpret_cast<const sockaddr_in&>(x);
    return (ntohl(in.sin_addr.s_addr) >> 24) == 127;
  }
  if (x.ss_family == AF_INET6) {
    auto& in = reinterpret_cast<const sockaddr_in6&>(x);
    return IN6_IS_ADDR_LOOPBACK(&in.sin6_addr);
  }
  return false;
}

bool is_unspecified(const sockaddr_storage& x) {
  if (x.ss_family == AF_INET)
    return reinterpret_cast<const sockaddr_in&>(x).sin_addr.s_addr ==
           htonl(INADDR_ANY);
  return x.ss_family == AF_INET6 &&
         IN6_IS_ADDR_UNSPECIFIED(
           &reinterpret_cast<const sockaddr_in6&>(x).sin6_addr);
}

/// `host:port` split, with the brackets of an IPv6 host taken off.
std::optional<std::pair<std::string, std::string>>
split_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return std::nullopt;
  auto host = address.substr(0, colon);
  auto port = address.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']')
      return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return std::nullopt; // an IPv6 host needs its brackets
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(),
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(port) > 65535)
    return std::nullopt;
  return std::pair{std::move(host), std::move(port)};
}

using detail::http::error_response;
using detail::http::request;
using detail::http::response;
using detail::http::send_all;
using detail::http::serialize;

} // namespace

// -- the server ---------------------------------------------------------------

struct observer::impl {
  struct connection {
    int fd;
    std::string in;
    clock_type::time_point since;
  };

  caf::actor_system* sys = nullptr;
  observer_options opts;
  std::string host; // as the URL names it
  uint16_t port = 0;
  int listener = -1;
  int wake[2] = {-1, -1};
  std::vector<connection> connections;
  std::thread thread;

  ~impl() {
    stop();
    for (auto fd : {listener, wake[0], wake[1]})
      if (fd >= 0)
        ::close(fd);
  }

  /// Opens the listening socket; returns what is wrong, if anything.
  std::string bind();

  void run();

  void stop() {
    if (!thread.joinable())
      return;
    char byte = 'q';
    [[maybe_unused]] auto n = ::write(wake[1], &byte, 1);
    thread.join();
    for (auto& c : connections)
      ::close(c.fd);
    connections.clear();
  }

  std::string url() const {
    auto result = "http://" + host + ":" + std::to_string(port) + "/";
    if (!opts.token.empty())
      result += "#token=" + opts.token;
    return result;
  }

  void accept_all();

  /// Reads what `c` sent; returns whether it stays open.
  bool read_from(connection& c);

  response answer(const request& r);

  response tree();

  response cancel(const request& r);
};

std::string observer::impl::bind() {
  auto parts = split_address(opts.address);
  if (!parts)
    return ("cannot read the address '" + opts.address +
            "': expected host:port (e.g. 127.0.0.1:8080, "
            "[::1]:8080; port 0 picks a free one)");
  auto& [name, service] = *parts;
  for (auto c : opts.token)
    if (c <= ' ' || c == '#' || c == '"' || c == '\\' || c > '~')
      return ("the token must be printable ASCII without spaces, "
              "'#', '\"' or '\\'");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (auto rc = ::getaddrinfo(name.c_str(), service.c_str(), &hints, &found);
      rc != 0)
    return ("cannot resolve '" + name + "': " + ::gai_strerror(rc));
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::memcpy(&addr, found->ai_addr, found->ai_addrlen);
  len = found->ai_addrlen;
  ::freeaddrinfo(found);
  if (!is_loopback(addr) && opts.token.empty())
    return ("'" + opts.address +
            "' is not a loopback address: an observer that others "
            "can reach needs a token (scaf.observer-token)");
  listener = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0)
    return (std::string{"cannot open a socket: "} + std::strerror(errno));
  int yes = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listener, 16) != 0)
    return ("cannot listen on '" + opts.address + "': " + std::strerror(errno));
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof(bound);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  port = ntohs(bound.ss_family == AF_INET
                 ? reinterpret_cast<sockaddr_in&>(bound).sin_port
                 : reinterpret_cast<sockaddr_in6&>(bound).sin6_port);
  // Listening on every address: the URL names this machine.
  char machine[256] = {};
  if (is_unspecified(addr) && ::gethostname(machine, sizeof(machine) - 1) == 0)
    host = machine;
  else
    host = addr.ss_family == AF_INET6 ? "[" + name + "]" : name;
  ::fcntl(listener, F_SETFL, ::fcntl(listener, F_GETFL) | O_NONBLOCK);
  if (::pipe2(wake, O_CLOEXEC) != 0)
    return (std::string{"cannot make a pipe: "} + std::strerror(errno));
  return {};
}

void observer::impl::accept_all() {
  for (;;) {
    auto fd =
      ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      return;
    if (connections.size() >= max_connections) {
      send_all(fd, serialize(error_response(503, "too many connections")));
      ::close(fd);
      continue;
    }
    connections.push_back({fd, {}, clock_type::now()});
  }
}

bool observer::impl::read_from(connection& c) {
  char buf[8192];
  for (;;) {
    auto n = ::recv(c.fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      break;
    if (n <= 0)
      return false; // closed before its request was complete
    c.in.append(buf, static_cast<size_t>(n));
    if (c.in.size() > max_request) {
      send_all(c.fd, serialize(error_response(413, "request too large")));
      return false;
    }
  }
  auto end = c.in.find("\r\n\r\n");
  if (end == std::string::npos)
    return true;
  auto r = detail::http::parse_head(std::string_view{c.in}.substr(0, end));
  if (!r) {
    send_all(c.fd, serialize(error_response(400, "malformed request")));
    return false;
  }
  size_t length = 0;
  if (auto x = r->header("content-length"); !x.empty()) {
    if (x.size() > 6 || !std::all_of(x.begin(), x.end(), [](char ch) {
          return ch >= '0' && ch <= '9';
        })) {
      send_all(c.fd, serialize(error_response(400, "bad Content-Length")));
      return false;
    }
    length = std::stoul(std::string{x});
  }
  if (c.in.size() < end + 4 + length)
    return true; // the body is on its way
  r->body = c.in.substr(end + 4, length);
  send_all(c.fd, serialize(answer(*r)));
  return false;
}

void observer::impl::run() {
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({wake[0], POLLIN, 0});
    fds.push_back({listener, POLLIN, 0});
    auto timeout = -1;
    auto now = clock_type::now();
    for (auto& c : connections) {
      fds.push_back({c.fd, POLLIN, 0});
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    c.since + request_timeout - now)
                    .count();
      auto ms = static_cast<int>(std::max<long long>(left, 0));
      timeout = timeout < 0 ? ms : std::min(timeout, ms);
    }
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR)
      return;
    if (fds[0].revents != 0)
      return;
    now = clock_type::now();
    // Connections first: `fds` follows their order as it was.
    std::vector<connection> open;
    for (size_t i = 0; i < connections.size(); ++i) {
      auto& c = connections[i];
      auto keep = true;
      if (fds[i + 2].revents != 0)
        keep = read_from(c);
      else if (now - c.since >= request_timeout) {
        send_all(c.fd, serialize(error_response(408, "request timed out")));
        keep = false;
      }
      if (keep)
        open.push_back(std::move(c));
      else
        ::close(c.fd);
    }
    connections = std::move(open);
    if (fds[1].revents != 0)
      accept_all();
  }
}

response observer::impl::answer(const request& r) {
  auto asked_as = r.header("host");
  if (asked_as.empty())
    return error_response(400, "no Host header");
  // Without a token, only pages of this machine may ask: a name that
  // resolves to 127.0.0.1 elsewhere (DNS rebinding) does not pass.
  if (opts.token.empty() && !detail::http::loopback_host(asked_as))
    return error_response(403, "Host must be a loopback name");
  auto page = r.target == "/" || r.target == "/index.html";
  auto known = page || r.target == "/api/tree" || r.target == "/api/cancel";
  if (!known)
    return error_response(404, "no such resource: " + r.target);
  auto post = r.target == "/api/cancel";
  if (r.method != (post ? "POST" : "GET"))
    return error_response(405, r.target + " takes " + (post ? "POST" : "GET") +
                                 " only");
  if (page)
    return {200, "text/html; charset=utf-8", detail::observer_page_html()};
  if (!opts.token.empty()) {
    auto given = r.header("authorization");
    if (!given.starts_with("Bearer ") ||
        !detail::http::same_secret(given.substr(7), opts.token))
      return error_response(401, "this observer needs its token");
  }
  if (!post)
    return tree();
  if (opts.token.empty())
    return error_response(403, "this observer is read-only: start it with a "
                               "token to allow actions");
  return cancel(r);
}

response observer::impl::tree() {
  auto trees = top_level_trees(*sys, scope_timeout);
  std::string body = "{\"program\":";
  body += nlohmann::json(program_invocation_short_name)
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  body += ",\"pid\":" + std::to_string(::getpid());
  body += ",\"actions\":";
  body += opts.token.empty() ? "false" : "true";
  body += ",\"scopes\":[";
  for (size_t i = 0; i < trees.size(); ++i) {
    if (i > 0)
      body += ',';
    body += to_json(trees[i], -1);
  }
  body += "]}\n";
  return {200, "application/json", std::move(body)};
}

response observer::impl::cancel(const request& r) {
  if (detail::http::lower(r.header("content-type"))
        .rfind("application/json", 0) != 0)
    return error_response(415, "a cancel is sent as application/json");
  auto args = nlohmann::json::parse(r.body, nullptr, false);
  if (!args.is_object() || !args.contains("path") ||
      !args["path"].is_string() || !args.contains("reason") ||
      !args["reason"].is_string())
    return error_response(400, "a cancel needs {\"path\": string, "
                               "\"reason\": string}");
  auto path = args["path"].get<std::string>();
  auto why = args["reason"].get<std::string>();
  if (path.empty() || why.empty())
    return error_response(400, "a cancel needs a path and a reason");
  auto roots = detail::top_level_scopes(*sys, path.substr(0, path.find('/')));
  if (roots.empty())
    return error_response(404,
                          render(make_error(errc::no_such_child, path,
                                            "no top-level scope named " +
                                              path.substr(0, path.find('/')))));
  // Each scope of that name is asked; the first that finds it cancels it.
  std::vector<std::future<caf::error>> answers;
  for (auto& root : roots) {
    auto done = std::make_shared<std::promise<caf::error>>();
    answers.push_back(done->get_future());
    auto answer = std::make_shared<detail::path_answer>(
      path, [done](caf::error x) { done->set_value(std::move(x)); });
    caf::anon_send(root, detail::scope_event{
                           detail::cancel_path_event{why, std::move(answer)}});
  }
  caf::error why_not;
  for (auto& answer : answers) {
    if (answer.wait_for(scope_timeout) != std::future_status::ready) {
      why_not =
        make_error(errc::timeout, path, "its scope did not answer within 2 s");
      continue;
    }
    auto result = answer.get();
    if (!result)
      return {200, "application/json",
              detail::http::json_text({{"cancelled", path}, {"reason", why}})};
    why_not = std::move(result);
  }
  return error_response(404, render(why_not));
}

// -- the public face ----------------------------------------------------------

caf::expected<observer> observer::start(caf::actor_system& sys,
                                        observer_options opts) {
  auto x = std::make_unique<impl>();
  x->sys = &sys;
  x->opts = std::move(opts);
  if (auto what = x->bind(); !what.empty())
    return make_error(errc::invalid_argument, "observer", std::move(what));
  x->thread = std::thread{[ptr = x.get()] { ptr->run(); }};
  return observer{std::move(x)};
}

observer::observer(std::unique_ptr<impl> x) : impl_(std::move(x)) {
  // nop
}

observer::observer(observer&&) noexcept = default;

observer& observer::operator=(observer&&) noexcept = default;

observer::~observer() = default;

uint16_t observer::port() const noexcept {
  return impl_ ? impl_->port : 0;
}

std::string observer::url() const {
  return impl_ ? impl_->url() : std::string{};
}

} // namespace scaf
