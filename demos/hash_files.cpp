// hash_files: the errgroup shape on real files. Hashes every file under the
// given paths (folders are walked) on blocking tasks, at most --jobs at a
// time; the first failure (a file that cannot be read) cancels the rest and
// is the answer; --deadline fails the run when it passes; Ctrl-C cancels it.
// `run` returns only after every task has stopped, so the tasks may borrow
// the file list and the progress counters by reference.
//
//   hash_files [--jobs N] [--deadline DURATION] PATH...
//       (no PATH: this program's own binary, twice)
//
// A progress line (files done, MB/s) is refreshed in place on a terminal,
// printed once a second otherwise, on runs longer than a second.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <caf/all.hpp>

#include "scaf/all.hpp"

#include "ctrl_c.hpp"

namespace {

using namespace std::chrono_literals;
using digest = uint64_t;
using path = std::filesystem::path;

/// What the tasks report as they go, read by the progress line.
struct progress {
  std::atomic<size_t> files{0};
  std::atomic<uint64_t> bytes{0};
};

/// FNV-1a over the file's bytes; checks the stop token between chunks.
caf::expected<digest> hash_file(const path& file, std::stop_token stop,
                                progress* p = nullptr) {
  std::ifstream in{file, std::ios::binary};
  if (!in)
    return caf::make_error(caf::sec::cannot_open_file, file.string());
  digest h = 14695981039346656037ull;
  std::vector<char> buf(64 * 1024);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) ||
         in.gcount() > 0) {
    if (stop.stop_requested())
      return scaf::make_error(scaf::errc::cancelled, file.string(),
                              "stopped while hashing");
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h ^= static_cast<unsigned char>(buf[static_cast<size_t>(i)]);
      h *= 1099511628211ull;
    }
    if (p != nullptr)
      p->bytes += static_cast<uint64_t>(in.gcount());
  }
  if (p != nullptr)
    ++p->files;
  return h;
}

struct options {
  size_t jobs = 8;
  std::optional<caf::timespan> deadline;
  std::vector<path> paths;
};

//! [hash-all]
caf::expected<std::vector<digest>>
hash_all(caf::actor_system& sys, const std::vector<path>& files,
         const options& opts, progress& done,
         const std::function<void(scaf::scope_ref)>& started) {
  return scaf::run(sys, [&](scaf::scope& s) {
    started(s.ref()); // so that Ctrl-C can cancel it
    s.set_limit(opts.jobs);
    if (opts.deadline)
      s.fail_after(*opts.deadline);
    std::vector<scaf::handle<digest>> hs;
    for (auto& f : files)
      hs.push_back(s.spawn_blocking([&f, &done](std::stop_token stop) {
        return hash_file(f, stop, &done);
      }));
    return scaf::collect(hs); // values in spawn order, or the first error
  });
}
//! [hash-all]

/// Reads "500ms", "2s", "1min" as a duration.
std::optional<caf::timespan> parse_duration(const std::string& x) {
  size_t used = 0;
  double n = 0;
  try {
    n = std::stod(x, &used);
  } catch (...) {
    return std::nullopt;
  }
  auto unit = x.substr(used);
  double ms = unit == "ms"    ? n
              : unit == "s"   ? n * 1e3
              : unit == "min" ? n * 6e4
                              : -1;
  if (ms < 0 || n < 0)
    return std::nullopt;
  return std::chrono::duration_cast<caf::timespan>(
    std::chrono::duration<double, std::milli>{ms});
}

std::optional<options> parse(int argc, char** argv) {
  options result;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--jobs" && i + 1 < argc) {
      auto n = std::atoi(argv[++i]);
      if (n <= 0)
        return std::nullopt;
      result.jobs = static_cast<size_t>(n);
    } else if (arg == "--deadline" && i + 1 < argc) {
      result.deadline = parse_duration(argv[++i]);
      if (!result.deadline)
        return std::nullopt;
    } else if (arg.rfind("--", 0) == 0) {
      return std::nullopt;
    } else {
      result.paths.emplace_back(arg);
    }
  }
  if (result.paths.empty())
    result.paths = {argv[0], argv[0]};
  return result;
}

/// Every file under `paths` (folders walked, in order), or why not.
caf::expected<std::vector<path>> files_under(const std::vector<path>& paths) {
  std::vector<path> result;
  for (auto& p : paths) {
    std::error_code ec;
    if (!std::filesystem::is_directory(p, ec)) {
      result.push_back(p); // a file, or something that will fail to open
      continue;
    }
    std::vector<path> found;
    for (auto i = std::filesystem::recursive_directory_iterator{p, ec};
         !ec && i != std::filesystem::recursive_directory_iterator{};
         i.increment(ec))
      if (!i->is_directory())
        found.push_back(i->path());
    if (ec)
      return caf::make_error(caf::sec::cannot_open_file,
                             p.string() + ": " + ec.message());
    std::sort(found.begin(), found.end());
    result.insert(result.end(), found.begin(), found.end());
  }
  return result;
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse(argc, argv);
  if (!opts) {
    std::fprintf(stderr, "usage: hash_files [--jobs N] [--deadline DURATION "
                         "(e.g. 500ms, 2s)] PATH...\n");
    return 2;
  }
  // Ctrl-C goes to the watcher below: blocked before CAF starts threads.
  demo::block_ctrl_c();
  caf::actor_system_config cfg;
  scaf::init(cfg);
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  auto files = files_under(opts->paths);
  if (!files) {
    std::printf("failed: %s\n", scaf::render(files.error()).c_str());
    return 1;
  }
  progress done;
  std::atomic<bool> finished{false};
  std::optional<scaf::scope_ref> scope;
  std::atomic<bool> have_scope{false};
  std::atomic<bool> cancelled{false};
  // Ctrl-C cancels the run; the progress line shows how far it got.
  std::thread watcher{[&] {
    auto start = std::chrono::steady_clock::now();
    auto tty = ::isatty(STDOUT_FILENO) != 0;
    auto last_line = start;
    auto shown = false;
    auto interrupted = false;
    while (!finished) {
      // (A Ctrl-C that came before the run began cancels it once it has.)
      interrupted = demo::ctrl_c(100ms) || interrupted;
      if (interrupted && !cancelled && have_scope) {
        cancelled = true;
        scope->cancel("Ctrl-C");
        std::printf("%sCtrl-C: cancelling\n", shown && tty ? "\n" : "");
      }
      auto now = std::chrono::steady_clock::now();
      auto secs = std::chrono::duration<double>(now - start).count();
      // Only long runs get a progress line.
      if (secs < 1.0 || (!tty && now - last_line < 1s))
        continue;
      last_line = now;
      shown = true;
      std::printf("%s%zu/%zu files, %.1f MB/s%s", tty ? "\r" : "",
                  done.files.load(), files->size(),
                  static_cast<double>(done.bytes.load()) / 1e6 / secs,
                  tty ? "" : "\n");
      std::fflush(stdout);
    }
    if (shown && tty)
      std::printf("\n");
  }};
  auto result = hash_all(sys, *files, *opts, done, [&](scaf::scope_ref x) {
    scope = std::move(x);
    have_scope = true;
  });
  finished = true;
  watcher.join();
  if (!result && cancelled) {
    std::printf("cancelled by Ctrl-C after %zu of %zu files; every task "
                "stopped\n",
                done.files.load(), files->size());
    return 130;
  }
  if (!result) {
    // The first failure, or the deadline: every task stopped.
    std::printf("failed after %zu of %zu files: %s\n", done.files.load(),
                files->size(), scaf::render(result.error()).c_str());
    return 1;
  }
  for (size_t i = 0; i < files->size(); ++i)
    std::printf("%016llx  %s\n", static_cast<unsigned long long>((*result)[i]),
                (*files)[i].c_str());
  return 0;
}
