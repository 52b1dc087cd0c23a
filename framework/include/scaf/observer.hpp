#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

namespace scaf {

/// Where an observer listens, and who may use it (see `observer`).
struct observer_options {
  /// `host:port` to listen on (`127.0.0.1:8080`, `[::1]:8080`,
  /// `localhost:8080`, `0.0.0.0:8080`); port 0 picks a free one.
  std::string address = "127.0.0.1:0";

  /// The access token. Empty: the observer is read-only and listens on a
  /// loopback address only (anything else is refused). Set: every request
  /// for data or an action must carry it (`Authorization: Bearer TOKEN`;
  /// the page takes it from its URL, `#token=TOKEN`), and the page may
  /// cancel scopes and tasks.
  std::string token{};
};

/// A small HTTP server, on a thread of its own, that shows the live tree of
/// every top-level scope of an actor system in a browser, the way Erlang's
/// `observer` shows a running node:
///
/// - `GET /`: a page that draws the trees and refreshes every second (one
///   HTML file, nothing loaded from elsewhere);
/// - `GET /api/tree`: the trees as JSON, `{"program", "pid", "actions",
///   "scopes": [...]}`, each scope rendered by `to_json`;
/// - `POST /api/cancel` with `{"path": "...", "reason": "..."}`: cancels the
///   scope or task at `path` with `reason`, as its handle would (a top-level
///   scope as `scope_ref::cancel` would). Only with a token.
///
/// Nothing runs until a request comes: an observer nobody watches waits in
/// `poll`. Each request for the tree costs one `top_level_trees` snapshot.
/// Requests are served one at a time, each connection closed after its
/// answer; a request larger than 64 KiB, or one not complete within 10 s, is
/// answered with an error and closed. Without a token it answers only
/// requests whose `Host` is a loopback name (against DNS rebinding).
///
///     auto obs = scaf::observer::start(sys, {.address = "127.0.0.1:8080"});
///     if (obs)
///       std::printf("observer: %s\n", obs->url().c_str());
///
/// The setting `scaf.observer` (with `scaf.observer-token`) starts one with
/// the actor system instead (see `observer_url`). Destroy an observer before
/// its actor system.
class observer {
public:
  /// Listens on `opts.address` and starts serving. Fails with
  /// `errc::invalid_argument` for an address it cannot parse or bind, or a
  /// non-loopback address without a token.
  static caf::expected<observer> start(caf::actor_system& sys,
                                       observer_options opts = {});

  /// Takes over `other`'s server; `other` serves nothing any more.
  observer(observer&& other) noexcept;

  /// Stops this one's server, if any, and takes over `other`'s.
  observer& operator=(observer&& other) noexcept;

  /// Stops serving and closes its socket; a request being answered is
  /// finished first.
  ~observer();

  /// The port it listens on (the one picked, for port 0).
  uint16_t port() const noexcept;

  /// Where to point a browser: `http://HOST:PORT/` (HOST as given, or this
  /// machine's host name for `0.0.0.0` and `[::]`), followed by
  /// `#token=TOKEN` if it has a token (the fragment is not sent to the
  /// server; the page sends the token with each request).
  std::string url() const;

private:
  struct impl;

  explicit observer(std::unique_ptr<impl> x);

  std::unique_ptr<impl> impl_;
};

/// The URL (as `observer::url`) of the observer that the settings
/// `scaf.observer` and `scaf.observer-token` started for `sys` when it was
/// built; empty if they did not. scaf also logs it, at info.
std::string observer_url(const caf::actor_system& sys);

} // namespace scaf
