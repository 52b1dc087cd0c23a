// Keeps the code blocks of README.md and docs/ true to files that are built.
//
//   scaf_snippets --check  ROOT FILE.md...   fails on any block that drifted
//   scaf_snippets --update ROOT FILE.md...   rewrites the blocks from sources
//
// A fenced block preceded by the line
//
//   <!-- snippet: PATH [NAME] [NAME2] -->
//
// must equal the regions NAME, NAME2, ... of PATH (relative to ROOT), joined
// by an empty line; without a name, the whole file. A region is the lines
// between two marker lines `//! [NAME]` (`## [NAME]` in CMake and shell
// files), dedented; marker lines never show. Every other block must say what
// it is: `cpp` and `cmake` blocks need a source, `sh` blocks may only name
// scripts of the repository that exist, `text` blocks are output and
// diagrams. Plain C++ with no dependencies: it runs before anything else is
// built.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;

namespace {

using lines = std::vector<std::string>;

std::optional<lines> read_lines(const fs::path& file) {
  std::ifstream in{file};
  if (!in)
    return std::nullopt;
  lines result;
  for (std::string line; std::getline(in, line);)
    result.push_back(std::move(line));
  return result;
}

std::string_view trim(std::string_view x) {
  auto first = x.find_first_not_of(" \t");
  if (first == std::string_view::npos)
    return {};
  auto last = x.find_last_not_of(" \t");
  return x.substr(first, last - first + 1);
}

/// The region name of a marker line, if it is one.
std::optional<std::string> marker_of(std::string_view line) {
  auto x = trim(line);
  for (std::string_view prefix : {"//! [", "## ["})
    if (x.starts_with(prefix) && x.ends_with(']'))
      return std::string{x.substr(prefix.size(), x.size() - prefix.size() - 1)};
  return std::nullopt;
}

/// Removes the indentation all non-empty lines share.
void dedent(lines& xs) {
  auto indent = std::string::npos;
  for (auto& x : xs)
    if (!trim(x).empty())
      indent = std::min(indent, x.find_first_not_of(" \t"));
  if (indent == std::string::npos)
    return;
  for (auto& x : xs)
    x = x.size() >= indent ? x.substr(indent) : std::string{};
}

struct extraction {
  lines text;
  std::string error;
};

/// The regions `names` of `source` (all of it if `names` is empty).
extraction extract(const fs::path& root, const std::string& source,
                   const std::vector<std::string>& names) {
  auto file = read_lines(root / source);
  if (!file)
    return {{}, "cannot read " + source};
  if (names.empty()) {
    lines all;
    for (auto& x : *file)
      if (!marker_of(x))
        all.push_back(x);
    return {all, {}};
  }
  lines result;
  for (auto& name : names) {
    lines region;
    auto inside = false;
    auto found = false;
    for (auto& x : *file) {
      auto marker = marker_of(x);
      if (marker && *marker == name) {
        found = true;
        inside = !inside;
      } else if (inside && !marker) {
        region.push_back(x);
      }
    }
    if (!found || inside)
      return {{},
              source + " has no region [" + name + "] (two lines `//! [" +
                name + "]`)"};
    dedent(region);
    if (!result.empty())
      result.emplace_back();
    result.insert(result.end(), region.begin(), region.end());
  }
  return {result, {}};
}

struct directive {
  std::string source;
  std::vector<std::string> names;
};

std::optional<directive> directive_of(std::string_view line) {
  constexpr std::string_view open = "<!-- snippet:";
  constexpr std::string_view close = "-->";
  auto x = trim(line);
  if (!x.starts_with(open) || !x.ends_with(close))
    return std::nullopt;
  std::istringstream words{
    std::string{x.substr(open.size(), x.size() - open.size() - close.size())}};
  directive result;
  words >> result.source;
  for (std::string word; words >> word;)
    if (word.size() > 2 && word.front() == '[' && word.back() == ']')
      result.names.push_back(word.substr(1, word.size() - 2));
    else
      return std::nullopt;
  return result;
}

/// What is wrong with an `sh` block: a `scripts/...` word that names no
/// executable script of the repository.
std::string check_commands(const fs::path& root, const lines& body) {
  for (auto& line : body) {
    std::istringstream words{line};
    for (std::string word; words >> word;) {
      if (word.starts_with("#"))
        break;
      if (!word.starts_with("scripts/"))
        continue;
      auto status = fs::status(root / word);
      if (!fs::is_regular_file(status) ||
          (status.permissions() & fs::perms::owner_exec) == fs::perms::none)
        return "names " + word + ", which is no script of the repository";
    }
  }
  return {};
}

/// Checks (or, with `update`, rewrites) the blocks of one Markdown file.
/// Returns the number of problems left.
int process(const fs::path& root, const fs::path& doc, bool update) {
  auto name = fs::relative(doc, root).string();
  auto text = read_lines(doc);
  if (!text) {
    std::fprintf(stderr, "%s: cannot read\n", name.c_str());
    return 1;
  }
  auto problems = 0;
  auto changed = false;
  lines out;
  auto report = [&](size_t line, const std::string& what) {
    std::fprintf(stderr, "%s:%zu: %s\n", name.c_str(), line + 1, what.c_str());
    ++problems;
  };
  auto& in = *text;
  for (size_t i = 0; i < in.size(); ++i) {
    out.push_back(in[i]);
    if (!in[i].starts_with("```"))
      continue;
    auto lang = std::string{trim(std::string_view{in[i]}.substr(3))};
    auto open = i;
    auto close = open + 1;
    while (close < in.size() && !in[close].starts_with("```"))
      ++close;
    if (close == in.size()) {
      report(open, "code block never closed");
      break;
    }
    lines body(in.begin() + open + 1, in.begin() + close);
    auto source = open > 0 ? directive_of(in[open - 1]) : std::nullopt;
    if (source) {
      auto x = extract(root, source->source, source->names);
      if (!x.error.empty()) {
        report(open - 1, x.error);
      } else if (x.text != body) {
        if (update) {
          body = x.text;
          changed = true;
        } else {
          auto at = std::mismatch(body.begin(), body.end(), x.text.begin(),
                                  x.text.end());
          auto n = static_cast<size_t>(at.first - body.begin());
          report(
            open + 1 + n,
            "differs from " + source->source +
              " (run the update_snippets target): the block has \"" +
              (at.first == body.end() ? std::string{"<end>"} : *at.first) +
              "\", the source \"" +
              (at.second == x.text.end() ? std::string{"<end>"} : *at.second) +
              "\"");
        }
      }
    } else if (lang.empty()) {
      report(open, "a code block says what it is: cpp, cmake, sh or text");
    } else if (lang == "cpp" || lang == "cmake") {
      report(open, "a " + lang +
                     " block comes from a built file: put `<!-- snippet: "
                     "PATH [NAME] -->` above it");
    } else if (lang == "sh") {
      if (auto what = check_commands(root, body); !what.empty())
        report(open, what);
    } else if (lang != "text") {
      report(open, "unknown block kind " + lang + " (cpp, cmake, sh, text)");
    }
    out.insert(out.end(), body.begin(), body.end());
    out.push_back(in[close]);
    i = close;
  }
  if (update && changed) {
    std::ofstream file{doc, std::ios::trunc};
    for (auto& x : out)
      file << x << '\n';
    std::printf("%s: updated\n", name.c_str());
  }
  return problems;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 3 || (args[0] != "--check" && args[0] != "--update")) {
    std::fprintf(stderr,
                 "usage: scaf_snippets (--check|--update) ROOT FILE.md...\n");
    return 2;
  }
  auto update = args[0] == "--update";
  fs::path root{args[1]};
  auto problems = 0;
  for (size_t i = 2; i < args.size(); ++i)
    problems += process(root, root / args[i], update);
  if (problems > 0)
    std::fprintf(stderr, "%d code block(s) of the docs need attention\n",
                 problems);
  return problems == 0 ? 0 : 1;
}
