#include "app/drift.h"

#include <gtest/gtest.h>

namespace app {
namespace {

using nlohmann::json;

TEST(Drift, ServerDefaultsAndForeignFieldsAreIgnored) {
  json desired = json::parse(R"({"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"electric"}]}}}})");
  json live = json::parse(R"({"spec":{"replicas":1,"revisionHistoryLimit":10,
      "template":{"spec":{"containers":[{"name":"electric","terminationMessagePath":"/dev/x"}],
      "dnsPolicy":"ClusterFirst"}}},"metadata":{"annotations":{"other":"x"}}})");
  EXPECT_TRUE(owned_fields_match(desired, live));
}

TEST(Drift, AnEditedOwnedFieldIsDrift) {
  json desired = json::parse(R"({"spec":{"replicas":1}})");
  EXPECT_FALSE(owned_fields_match(desired, json::parse(R"({"spec":{"replicas":3}})")));
  EXPECT_FALSE(owned_fields_match(desired, json::parse(R"({"spec":{}})")));
  EXPECT_FALSE(owned_fields_match(desired, json::parse(R"({})")));
}

TEST(Drift, ListsCompareElementWiseAndByLength) {
  json desired = json::parse(R"({"env":[{"name":"A","value":"1"},{"name":"B"}]})");
  EXPECT_TRUE(owned_fields_match(desired, json::parse(R"({"env":[{"name":"A","value":"1"},{"name":"B"}]})")));
  EXPECT_FALSE(owned_fields_match(desired, json::parse(R"({"env":[{"name":"B"},{"name":"A","value":"1"}]})")));
  EXPECT_FALSE(owned_fields_match(desired, json::parse(R"({"env":[{"name":"A","value":"1"}]})")));
  EXPECT_FALSE(owned_fields_match(desired, json::parse(
      R"({"env":[{"name":"A","value":"1"},{"name":"B"},{"name":"C"}]})")));
}

TEST(Drift, EmptyDesiredCollectionsMatchAbsentOnes) {
  EXPECT_TRUE(owned_fields_match(json::parse(R"({"a":{},"b":[]})"), json::parse("{}")));
}

}  // namespace
}  // namespace app

namespace app {
namespace {

TEST(Drift, ResourceQuantitiesCompareByValue) {
  json desired = json::parse(R"({"resources":{"requests":{"storage":"1024Mi","cpu":"0.5"}}})");
  EXPECT_TRUE(owned_fields_match(desired, json::parse(R"({"resources":{"requests":{"storage":"1Gi","cpu":"500m"}}})")));
  EXPECT_FALSE(owned_fields_match(desired, json::parse(R"({"resources":{"requests":{"storage":"2Gi","cpu":"500m"}}})")));
  // Outside requests/limits a string is a string: "1.7" is not "1.70".
  EXPECT_FALSE(owned_fields_match(json::parse(R"({"image":"x:1.7"})"), json::parse(R"({"image":"x:1.70"})")));
  EXPECT_FALSE(owned_fields_match(json::parse(R"({"tag":"1.7"})"), json::parse(R"({"tag":"1.70"})")));
}

}  // namespace
}  // namespace app
