// Tests of scaf/detail/node_path.hpp: a node's path shares its parent's, so
// that the paths of a tree cost memory linear in its size.
#include "scaf/detail/node_path.hpp"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

using namespace scaf::detail;

TEST(NodePath, RendersFromTheRootDown) {
  node_path root{"root"};
  EXPECT_EQ(root.str(), "root");
  EXPECT_EQ(root.name(), "root");
  node_path db{root.as_prefix(), "db"};
  node_path conn{db.as_prefix(), "3"};
  EXPECT_EQ(conn.str(), "root/db/3");
  EXPECT_EQ(conn.name(), "3");
  EXPECT_TRUE(node_path{}.empty());
  EXPECT_FALSE(conn.empty());
}

TEST(NodePath, APrefixOutlivesThePathItWasMadeFrom) {
  path_prefix prefix;
  {
    node_path parent{node_path{"root"}.as_prefix(), "parent"};
    prefix = parent.as_prefix();
  }
  node_path child{prefix, "child"};
  EXPECT_EQ(child.str(), "root/parent/child");
  std::string out;
  prefix.append_to(out);
  EXPECT_EQ(out, "root/parent");
}

TEST(NodePath, SharedPrefixesAreSafeAcrossThreads) {
  node_path root{"root"};
  auto prefix = root.as_prefix();
  std::vector<std::thread> threads;
  std::vector<std::string> seen(8);
  for (size_t i = 0; i < seen.size(); ++i)
    threads.emplace_back([&, i] {
      for (int j = 0; j < 1000; ++j) {
        node_path x{prefix, std::to_string(i)};
        seen[i] = x.str();
      }
    });
  for (auto& t : threads)
    t.join();
  for (size_t i = 0; i < seen.size(); ++i)
    EXPECT_EQ(seen[i], "root/" + std::to_string(i));
}
