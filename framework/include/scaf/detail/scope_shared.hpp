#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/error.hpp>

#include "scaf/detail/handle_state.hpp"
#include "scaf/scope_options.hpp"
#include "scaf/scope_state.hpp"

namespace scaf {

class scope;

namespace detail {

/// One call into a scope from outside its actor (`scope_ref`): `run` runs in
/// the scope's context. A call that never runs (the scope is gone, or never
/// started) is refused: its destructor calls `refuse` with
/// `errc::scope_closed`, whichever thread drops it.
class scope_call {
public:
  scope_call(std::function<void(scope&)> run,
             std::function<void(const caf::error&)> refuse);

  scope_call(const scope_call&) = delete;
  scope_call& operator=(const scope_call&) = delete;

  ~scope_call();

  /// Runs the call in the context of `s`; once.
  void run(scope& s);

private:
  std::function<void(scope&)> run_;
  std::function<void(const caf::error&)> refuse_;
};

using scope_call_ptr = std::shared_ptr<scope_call>;

/// What a scope shares with the `scope_ref`s and `scope_owner` that refer to
/// it: its address once it runs, calls posted before that, and what any
/// thread may read without asking it (cancelled, closed, counts, its report
/// once it is gone). Written by the scope actor, read from anywhere; one
/// mutex, no call of the scope's waits on it.
class scope_shared : public std::enable_shared_from_this<scope_shared> {
public:
  scope_shared();

  scope_shared(const scope_shared&) = delete;
  scope_shared& operator=(const scope_shared&) = delete;

  // -- the scope's side -------------------------------------------------------

  /// The scope runs as `self` at `path`; returns the calls posted so far, for
  /// the scope to run at once, in order, before any message it receives.
  /// `done` resolves once the actor has terminated.
  std::vector<scope_call_ptr> attach(caf::actor self, std::string path);

  /// The scope could not be started: posted calls are refused, `done`
  /// resolves with `why`.
  void fail_to_start(const caf::error& why);

  /// The scope moved to state `x`; `reason` is its cancel reason once it
  /// is cancelled.
  void set_state(scope_state x, const caf::error& reason);

  void set_counts(const child_counts& x);

  /// Keeps the report for `done`, which resolves once the actor is gone.
  void set_report(scope_report report);

  /// A call sent by `post` has reached the scope.
  void call_arrived();

  /// The scope is about to finish: refuses calls from now on and returns
  /// true, unless a posted call is still on its way (false: the scope waits
  /// for it). A call made before the scope finished is never refused for
  /// a cancel or join that overtook it.
  bool seal();

  // -- anyone -----------------------------------------------------------------

  /// Sends `call` to the scope; buffered until it runs, refused (dropped)
  /// once it is sealed or gone.
  void post(scope_call_ptr call);

  /// Notes that a cancel (`close`: a close; both: an abort) was asked for
  /// through a reference, before it reaches the scope: the asking thread
  /// reads its own write.
  void note_requested(bool cancel, bool close);

  bool cancelled() const;

  bool closed() const;

  scope_state state() const;

  child_counts counts() const;

  std::string path() const;

  /// The scope's actor; empty until it runs and once it is gone.
  caf::actor actor() const;

  /// Whether the scope has terminated or never started.
  bool gone() const;

  /// Resolves with the cancel reason once the scope is cancelled; with
  /// `errc::scope_closed` if it finished (or never started) uncancelled.
  const std::shared_ptr<handle_state<cancel_notice>>& cancel_state() const {
    return cancelled_;
  }

  /// Resolves with the report once the scope actor has terminated (every
  /// actor under it has), with an error if it never started.
  const std::shared_ptr<handle_state<scope_report>>& done_state() const {
    return done_;
  }

private:
  /// Called when the actor has terminated.
  void terminated(const caf::error& reason);

  enum class phase { pending, running, gone };

  mutable std::mutex mtx_;
  phase phase_ = phase::pending;
  caf::actor_addr addr_;
  std::string path_;
  std::vector<scope_call_ptr> buffered_;
  /// Calls sent and not yet arrived; none are sent once sealed.
  size_t in_flight_ = 0;
  bool sealed_ = false;
  scope_state state_ = scope_state::open;
  bool cancelled_flag_ = false;
  bool closed_ = false;
  child_counts counts_{};
  std::optional<scope_report> report_;
  std::shared_ptr<handle_state<cancel_notice>> cancelled_;
  std::shared_ptr<handle_state<scope_report>> done_;
};

} // namespace detail
} // namespace scaf
