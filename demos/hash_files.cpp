// hash_files: the errgroup shape. Hashes files in parallel, at most 8 at a
// time, on blocking tasks; the first failure (a missing file) cancels the
// rest, and scaf::run returns only after every task has stopped, so the tasks
// may borrow `files` by reference.
//
//   hash_files FILE...     (defaults to this program's own binary, twice)
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stop_token>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "scaf/all.hpp"

namespace {

using digest = uint64_t;
using path = std::filesystem::path;

/// FNV-1a over the file's bytes; checks the stop token between chunks.
caf::expected<digest> hash_file(const path& file, std::stop_token stop) {
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
  }
  return h;
}

//! [hash-all]
caf::expected<std::vector<digest>> hash_all(caf::actor_system& sys,
                                            const std::vector<path>& files) {
  return scaf::run(sys, [&](scaf::scope& s) {
    s.set_limit(8);
    std::vector<scaf::handle<digest>> hs;
    for (auto& f : files)
      hs.push_back(s.spawn_blocking(
        [&f](std::stop_token stop) { return hash_file(f, stop); }));
    return scaf::collect(hs); // values in spawn order, or the first error
  });
}
//! [hash-all]

} // namespace

int main(int argc, char** argv) {
  caf::actor_system_config cfg;
  scaf::init(cfg);
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  std::vector<path> files;
  for (int i = 1; i < argc; ++i)
    files.emplace_back(argv[i]);
  if (files.empty())
    files = {argv[0], argv[0]};
  auto result = hash_all(sys, files);
  if (!result) {
    std::printf("failed: %s\n", scaf::render(result.error()).c_str());
    return 1;
  }
  for (size_t i = 0; i < files.size(); ++i)
    std::printf("%016llx  %s\n", static_cast<unsigned long long>((*result)[i]),
                files[i].c_str());
  return 0;
}
