// scaf's runtime beside CAF's scheduler: the pool that runs function tasks
// and the watch that names jobs holding a scheduler thread too long.
#include "scaf/detail/runtime.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>
#include <caf/local_actor.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include "scaf/detail/job.hpp"
#include "scaf/task.hpp"

#include "log.hpp"

namespace scaf::detail {

// -- function_pool ------------------------------------------------------------

struct function_pool::impl {
  using clock_type = std::chrono::steady_clock;

  /// How long a function may wait while every thread is busy before the
  /// pool starts another, and how often the pool looks.
  static constexpr auto starved_after = std::chrono::milliseconds{20};
  static constexpr auto look_every = std::chrono::milliseconds{10};

  /// The most threads the pool runs, however long functions wait.
  static constexpr size_t hard_max = 256;

  struct queued {
    caf::resumable* job;
    clock_type::time_point since;
  };

  std::mutex mtx;
  /// A job arrived, or the pool stops.
  std::condition_variable work;
  /// A thread ended.
  std::condition_variable gone;
  /// Jobs wait with every thread busy, or the pool stops.
  std::condition_variable starving;
  std::deque<queued> queue;
  /// Threads kept running; more only while functions starve.
  size_t max = 1;
  /// Threads alive, waiting for a job, and blocked in a wait of scaf's.
  size_t threads = 0;
  size_t idle = 0;
  size_t blocked = 0;
  /// Idle threads told to wake that have not yet: a burst of jobs wakes
  /// each sleeping thread once, not once a job.
  size_t waking = 0;
  bool stopping = false;
  /// The monitor looks every `look_every` on its own: nobody wakes it.
  bool watching = false;
  std::thread monitor;
  caf::actor_system* sys = nullptr;

  /// Whether another thread may run jobs now.
  bool may_grow() const noexcept {
    return threads - blocked < max;
  }

  void spawn_thread() {
    ++threads;
    std::thread{[this] { run(); }}.detach();
  }

  /// Wakes an idle thread for a new job, or starts one if jobs wait that
  /// no idle thread will take, or tells the monitor that they starve.
  void dispatch() {
    if (idle > waking) {
      ++waking;
      work.notify_one();
    }
    if (stopping || queue.size() <= idle)
      return;
    if (may_grow())
      spawn_thread();
    else if (idle == 0 && !watching)
      starving.notify_one();
  }

  void run();

  /// While every thread is busy for longer than `starved_after` (functions
  /// that poll their token, or run long), adds a thread every `look_every`
  /// up to `hard_max`: no function waits forever behind others.
  void watch();
};

void function_pool::impl::watch() {
  std::unique_lock<std::mutex> guard{mtx};
  while (!stopping) {
    starving.wait(guard,
                  [this] { return stopping || (!queue.empty() && idle == 0); });
    watching = true;
    while (!stopping && !queue.empty() && idle == 0) {
      if (clock_type::now() - queue.front().since >= starved_after &&
          threads < hard_max)
        spawn_thread();
      starving.wait_for(guard, look_every);
    }
    watching = false;
  }
}

thread_local function_pool::impl* function_pool::current_ = nullptr;

void function_pool::impl::run() {
  current_ = this;
  pthread_setname_np(pthread_self(), "scaf.function");
  sys->thread_started();
  std::unique_lock<std::mutex> guard{mtx};
  for (;;) {
    while (queue.empty() && !stopping) {
      // Started while others were blocked or starved: no longer needed.
      if (threads - blocked > max)
        break;
      ++idle;
      work.wait(guard);
      --idle;
      if (waking > 0)
        --waking;
    }
    if (queue.empty())
      break;
    auto job = queue.front().job;
    queue.pop_front();
    guard.unlock();
    job->resume(nullptr, 1);
    intrusive_ptr_release(job);
    guard.lock();
  }
  current_ = nullptr;
  // The hooks run while the pool waits for this thread (and so the system
  // is still alive).
  guard.unlock();
  sys->thread_terminates();
  guard.lock();
  --threads;
  gone.notify_all();
  // Nothing here touches the pool once the lock is released.
}

function_pool::function_pool() : impl_(std::make_unique<impl>()) {
  // nop
}

function_pool::~function_pool() {
  stop();
}

void function_pool::start(caf::actor_system& sys, size_t max_threads) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->sys = &sys;
  impl_->max = std::max(max_threads, size_t{1});
  impl_->stopping = false;
  impl_->monitor = std::thread{[this] {
    pthread_setname_np(pthread_self(), "scaf.poolwatch");
    impl_->watch();
  }};
}

void function_pool::submit(caf::resumable* job) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->queue.push_back({job, impl::clock_type::now()});
  impl_->dispatch();
}

void function_pool::stop() {
  std::unique_lock<std::mutex> guard{impl_->mtx};
  if (!impl_->monitor.joinable())
    return;
  impl_->stopping = true;
  impl_->work.notify_all();
  impl_->starving.notify_all();
  impl_->gone.wait(guard, [this] { return impl_->threads == 0; });
  // Jobs of scopes that died abnormally: nobody waits for them.
  for (auto& x : impl_->queue)
    intrusive_ptr_release(x.job);
  impl_->queue.clear();
  guard.unlock();
  impl_->monitor.join();
}

bool function_pool::on_pool_thread() noexcept {
  return current_ != nullptr;
}

void function_pool::enter_blocking() noexcept {
  auto pool = current_;
  if (pool == nullptr)
    return;
  std::lock_guard<std::mutex> guard{pool->mtx};
  ++pool->blocked;
  pool->dispatch();
}

void function_pool::leave_blocking() noexcept {
  auto pool = current_;
  if (pool == nullptr)
    return;
  std::lock_guard<std::mutex> guard{pool->mtx};
  --pool->blocked;
}

// -- busy_watch ---------------------------------------------------------------

namespace {

using clock_type = std::chrono::steady_clock;

/// Names the job for a log line; it is alive while this runs.
std::string describe(caf::resumable* job) {
  if (auto fn = dynamic_cast<detail::job*>(job))
    return fn->path().str();
  if (auto task = dynamic_cast<task_base*>(job)) {
    auto path = task_access::watched_path(*task);
    return path.empty() ? "a task that has not started" : path;
  }
  if (auto actor = dynamic_cast<caf::local_actor*>(job))
    return std::string{"actor "} + std::to_string(actor->id()) + " (" +
           actor->name() + ")";
  return "a job of CAF's";
}

} // namespace

struct busy_watch::impl {
  /// What the watch saw of one slot.
  struct sample {
    uint64_t seq = 0;
    const caf::resumable* job = nullptr;
    clock_type::time_point first{};
    bool named = false;
  };

  caf::timespan threshold{0};
  std::function<busy_slot&(size_t)> slot;
  std::thread thread;
  mutable std::mutex mtx;
  std::condition_variable cv;
  bool stopping = false;
  std::vector<sample> samples;
  /// How many slots held one job past the threshold at the last look.
  std::atomic<size_t> over{0};

  void run();
};

void busy_watch::impl::run() {
  pthread_setname_np(pthread_self(), "scaf.busywatch");
  auto period =
    std::max(threshold / 4, caf::timespan{std::chrono::milliseconds{1}});
  std::unique_lock<std::mutex> guard{mtx};
  std::vector<size_t> to_name;
  while (!cv.wait_for(guard, period, [this] { return stopping; })) {
    auto now = clock_type::now();
    size_t held_past = 0;
    to_name.clear();
    for (size_t i = 0; i < samples.size(); ++i) {
      auto& x = samples[i];
      auto seq = slot(i).seq();
      auto job = slot(i).peek();
      if (seq != x.seq || job != x.job) {
        x = sample{seq, job, now, false};
        continue;
      }
      if (job == nullptr || now - x.first < threshold)
        continue;
      ++held_past;
      if (!x.named) {
        x.named = true;
        to_name.push_back(i);
      }
    }
    // Counted before the log line: whoever reads it finds the job busy.
    over.store(held_past, std::memory_order_relaxed);
    for (auto i : to_name) {
      auto& x = samples[i];
      auto held =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - x.first);
      std::string what;
      slot(i).inspect(x.seq, [&](caf::resumable* j) { what = describe(j); });
      if (what.empty())
        continue; // ended meanwhile
      // The log line is written outside the lock: the tree may ask meanwhile.
      guard.unlock();
      log().warn("{} has been running on a scheduler thread for {} ms "
                 "(scaf.busy-warning: {} ms): the actors waiting for that "
                 "thread, and the cancels they would deliver, wait until it "
                 "returns; run long or blocking work as a function task that "
                 "takes a stop token or a task_context, or a blocking task",
                 what, held.count(), to_ms(threshold));
      guard.lock();
      if (stopping)
        return;
    }
  }
}

busy_watch::busy_watch() : impl_(std::make_unique<impl>()) {
  // nop
}

busy_watch::~busy_watch() {
  stop();
}

void busy_watch::start(caf::timespan threshold, size_t count,
                       std::function<busy_slot&(size_t)> slot) {
  impl_->threshold = threshold;
  impl_->slot = std::move(slot);
  impl_->samples.resize(count);
  impl_->stopping = false;
  impl_->thread = std::thread{[this] { impl_->run(); }};
}

void busy_watch::stop() {
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

bool busy_watch::any_busy() const noexcept {
  return impl_->over.load(std::memory_order_relaxed) > 0;
}

std::optional<caf::timespan>
busy_watch::busy_for(const caf::resumable* job) const {
  if (job == nullptr || !any_busy())
    return std::nullopt;
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto now = clock_type::now();
  for (size_t i = 0; i < impl_->samples.size(); ++i) {
    auto& x = impl_->samples[i];
    if (x.job != job || impl_->slot(i).seq() != x.seq)
      continue;
    auto held = now - x.first;
    if (held >= impl_->threshold)
      return std::chrono::duration_cast<caf::timespan>(held);
  }
  return std::nullopt;
}

// -- runtime ------------------------------------------------------------------

runtime* runtime::of(caf::actor_system& sys) noexcept {
  return dynamic_cast<runtime*>(&sys.scheduler());
}

void runtime::start_runtime(caf::actor_system& sys, size_t count,
                            std::function<busy_slot&(size_t)> slot) {
  auto& cfg = sys.config();
  auto threads =
    caf::get_or(cfg, "scaf.function-threads", default_function_threads());
  functions_.start(sys, threads);
  auto threshold = caf::get_or(cfg, "scaf.busy-warning",
                               caf::timespan{std::chrono::milliseconds{100}});
  if (slot && threshold > caf::timespan{0})
    watch_.start(threshold, count, std::move(slot));
}

void runtime::stop_runtime() {
  watch_.stop();
  functions_.stop();
}

size_t default_function_threads() noexcept {
  return std::max(size_t{4}, size_t{std::thread::hardware_concurrency()});
}

} // namespace scaf::detail
