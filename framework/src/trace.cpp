// The trace file (trace.hpp): events written with nlohmann-json, the array
// closed after each one so that the file can be opened at any moment.
#include "trace.hpp"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace scaf::detail::trace {

namespace {

struct writer {
  std::mutex mtx;
  std::FILE* file = nullptr;
  const caf::actor_system* owner = nullptr;
  bool first = true;
  /// The track of each path seen.
  std::unordered_map<std::string, uint64_t> tracks;
  /// Events not written yet.
  std::string pending;
};

/// How many bytes of events are written at once.
constexpr size_t flush_at = 1 << 20;

writer& out() {
  static writer instance;
  return instance;
}

/// Microseconds on the actor clock (steady): the viewers start at the
/// first event.
long long us(time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           t.time_since_epoch())
    .count();
}

/// Writes the events gathered so far and closes the array again: the file
/// is valid JSON after each flush (the caller holds the lock).
void flush(writer& w) {
  if (w.file == nullptr || w.pending.empty())
    return;
  w.pending += "\n]\n";
  std::fwrite(w.pending.data(), 1, w.pending.size(), w.file);
  std::fflush(w.file);
  // The next flush overwrites the closing bracket.
  std::fseek(w.file, -3, SEEK_CUR);
  w.pending.clear();
}

/// Appends `event` (the caller holds the lock); written in batches.
void write(writer& w, const nlohmann::json& event) {
  if (w.file == nullptr)
    return;
  w.pending += w.first ? "\n" : ",\n";
  w.first = false;
  w.pending += event.dump();
  if (w.pending.size() >= flush_at)
    flush(w);
}

} // namespace

std::string open(const caf::actor_system& sys, const std::string& path) {
  auto& w = out();
  std::lock_guard<std::mutex> guard{w.mtx};
  enabled = false;
  if (w.file != nullptr) {
    flush(w);
    std::fclose(w.file);
    w.file = nullptr;
  }
  if (path.empty())
    return {};
  w.file = std::fopen(path.c_str(), "w+");
  if (w.file == nullptr)
    return "scaf.trace-file: cannot open " + path + " for writing";
  w.owner = &sys;
  w.first = true;
  w.tracks.clear();
  w.pending.clear();
  std::fputs("[", w.file);
  std::fputs("\n]\n", w.file);
  std::fflush(w.file);
  std::fseek(w.file, -3, SEEK_CUR);
  enabled = true;
  return {};
}

void close(const caf::actor_system& sys) {
  auto& w = out();
  std::lock_guard<std::mutex> guard{w.mtx};
  if (w.owner != &sys || w.file == nullptr)
    return;
  enabled = false;
  flush(w);
  std::fclose(w.file);
  w.file = nullptr;
  w.owner = nullptr;
}

/// The track of `path`, announced to the viewers the first time (the caller
/// holds the lock).
uint64_t track(writer& w, const std::string& path) {
  auto [i, added] = w.tracks.emplace(path, w.tracks.size() + 1);
  if (added) {
    write(w, {{"ph", "M"},
              {"pid", 1},
              {"tid", i->second},
              {"name", "thread_name"},
              {"args", {{"name", path}}}});
    write(w, {{"ph", "M"},
              {"pid", 1},
              {"tid", i->second},
              {"name", "thread_sort_index"},
              {"args", {{"sort_index", i->second}}}});
  }
  return i->second;
}

void span(const std::string& path, const std::string& kind, time_point begin,
          time_point end, const std::string& outcome,
          const std::string& reason) {
  auto& w = out();
  nlohmann::json args{{"path", path}, {"kind", kind}, {"outcome", outcome}};
  if (!reason.empty())
    args["reason"] = reason;
  auto slash = path.rfind('/');
  auto name = slash == std::string::npos ? path : path.substr(slash + 1);
  std::lock_guard<std::mutex> guard{w.mtx};
  if (w.file == nullptr)
    return;
  auto tid = track(w, path);
  write(w, {{"ph", "X"},
            {"pid", 1},
            {"tid", tid},
            {"name", name},
            {"cat", kind},
            {"ts", us(begin)},
            {"dur", us(end) - us(begin)},
            {"args", std::move(args)}});
}

void instant(const std::string& path, const std::string& what, time_point at,
             const std::string& reason, const std::string& origin) {
  auto& w = out();
  nlohmann::json args{{"path", path}};
  if (!reason.empty())
    args["reason"] = reason;
  if (!origin.empty())
    args["origin"] = origin;
  std::lock_guard<std::mutex> guard{w.mtx};
  if (w.file == nullptr)
    return;
  auto tid = track(w, path);
  write(w, {{"ph", "i"},
            {"s", "t"},
            {"pid", 1},
            {"tid", tid},
            {"name", what},
            {"ts", us(at)},
            {"args", std::move(args)}});
}

} // namespace scaf::detail::trace
