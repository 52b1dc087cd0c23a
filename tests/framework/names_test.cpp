// Tests of scaf/names.hpp: the rules for child names, and that scopes and
// supervisors apply the same ones.
#include "scaf/names.hpp"

#include <string>

#include "../common/fixture.hpp"
#include "../common/tasks.hpp"

using namespace scaf;
using namespace scaf::test;

namespace {

using NamesTest = leak_checked_deterministic_test;

std::string refusal(std::string_view name) {
  return render(check_name(name, "root"));
}

} // namespace

TEST(NameRules, EachRuleIsNamedInTheError) {
  EXPECT_FALSE(check_name("db", "root"));
  EXPECT_FALSE(check_name("conn-7", "root"));
  EXPECT_FALSE(check_name("", "root")); // the automatic name
  EXPECT_EQ(refusal("a/b"), "scaf::invalid_argument(root: the child name "
                            "'a/b' contains '/', which separates the "
                            "elements of a path)");
  EXPECT_EQ(refusal("a\nb"), "scaf::invalid_argument(root: the child name "
                             "'a?b' contains a control character)");
  EXPECT_EQ(refusal("42"), "scaf::invalid_argument(root: the child name '42' "
                           "is only digits, like the automatic names)");
  EXPECT_TRUE(
    is(check_name(std::string(max_name_length, 'x'), "root"), errc::none));
  EXPECT_EQ(code_of(check_name(std::string(max_name_length + 1, 'x'), "r")),
            errc::invalid_argument);
}

TEST_F(NamesTest, ScopesRefuseBadNamesAndLiveDuplicatesAndRunNothing) {
  std::vector<caf::error> errors;
  caf::actor first;
  scope_ref ref;
  auto svc = spawn_scope(sys, {"svc"}, [&](scope& s) {
    ref = s.ref();
    for (const auto& name :
         std::vector<std::string>{"a/b", "0", "\t", std::string(200, 'n')})
      errors.push_back(
        s.spawn({.name = name}, worker, &log, std::string{"bad"}).error());
    first = *s.spawn({.name = "w"}, worker, &log, std::string{"w"});
    errors.push_back(
      s.spawn({.name = "w"}, worker, &log, std::string{"w2"}).error());
  });
  run();
  ASSERT_EQ(errors.size(), 5u);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_TRUE(is(errors[i], errc::invalid_argument)) << i;
  EXPECT_EQ(render(errors[4]),
            "scaf::invalid_argument(svc: a live child is already named 'w')");
  EXPECT_EQ(log.count("start:bad"), 0u);
  EXPECT_EQ(log.count("start:w2"), 0u);
  // Once `w` is done, its name is free again.
  auto taken = ref.spawn({.name = "w"}, worker, &log, std::string{"w3"});
  run();
  ASSERT_TRUE(taken.ready());
  EXPECT_TRUE(is(taken.get().error(), errc::invalid_argument));
  caf::anon_send(first, finish_atom::value);
  run();
  auto again = ref.spawn({.name = "w"}, worker, &log, std::string{"w4"});
  run();
  EXPECT_FALSE(again.ready()); // running
  EXPECT_EQ(log.count("start:w4"), 1u);
  caf::anon_send(svc, cancel_atom::value, std::string{"done"});
}
