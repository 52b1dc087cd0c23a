// libFuzzer target: what a scaf node and its callers accept from the network
// (actors/src/remote_protocol.hpp), fed with malformed messages. Each input
// is read as a message of scaf's node protocol with arbitrary fields: a
// spawn request (any version, task, type list, caller path, grace period and
// arguments of mixed types), a child's done (any error, any value), a
// cancel (any reason), the name a node gives itself in its handshake, or a
// remote child's subtree of the live tree.
// Each goes to the code that takes it from the wire:
// the node's check of a spawn request (and, if it passes, the arguments
// unpacked as the registered task unpacks them), the caller's decoding of a
// value for three result types, and the cleaning and rendering of errors.
// Nothing may crash, hang or leak.
//
// The fields are built from the input by a small reader, not by CAF's own
// deserializer: CAF 0.17's binary_deserializer trusts length prefixes (the
// first run of this target made it allocate 4 GB for a vector<char>), which
// is CAF's to bound, not scaf's.
//
// scripts/stress builds it with clang 14 and runs it over tests/fuzz/corpus;
// SCAF_FUZZ_WRITE_CORPUS=DIR makes it write the seed inputs there and exit.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/duration.hpp>
#include <caf/message_builder.hpp>

#include "scaf/init.hpp"
#include "scaf/names.hpp"
#include "scaf/remote.hpp"
#include "scaf/tree.hpp"

#include "remote_protocol.hpp"

namespace {

namespace rp = scaf::remote_protocol;

struct fuzz_config : caf::actor_system_config {
  fuzz_config() {
    scaf::init(*this);
    set("logger.console", caf::atom("none"));
    set("scheduler.max-threads", 1);
  }
};

struct fixture {
  fuzz_config cfg;
  caf::actor_system sys{cfg};
  scaf::remote_tasks tasks;

  fixture() {
    tasks.add<int32_t(int32_t, int32_t)>(
      "add", [](int32_t x, int32_t y) { return x + y; });
    tasks.add<std::string(std::string)>("echo",
                                        [](std::string x) { return x; });
    tasks.add<void()>("quick", [] {});
  }
};

/// Never destroyed: CAF's actor system does not survive static destruction.
fixture& the_fixture() {
  static auto f = new fixture;
  return *f;
}

/// Reads fields from the input; past its end, zeros and empty strings.
class reader {
public:
  reader(const uint8_t* data, size_t size) : pos_(data), end_(data + size) {
    // nop
  }

  uint8_t byte() {
    return pos_ < end_ ? *pos_++ : 0;
  }

  uint32_t u32() {
    uint32_t x = 0;
    for (int i = 0; i < 4; ++i)
      x = (x << 8) | byte();
    return x;
  }

  int64_t i64() {
    uint64_t x = 0;
    for (int i = 0; i < 8; ++i)
      x = (x << 8) | byte();
    return static_cast<int64_t>(x);
  }

  std::string str() {
    auto n = static_cast<size_t>(byte()) * 4 + byte() % 4;
    std::string x;
    while (n-- > 0 && pos_ < end_)
      x += static_cast<char>(*pos_++);
    return x;
  }

  /// One of the names a task or a type might have.
  std::string name() {
    static const char* names[] = {"add",  "echo", "quick", "@i32",   "@str",
                                  "void", "@u32", "",      "@strvec"};
    auto i = byte();
    return i < 9 ? names[i] : str();
  }

  caf::error error(int depth = 0) {
    auto kind = byte() % 4;
    if (kind == 0)
      return {};
    auto code = byte();
    auto category = kind == 1   ? scaf::errc_category
                    : kind == 2 ? caf::atom("system")
                                : caf::atom_from_string(str());
    auto ctx = depth < 3 ? message(depth + 1) : caf::message{};
    return caf::error{code, category, std::move(ctx)};
  }

  /// A message of up to 7 elements of mixed types.
  caf::message message(int depth = 0) {
    caf::message_builder b;
    auto n = byte() % 8;
    for (int i = 0; i < n; ++i) {
      switch (byte() % 8) {
      case 0:
        b.append(static_cast<int32_t>(u32()));
        break;
      case 1:
        b.append(u32());
        break;
      case 2:
        b.append(str());
        break;
      case 3:
        b.append(error(depth + 1));
        break;
      case 4:
        // A duration whose unit may be out of range (CAF crashes
        // rendering one).
        b.append(caf::duration{static_cast<caf::time_unit>(byte()),
                               static_cast<uint32_t>(i64())});
        break;
      case 5:
        b.append(caf::timespan{i64()});
        break;
      case 6:
        b.append(std::vector<std::string>{name(), name()});
        break;
      default:
        b.append(static_cast<int64_t>(i64()));
      }
    }
    return b.to_message();
  }

private:
  const uint8_t* pos_;
  const uint8_t* end_;
};

/// Unpacks the arguments of a request that passed the check, as the task
/// registered under its name does.
size_t unpack(const std::string& task, const caf::message& args) {
  if (task == "add")
    return static_cast<size_t>(args.get_as<int32_t>(0) ^
                               args.get_as<int32_t>(1));
  if (task == "echo")
    return args.get_as<std::string>(0).size();
  return args.size();
}

void run(const uint8_t* data, size_t size) {
  auto& f = the_fixture();
  reader in{data, size};
  switch (in.byte() % 5) {
  case 0: {
    // A spawn request, as the node's entry actor takes it.
    auto version = in.byte() % 2 == 0 ? rp::version : in.u32();
    auto task = in.name();
    std::vector<std::string> types;
    for (auto n = in.byte() % 5; n > 0; --n)
      types.push_back(in.name());
    auto caller = in.str();
    auto grace = caf::timespan{in.i64()};
    auto args = in.message();
    auto checked =
      rp::check_spawn_request(f.sys, "127.0.0.1:4242", f.tasks, version, task,
                              types, caller, grace, args);
    if (checked)
      unpack(task, args);
    else
      scaf::render(checked.error());
    break;
  }
  case 1: {
    // A child's done, as the caller's stand-in takes it: cleaned, then
    // said to come from its node.
    scaf::render(rp::on_node(rp::sanitize(in.error()), "127.0.0.1:4242"));
    auto value = in.message();
    (void)scaf::decode_remote_value<int32_t>(value);
    (void)scaf::decode_remote_value<std::string>(value);
    (void)scaf::decode_remote_value<void>(value);
    break;
  }
  case 2:
    // A cancel's reason, as the node's host takes it.
    scaf::render(rp::sanitize(in.error()));
    break;
  case 3:
    // The name a node gives itself in its handshake, as a caller checks it.
    (void)scaf::check_name(in.str(), "127.0.0.1:4242");
    break;
  default: {
    // A remote child's subtree of the live tree, as its stand-in decodes
    // it: small numbers often, so that well-formed trees come up. What
    // decodes encodes back to the same strings.
    std::vector<std::string> xs;
    for (auto n = in.byte(); n > 0; --n) {
      auto b = in.byte();
      xs.push_back(b < 128 ? std::to_string(b % 16) : in.str());
    }
    if (auto tree = rp::decode_tree(xs)) {
      scaf::to_text(*tree);
      if (rp::encode_tree(*tree) != xs)
        std::abort();
    }
  }
  }
}

void write_corpus(const std::string& dir) {
  // Seeds: a well-formed spawn of each task, a done with a value, a done
  // with a nested cancel error, a cancel with a duration in its context.
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> seeds = {
    {"spawn_add",
     {0, 0,  0,   3,   3, 3, 3, 0, 4, 'r', 'o', 'o', 't', 0, 0, 0,
      0, 59, 154, 202, 0, 2, 0, 0, 0, 0,   1,   0,   0,   0, 0, 2}},
    {"spawn_echo",
     {0, 0, 1, 2, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 1, 'x'}},
    {"spawn_quick_bad_version", {0, 1, 0, 0, 0, 9, 2, 1, 2}},
    {"done_value", {1, 0, 1, 0, 0, 0, 0, 42}},
    {"done_error", {1, 1, 1, 2, 2, 0, 4, 'p', 'a', 't', 'h', 3, 1, 2, 0}},
    {"cancel_duration", {2, 1, 1, 1, 4, 200, 0, 0, 0, 0, 0, 0, 0, 7}},
    // One node: "x", "x", "x", "", then state 0, age 5, three unset
    // optionals, 0 live children, answered, no children.
    {"tree_one_node",
     {4, 12, 200, 0,   1, 'x', 200, 0, 1, 'x', 200, 0, 1, 'x', 200, 0,
      0, 0,  5,   200, 0, 0,   200, 0, 0, 200, 0,   0, 0, 0,   0}},
  };
  for (auto& [name, bytes] : seeds) {
    std::ofstream out{dir + "/" + name, std::ios::binary};
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (auto dir = std::getenv("SCAF_FUZZ_WRITE_CORPUS")) {
    write_corpus(dir);
    std::_Exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run(data, size);
  return 0;
}
