// scaf-merge-traces, installed with scaf: merges the trace files that
// `--scaf.trace-file` wrote in a caller and its nodes on one machine into
// one trace that Perfetto opens (docs/distributed.md).
//
//   scaf-merge-traces OUTPUT INPUT...
#include <cstdio>
#include <string>
#include <vector>

#include "scaf/errc.hpp"
#include "scaf/trace_merge.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2 || args[0] == "--help" || args[0] == "-h") {
    std::fprintf(stderr,
                 "usage: scaf-merge-traces OUTPUT INPUT...\n"
                 "merges trace files of processes of one machine (a caller "
                 "and its scaf nodes) into one trace, a process each\n");
    return args.size() == 1 && (args[0] == "--help" || args[0] == "-h") ? 0 : 2;
  }
  std::vector<std::string> inputs(args.begin() + 1, args.end());
  if (auto err = scaf::merge_traces(inputs, args[0])) {
    std::fprintf(stderr, "scaf-merge-traces: %s\n", scaf::render(err).c_str());
    return 1;
  }
  std::printf("%s: %zu traces merged\n", args[0].c_str(), inputs.size());
  return 0;
}
