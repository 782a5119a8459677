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

TEST(ParsedSets, AStatusWriteReusesTheParseASpecOrFinalizerChangeDoesNot) {
  ParsedSets sets;
  json set = set_at("5", "0");
  set["metadata"]["generation"] = 1;
  auto first = sets.get(set);
  set["metadata"]["resourceVersion"] = "6";  // a status write: same generation
  set["status"] = {{"shardCount", 1}};
  EXPECT_EQ(sets.get(set), first);
  set["metadata"]["finalizers"] = json::array({"electric-operator.dev/replication-slots"});
  auto with_finalizer = sets.get(set);
  EXPECT_NE(with_finalizer, first);
  EXPECT_TRUE(with_finalizer->set.has_slot_finalizer);
  set["metadata"]["generation"] = 2;
  set["spec"]["shards"][0]["name"] = "1";
  EXPECT_EQ(sets.get(set)->set.spec.shards[0].name, "1");
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
