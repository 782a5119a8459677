#include "app/keyed_lists.h"

#include <gtest/gtest.h>

#include "app/drift.h"

namespace app {
namespace {

using nlohmann::json;

json service(const char* ports) { return {{"kind", "Service"}, {"spec", {{"ports", json::parse(ports)}}}}; }

const char* kOurPort = R"([{"name":"http","port":3000,"targetPort":"http","protocol":"TCP"}])";

json deployment(const json& container, const json& volumes = json::array()) {
  return {{"kind", "Deployment"},
          {"spec", {{"template", {{"spec", {{"containers", json::array({container})}, {"volumes", volumes}}}}}}}};
}

json electric_container() {
  return json::parse(R"({"name":"electric","image":"electricsql/electric:1.2","ports":[{"name":"http","containerPort":3000,"protocol":"TCP"}],
    "env":[{"name":"ELECTRIC_INSTANCE_ID","value":"a"},{"name":"ELECTRIC_PORT","value":"3000"}],
    "volumeMounts":[{"name":"data","mountPath":"/app/persistent"}],
    "resources":{"limits":{"memory":"1024Mi"}}})");
}

const json kOurVolumes = json::parse(R"([{"name":"data","persistentVolumeClaim":{"claimName":"s-shard-0"}}])");

TEST(DisplacedEntries, APortMovedToAnotherNumberKeepsOurNameSoItIsDisplaced) {
  const json live = service(R"([{"name":"http","port":4000,"targetPort":"http","protocol":"TCP"}])");
  auto displaced = displaced_entries(service(kOurPort), live);
  ASSERT_EQ(displaced.size(), 1u);
  EXPECT_EQ(displaced[0].list, "/spec/ports");
  EXPECT_EQ(displaced[0].index, 0u);
  EXPECT_EQ(describe(displaced[0]),
            "spec.ports[0]: its name \"http\" is the operator's (port 3000, protocol TCP)");
}

TEST(DisplacedEntries, AProtocolChangeIsAKeyChangeToo) {
  const json live = service(R"([{"name":"http","port":3000,"targetPort":"http","protocol":"UDP"}])");
  EXPECT_EQ(displaced_entries(service(kOurPort), live).size(), 1u);
}

TEST(DisplacedEntries, OurOwnEntryAndAnotherManagersDistinctEntryStay) {
  // Ours without a protocol in live (the server's default, TCP) is ours.
  const json live = service(R"([{"name":"http","port":3000,"targetPort":"http"},
                                {"name":"debug","port":9000,"targetPort":9000,"protocol":"TCP"}])");
  EXPECT_TRUE(displaced_entries(service(kOurPort), live).empty());
}

TEST(DisplacedEntries, ARenamedContainerIsACopyOfOursWhileOursIsMissing) {
  json renamed = electric_container();
  renamed["name"] = "electric-old";
  renamed["resources"]["limits"]["memory"] = "1Gi";  // as the API server stores it
  renamed["terminationMessagePath"] = "/dev/termination-log";  // a server default
  const json desired = deployment(electric_container(), kOurVolumes);
  auto displaced = displaced_entries(desired, deployment(renamed, kOurVolumes));
  ASSERT_EQ(displaced.size(), 1u);
  EXPECT_EQ(displaced[0].list, "/spec/template/spec/containers");
  EXPECT_NE(displaced[0].why.find("a copy of the operator's (name electric)"), std::string::npos);

  // A sidecar of the user's is nobody's copy.
  json live = deployment(electric_container(), kOurVolumes);
  live["spec"]["template"]["spec"]["containers"].push_back({{"name", "logs"}, {"image", "fluent-bit"}});
  EXPECT_TRUE(displaced_entries(desired, live).empty());
}

TEST(DisplacedEntries, InnerListsOfOurContainer) {
  json live_container = electric_container();
  live_container["ports"][0]["containerPort"] = 4000;       // name "http" now twice
  live_container["env"][0]["name"] = "ELECTRIC_INSTANCE";    // renamed: a value may well repeat, so not ours
  live_container["env"].push_back({{"name", "TEAM"}, {"value", "db"}});  // the user's own
  live_container["volumeMounts"][0]["mountPath"] = "/data";  // mounted elsewhere, ours missing
  auto displaced = displaced_entries(deployment(electric_container(), kOurVolumes), deployment(live_container, kOurVolumes));
  std::vector<std::string> where;
  for (const auto& d : displaced) where.push_back(d.list + "/" + std::to_string(d.index));
  EXPECT_EQ(where, (std::vector<std::string>{"/spec/template/spec/containers/0/ports/0",
                                             "/spec/template/spec/containers/0/volumeMounts/0"}));
}

TEST(DisplacedEntries, ARenamedVolumeIsACopyAndAnEnvVarWithTheSameValueIsNotWhileOursIsThere) {
  json volumes = kOurVolumes;
  volumes[0]["name"] = "data2";
  EXPECT_EQ(displaced_entries(deployment(electric_container(), kOurVolumes), deployment(electric_container(), volumes)).size(), 1u);

  json live_container = electric_container();
  live_container["env"].push_back({{"name", "COPY_OF_ID"}, {"value", "a"}});
  EXPECT_TRUE(displaced_entries(deployment(electric_container()), deployment(live_container)).empty());
}

TEST(DisplacedEntries, NoListOrAnotherShapeIsNothingDisplaced) {
  EXPECT_TRUE(displaced_entries(service(kOurPort), json{{"kind", "Service"}}).empty());
  EXPECT_TRUE(displaced_entries(service(kOurPort), json{{"spec", {{"ports", "nonsense"}}}}).empty());
  EXPECT_TRUE(displaced_entries(json::object(), service(kOurPort)).empty());
  EXPECT_TRUE(displaced_entries(service(kOurPort), service(R"([1, null, "x"])")).empty());
}

TEST(RemovalPatch, InnerListsFirstThenEachListFromItsEndEachAfterATest) {
  std::vector<DisplacedEntry> entries = {
      {"/spec/template/spec/containers", 0, {{"name", "a"}}, ""},
      {"/spec/template/spec/containers/1/env", 0, {{"name", "X"}}, ""},
      {"/spec/template/spec/containers/1/env", 2, {{"name", "Y"}}, ""},
  };
  const json patch = removal_patch(entries, json::object(), json::object());
  std::vector<std::string> paths;
  for (const json& op : patch) paths.push_back(op["op"].get<std::string>() + " " + op["path"].get<std::string>());
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "test /spec/template/spec/containers/1/env/2", "remove /spec/template/spec/containers/1/env/2",
                       "test /spec/template/spec/containers/1/env/0", "remove /spec/template/spec/containers/1/env/0",
                       "test /spec/template/spec/containers/0", "remove /spec/template/spec/containers/0"}));
  EXPECT_EQ(patch[0]["value"], json({{"name", "Y"}}));
}

TEST(RemovalPatch, AListTheRemovalsWouldEmptyGetsOursInTheSamePatch) {
  const json live = service(R"([{"name":"http","port":4000,"targetPort":"http","protocol":"TCP"}])");
  const json desired = service(kOurPort);
  const json patch = removal_patch(displaced_entries(desired, live), desired, live);
  ASSERT_EQ(patch.size(), 3u);
  EXPECT_EQ(patch[1], json({{"op", "remove"}, {"path", "/spec/ports/0"}}));
  EXPECT_EQ(patch[2], json({{"op", "add"}, {"path", "/spec/ports/-"}, {"value", desired["spec"]["ports"][0]}}));

  // Not when another entry stays, nor for an inner list (a container's
  // ports may be empty).
  const json two = service(R"([{"name":"http","port":4000},{"name":"debug","port":9000}])");
  EXPECT_EQ(removal_patch(displaced_entries(desired, two), desired, two).size(), 2u);
  json container = electric_container();
  container["ports"][0]["containerPort"] = 4000;
  const json ours = deployment(electric_container(), kOurVolumes), moved = deployment(container, kOurVolumes);
  EXPECT_EQ(removal_patch(displaced_entries(ours, moved), ours, moved).size(), 2u);
}

TEST(Relocated, EntriesAreFoundAgainByValueAndThoseGoneAreDropped) {
  const std::vector<DisplacedEntry> read = {
      {"/spec/ports", 0, json::parse(R"({"name":"http","port":4000})"), "moved"},
      {"/spec/ports", 1, json::parse(R"({"name":"gone","port":5000})"), "gone since"},
      {"/spec/missing", 0, json::parse(R"({"name":"x"})"), "no such list"},
  };
  const json now = service(R"([{"name":"debug","port":9000},{"name":"http","port":3000},{"name":"http","port":4000}])");
  const std::vector<DisplacedEntry> found = relocated(read, now);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].index, 2u);
  EXPECT_EQ(found[0].entry, read[0].entry);
}

// managedFields as the API server writes them after our apply of kOurPort,
// and after a second manager added a port of its own.
json service_with_managers(const char* ports, const char* our_fields) {
  json live = service(ports);
  live["metadata"]["managedFields"] = json::array(
      {{{"manager", "electric-operator"}, {"operation", "Apply"}, {"fieldsV1", json::parse(our_fields)}}});
  return live;
}

TEST(HasForeignEntries, ByTheKeysOurApplyEntryOwns) {
  const char* ours = R"({"f:spec":{"f:ports":{"k:{\"port\":3000,\"protocol\":\"TCP\"}":{".":{},"f:name":{},"f:port":{},"f:protocol":{},"f:targetPort":{}}}}})";
  json only_ours = service_with_managers(kOurPort, ours);
  EXPECT_FALSE(has_foreign_entries(only_ours, applied_fields(only_ours, "electric-operator")));
  json with_debug = service_with_managers(
      R"([{"name":"http","port":3000,"targetPort":"http","protocol":"TCP"},{"name":"debug","port":9000,"protocol":"TCP"}])", ours);
  EXPECT_TRUE(has_foreign_entries(with_debug, applied_fields(with_debug, "electric-operator")));
  EXPECT_FALSE(has_foreign_entries(json{{"kind", "ConfigMap"}, {"data", {{"a", "b"}}}}, json::object()));
}

}  // namespace
}  // namespace app
