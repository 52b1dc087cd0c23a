// Shapes of task that scaf refuses, each with a static_assert that says what
// to write instead. CTest compiles this file once per SCAF_CASE and expects
// the message (tests/CMakeLists.txt); every case must fail to compile.
#include "scaf/scope.hpp"

#include <caf/typed_actor.hpp>

namespace {

using add_atom = caf::atom_constant<caf::atom("add")>;
using calculator =
  caf::typed_actor<caf::replies_to<add_atom, int, int>::with<int>>;

/// A CAF class-based actor that was not ported: its base is CAF's.
class plain_actor : public caf::event_based_actor {
public:
  explicit plain_actor(caf::actor_config& cfg) : caf::event_based_actor(cfg) {
    // nop
  }
};

} // namespace

void refused(scaf::scope& s) {
#if SCAF_CASE == 1 // a CAF self pointer where a task's goes
  s.spawn([](caf::event_based_actor*) -> caf::behavior { return {}; });
#elif SCAF_CASE == 2 // a typed actor's own pointer
  s.spawn([](calculator::pointer) -> calculator::behavior_type {
    return {[](add_atom, int x, int y) { return x + y; }};
  });
#elif SCAF_CASE == 3 // a body returning caf::error
  s.spawn([](scaf::task_actor*) -> caf::error { return {}; });
#elif SCAF_CASE == 4 // a class-based actor derived from CAF's class
  s.spawn<plain_actor>();
#elif SCAF_CASE == 5 // a class that is not an actor
  s.spawn<std::mutex>();
#else
#error "SCAF_CASE must be 1 to 5"
#endif
}
