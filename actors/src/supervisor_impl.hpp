// Internal: the state of one scaf::supervisor, shared by supervisor.cpp (the
// factory), supervisor_impl.cpp (bookkeeping, start and stop sequences,
// shutdown, the order of turns), supervisor_exits.cpp (a child's end: the
// restart strategy, intensity, backoff, auto shutdown), supervisor_calls.cpp
// (the admin calls and their messages), supervisor_specs.cpp (the spec
// checks), pool_calls.cpp (a pool's worker calls), pool.cpp and
// supervisor_ref.cpp. Built on scaf's public API.
//
// One thing happens at a time, as in OTP's gen_server loop: a start sequence
// (children started one after another, each once the one before is up) or a
// stop sequence (one at a time, in reverse start order), possibly followed
// by a backoff. Exits and admin calls that arrive meanwhile wait their turn,
// calls in the order they came; while a group restart waits for its backoff,
// calls that start no child are answered. Under one_for_one a child waits
// for its backoff on its own: nothing else waits for it. A restart attempt
// that fails before the child is up is retried through the supervisor's
// mailbox (OTP's try_again_restart), never at once, so that calls made
// meanwhile are answered between attempts whatever the backoff.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/message_handler.hpp>

#include "scaf/errc.hpp"
#include "scaf/pool.hpp"
#include "scaf/promise.hpp"
#include "scaf/scope.hpp"
#include "scaf/scope_ref.hpp"
#include "scaf/supervisor.hpp"
#include "scaf/supervisor_ref.hpp"

namespace scaf::supervision {

/// `(retry_child_atom, key, backoff_gen)`: a supervisor's message to
/// itself, the retry of a one_for_one child that failed before it was up
/// (`backoff_gen`: which of the child's waits it ends).
using retry_child_atom = caf::atom_constant<caf::atom("suptry")>;

/// `(resume_starts_atom, generation)`: a supervisor's message to itself,
/// the starts of a group restart that retries a child that failed before
/// it was up.
using resume_starts_atom = caf::atom_constant<caf::atom("supresume")>;

/// Where the answer to an admin call goes: a `supervisor_ref`'s handle or a
/// CAF response promise. Called once, in the supervisor's context.
template <class T>
using reply = std::function<void(caf::expected<T>)>;

/// The reply of a start that answers with the child's actor only.
inline reply<started_child> actor_only(reply<caf::actor> done) {
  return [done = std::move(done)](caf::expected<started_child> x) {
    if (x)
      done(std::move(x->actor));
    else
      done(std::move(x.error()));
  };
}

/// Milliseconds, for log lines and messages.
inline long long to_ms(caf::timespan x) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
}

/// How a child ended, for log lines and messages.
inline std::string render_end(const caf::error& reason) {
  return reason ? render(reason) : std::string{"success"};
}

/// An `errc::invalid_argument` error of the supervisor at `path`.
caf::error invalid(const std::string& path, std::string what);

/// What is wrong with one child spec, if anything.
caf::error check_child(const supervisor_options& opts, const child_spec& c,
                       const std::string& path);

/// What is wrong with a supervisor's options and children, if anything.
caf::error check(const supervisor_options& opts,
                 const std::vector<child_spec>& children,
                 const std::string& path);

/// What is wrong with a pool's options and worker template, if anything.
caf::error check_pool(const supervisor_options& opts,
                      const pool_template& workers, const std::string& path);

/// The error for a message that starts with one of the supervisor's atoms
/// but does not match its call (say, a pool's arguments not wrapped in
/// `caf::make_message`); empty for any other message.
caf::error refuse_shape(const std::string& path, const caf::message& msg);

/// The name of a pool's `n`-th worker: the template's name (or "worker"),
/// a dash and `n`.
std::string worker_name(const child_options& opts, uint64_t n);

/// The state of one supervisor, owned by the handlers it installs in its
/// scope, so that it lives as long as the scope's state. (A continuation or
/// timer the scope drops unrun may hold it a moment longer: its destructor
/// then touches nothing of the scope.)
class supervisor_impl : public std::enable_shared_from_this<supervisor_impl> {
public:
  /// A supervisor of `specs`, or a pool of workers made from `pool`.
  supervisor_impl(scope& s, supervisor_options opts,
                  std::vector<child_spec> specs,
                  std::shared_ptr<const pool_template> pool = nullptr);

  ~supervisor_impl();

  void start();

  // -- admin calls (supervisor_ref and messages) -----------------------------

  void start_child(child_spec spec, reply<started_child> done);

  void terminate_child(const std::string& name, reply<void> done);

  // (pools)

  /// Starts a worker from `worker`, in its turn; an error (arguments that
  /// do not match the template) is the answer, and so is an empty factory.
  void start_worker(caf::expected<child_factory> worker,
                    reply<started_child> done);

  void start_worker(const caf::message& args, reply<started_child> done);

  void terminate_worker(const caf::actor& worker, reply<void> done);

  void restart_child(const std::string& name, reply<caf::actor> done);

  void delete_child(const std::string& name, reply<void> done);

  void get_childspec(const std::string& name, reply<child_spec> done);

  void which_child(const std::string& name, reply<child_info> done);

  void which_children(reply<std::vector<child_info>> done);

  void check_childspecs(std::vector<child_spec> specs, reply<void> done);

  void count_children(reply<supervisor_counts> done);

  supervisor_ref ref() const;

private:
  enum class final_action { cancelled, fail, complete };

  struct child_entry {
    child_spec spec;
    child_state state = child_state::stopped;
    /// The running start of the child; empty while it is not running.
    caf::actor actor;
    /// The id of its current or last start's actor (0: never spawned).
    caf::actor_id last_actor = 0;
    /// The id of its first start's actor, which `start_child` returned.
    caf::actor_id first_actor = 0;
    /// How often the child was started.
    uint64_t starts = 0;
    /// How often it was started again after its first start.
    size_t restarts = 0;
    /// The delay before its next automatic restart, if backing off.
    caf::timespan next_backoff{0};
    /// How often it waited for a backoff of its own (one_for_one): which
    /// backoff a timer belongs to.
    uint64_t backoffs = 0;
    caf::actor_clock::time_point started_at;
    /// Whether it is a scope (OTP's `supervisor` type), and its shutdown
    /// time, kept apart from `spec.start`, which a temporary child drops
    /// once it is up.
    bool scope = false;
    caf::timespan shutdown{0};
    /// Admin calls waiting for this child to be up, or to have stopped.
    std::vector<reply<started_child>> up_waiters;
    std::vector<reply<void>> stop_waiters;
    /// The running start was asked for by `start_child`/`restart_child`:
    /// a failure before it is up goes to the caller, not to a restart.
    bool by_call = false;
    /// Added by `start_child` and never up: a failed start forgets it.
    bool fresh = false;
    /// Stopped with `terminate_child`: its end restarts nothing.
    bool terminated = false;
    /// A temporary child stopped for a sibling's restart: forgotten once
    /// it has stopped.
    bool drop_when_stopped = false;
  };

  struct exit_record {
    uint64_t key;
    /// Which start of the child ended.
    uint64_t start;
    caf::error reason;
    bool failed;
    /// It ended before it was up: its restart goes through the mailbox.
    bool before_up = false;
  };

  // -- children ---------------------------------------------------------------

  uint64_t add(child_spec spec);

  void forget(uint64_t key);

  std::optional<uint64_t> find(const std::string& name) const;

  child_entry* entry(uint64_t key);

  /// The child `key` no longer runs and will not start again by itself.
  void stopped(uint64_t key);

  /// Whether `c` is forgotten once it is stopped.
  bool forgotten_when_stopped(const child_entry& c) const;

  /// Keeps the scope's grace period the sum of its children's shutdown
  /// times as a child with `shutdown` comes (`sign` 1) or goes (-1).
  void add_shutdown(caf::timespan shutdown, int sign);

  std::vector<child_info> children() const;

  supervisor_counts counts() const;

  // -- starting ---------------------------------------------------------------

  void start_by_call(uint64_t key, reply<started_child> done);

  void start_child_now(uint64_t key);

  void child_up(uint64_t key, uint64_t start, caf::message info);

  void start_next();

  /// The child `key` ended, or could not be spawned, while the supervisor
  /// waited for it to come up.
  void ended_before_up(uint64_t key, const caf::error& reason, bool failed);

  // -- exits ------------------------------------------------------------------

  void on_child_exit(const child_exit& x);

  /// Restarts the child `key` (and its group) by the strategy, or not; a
  /// child that failed `before_up` is retried only after the messages
  /// already in the mailbox (calls among them) are handled.
  void handle_exit(uint64_t key, const caf::error& reason, bool failed,
                   bool before_up = false);

  bool restart_allowed();

  /// The delay before restarting `c`, and the one after that.
  caf::timespan backoff_for(child_entry& c);

  /// Restarts the child `key` (one_for_one) once `delay` has passed (zero:
  /// once the messages already in the mailbox are handled) and no start or
  /// stop sequence is under way.
  void restart_after(uint64_t key, caf::timespan delay);

  /// Waits `delay` (zero: one turn of the mailbox) before the starts of the
  /// group restart under way.
  void wait_before_starts(caf::timespan delay);

  /// The group restart's wait is over, if `gen` is still the wait under way.
  void wait_over(uint64_t gen);

  /// Whether the message being handled is one the supervisor sent itself.
  bool from_self() const;

  void check_auto_shutdown(const std::string& name, const caf::error& reason);

  // -- stopping ---------------------------------------------------------------

  void stop_then(std::vector<uint64_t> to_stop, std::vector<uint64_t> to_start);

  void stop_next();

  /// A pool's shutdown: every worker told at once.
  void stop_all_at_once();

  /// Why `c` is told to stop: the supervisor's shutdown, `terminate_child`
  /// or a sibling's restart.
  const caf::error& stop_reason(const child_entry& c);

  /// Stops every child in reverse start order, then ends the supervisor as
  /// `action` says: cancelled (it was cancelled), failed with `reason`, or
  /// done (auto shutdown).
  void shut_down(caf::error reason, final_action action);

  void finish();

  // -- sequencing -------------------------------------------------------------

  /// Whether a start or stop sequence (or a backoff) is under way.
  bool busy() const noexcept;

  /// Queues an admin call that answers through `done`. Calls run in order,
  /// between the steps of start and stop sequences: `body(done)`; one that
  /// returns false must wait (a start during a group restart's wait) and
  /// keeps its place while the calls after it run. A call still queued when
  /// the supervisor is gone is answered with `errc::scope_closed`.
  template <class T, class F>
  void enqueue_call(reply<T> done, F body) {
    auto answer = std::make_shared<reply<T>>(std::move(done));
    calls_.push_back(
      {[answer, body = std::move(body)]() mutable { return body(*answer); },
       [answer](const caf::error& why) {
         if (*answer)
           (*answer)(why);
       }});
    run_calls();
  }

  void run_calls();

  /// Stops one child (`terminate_child`), leaving `to_start_` alone.
  void stop_one(uint64_t key);

  /// `terminate_child` of the child `key`: stops it if it runs, keeps it
  /// stopped (or forgets it) and answers once it has stopped.
  void terminate(uint64_t key, reply<void> done);

  /// Handles the exits that waited for the sequence just done, then calls.
  void after_sequence();

  // -- answers ----------------------------------------------------------------

  caf::error closed_error() const;

  caf::error no_such_child(const std::string& name) const;

  caf::error refuse_if_closing() const;

  caf::error refuse_start(const child_spec& spec) const;

  caf::error refuse_restart(const std::string& name) const;

  caf::error refuse_unless_stopped(uint64_t key) const;

  /// Refuses a call made for a pool (`for_pools`) to a supervisor that is
  /// none, or one made for a supervisor's named children to a pool; `what`
  /// says why.
  caf::error refuse_wrong_kind(bool for_pools, const char* what) const;

  void settle_up_waiters(child_entry& c, caf::expected<caf::actor> x,
                         caf::message info = {});

  child_info info_of(const child_entry& c) const;

  void refuse_all(const caf::error& why);

  /// Answers a CAF request with what `call` produces.
  template <class T, class Call>
  void answer(Call call) {
    auto rp = s_.self()->make_response_promise();
    call([rp](caf::expected<T> x) mutable {
      if (!x)
        rp.deliver(std::move(x.error()));
      else if constexpr (std::is_void_v<T>)
        rp.deliver(caf::unit);
      else
        rp.deliver(std::move(*x));
    });
  }

  caf::message_handler admin_handler();

  scope& s_;
  /// The supervisor's path, for errors made once `s_` is gone.
  std::string path_;
  supervisor_options options_;
  std::shared_ptr<supervisor_ref::link> link_;
  /// Every child the supervisor knows, by key: the order they were added,
  /// which is their start order.
  std::map<uint64_t, child_entry> children_;
  std::unordered_map<std::string, uint64_t> names_;
  /// The children by their current actor (or, waiting for a restart, their
  /// last one) and by their first: a pool's worker is terminated by any.
  std::unordered_map<caf::actor_id, uint64_t> actors_;
  /// Set for a pool: its workers' template.
  std::shared_ptr<const pool_template> pool_;
  /// A pool's workers started so far: the next one's number.
  uint64_t workers_started_ = 0;
  /// A pool's workers told to stop by its shutdown that have not ended.
  size_t draining_ = 0;
  uint64_t next_key_ = 0;
  /// The children's finite shutdown times, summed, and how many wait
  /// forever: the scope's grace period is their sum.
  caf::timespan shutdown_sum_{0};
  int waits_forever_ = 0;
  /// Restart times within the current period.
  std::deque<caf::actor_clock::time_point> restarts_;
  /// Children being stopped, in order; the first one has been told.
  std::deque<uint64_t> stopping_;
  /// Children to start, one after another, once `stopping_` is done and the
  /// backoff passed.
  std::deque<uint64_t> to_start_;
  /// The child started last, until it is up.
  std::optional<uint64_t> starting_;
  /// Resolved once the child `starting_` is up (or ended before that).
  handle<caf::message> starting_up_;
  /// Exits of other children while a sequence was under way.
  std::deque<exit_record> pending_;
  /// Children (and which backoff of theirs) whose own backoff has passed
  /// (one_for_one), waiting for the sequence under way.
  std::deque<std::pair<uint64_t, uint64_t>> due_;
  /// An admin call waiting for its turn, and how to refuse it.
  struct queued_call {
    std::function<bool()> run;
    std::function<void(const caf::error&)> refuse;
  };

  /// Admin calls, in the order they came.
  std::deque<queued_call> calls_;
  /// `run_calls` is running (a call's body may reach it again).
  bool running_calls_ = false;
  /// The backoff before the starts of the restart under way.
  caf::timespan backoff_{0};
  /// The restart under way retries a child that failed before it was up:
  /// it waits for one turn of the mailbox even without a backoff.
  bool retry_later_ = false;
  std::minstd_rand random_{std::random_device{}()};
  uint64_t generation_ = 0;
  bool waiting_backoff_ = false;
  /// Until the first start sequence is done: a failure there fails the
  /// supervisor's start.
  bool initial_ = true;
  /// Cancelled, given up or shutting down by itself: no more restarts; the
  /// scope ends once every child is stopped.
  bool shutting_down_ = false;
  final_action final_action_ = final_action::cancelled;
  caf::error final_reason_;
  /// The cancel reasons of `stop_reason`, each made when first needed.
  caf::error shutdown_reason_;
  caf::error terminate_reason_;
  caf::error restart_reason_;
};

} // namespace scaf::supervision

namespace scaf {

/// What a `supervisor_ref` holds: the supervisor's scope, and its state,
/// which only that scope's context touches.
class supervisor_ref::link {
public:
  scope_ref scope;
  std::weak_ptr<supervision::supervisor_impl> impl;
  /// Set for a pool (immutable: read from any thread).
  std::shared_ptr<const pool_template> pool;
};

} // namespace scaf

namespace scaf::supervision {

/// Runs `call(impl, reply)` in the context of the supervisor `link` refers
/// to; the handle resolves with the reply.
template <class T, class Call>
handle<T> call(const std::shared_ptr<supervisor_ref::link>& link, Call call) {
  if (!link) {
    promise<T> p;
    p.resolve(make_error(errc::invalid_argument, "",
                         "a reference that refers to no supervisor"));
    return p.get_handle();
  }
  return link->scope.call([weak = link->impl, call](scope& s) {
    promise<T> p;
    if (auto impl = weak.lock())
      call(*impl, [p](caf::expected<T> x) { p.resolve(std::move(x)); });
    else
      p.resolve(make_error(errc::scope_closed, s.path(),
                           "the supervisor is shutting down"));
    return p.get_handle();
  });
}

/// The options of a supervisor's scope: its grace period bounds its
/// shutdown, which the supervisor keeps as its children come and go (zero
/// without children).
scope_options supervisor_scope();

} // namespace scaf::supervision
