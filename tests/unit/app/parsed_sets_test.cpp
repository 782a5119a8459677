#include "app/parsed_sets.h"

#include <gtest/gtest.h>

namespace app {
namespace {

using nlohmann::json;

json set_at(const std::string& version, const std::string& shard) {
  return {{"apiVersion", "electric-operator.dev/v1alpha1"}, {"kind", "ElectricShardSet"},
          {"metadata", {{"namespace", "prod"}, {"name", "myapp"}, {"uid", "u1"}, {"resourceVersion", version}}},
          {"spec", {{"shards", json::array({{{"name", shard},
                                              {"databaseURLSecretRef", {{"name", "pg"}, {"key", "url"}}}}})}}}};
}

TEST(ParsedSets, OneParsePerResourceVersion) {
  ParsedSets sets;
  auto first = sets.get(set_at("5", "0"));
  EXPECT_EQ(sets.get(set_at("5", "0")), first);  // the same object: not parsed again
  auto next = sets.get(set_at("6", "1"));
  EXPECT_NE(next, first);
  ASSERT_EQ(next->set.spec.shards.size(), 1u);
  EXPECT_EQ(next->set.spec.shards[0].name, "1");
  EXPECT_EQ(sets.size(), 1u);  // one entry per set, the newest version
}

TEST(ParsedSets, ForgetDropsTheSet) {
  ParsedSets sets;
  auto first = sets.get(set_at("5", "0"));
  sets.forget("prod/myapp");
  EXPECT_EQ(sets.size(), 0u);
  EXPECT_NE(sets.get(set_at("5", "0")), first);
}

}  // namespace
}  // namespace app
