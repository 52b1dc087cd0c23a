#pragma once

#include <string>
#include <vector>

#include <caf/error.hpp>

namespace scaf {

/// Merges trace files that `scaf.trace-file` wrote in several processes of
/// one machine (a caller and the nodes its remote children ran on) into one
/// file that Perfetto opens as one trace: each input becomes a process of
/// its own, named after its root (the first path it traced: a node's name,
/// a caller's root scope) and the file, on one time line (every trace
/// counts microseconds of the machine's monotonic clock, so the spans of a
/// remote child on its node lie inside its stand-in's span in its caller's
/// trace). Traces of different machines would not line up: their clocks
/// differ. Fails with `errc::invalid_argument`, naming the file, if an
/// input cannot be read or is not a trace, or the output cannot be
/// written; writes nothing then.
caf::error merge_traces(const std::vector<std::string>& inputs,
                        const std::string& output);

} // namespace scaf
