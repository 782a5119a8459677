#include "app/drift.h"

#include <gtest/gtest.h>

namespace app {
namespace {

using nlohmann::json;

// A Service as the API server returned it after electric-operator applied
// `applied_service()` (taken from a local control plane, ClusterIP defaults
// and all).
json live_service() {
  return json::parse(R"({"apiVersion": "v1", "kind": "Service", "metadata": {
    "labels": {"app.kubernetes.io/name": "electric", "electric-operator.dev/shard": "3"},
    "managedFields": [{"apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "electric-operator",
      "operation": "Apply", "fieldsV1": {
        "f:metadata": {"f:labels": {"f:app.kubernetes.io/name": {}, "f:electric-operator.dev/shard": {}},
                       "f:ownerReferences": {"k:{\"uid\":\"3e42\"}": {}}},
        "f:spec": {"f:ports": {"k:{\"port\":3000,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}, "f:port": {},
                                                                     "f:protocol": {}, "f:targetPort": {}}},
                   "f:selector": {}, "f:type": {}}}}],
    "name": "set-a-shard-3", "namespace": "bench-mem", "resourceVersion": "19008", "uid": "c3d7",
    "ownerReferences": [{"apiVersion": "electric-operator.dev/v1alpha1", "blockOwnerDeletion": true,
                         "controller": true, "kind": "ElectricShardSet", "name": "set-a", "uid": "3e42"}]},
    "spec": {"clusterIP": "10.96.36.66", "clusterIPs": ["10.96.36.66"], "internalTrafficPolicy": "Cluster",
             "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
             "ports": [{"name": "http", "port": 3000, "protocol": "TCP", "targetPort": "http"}],
             "selector": {"electric-operator.dev/shard": "3"}, "sessionAffinity": "None", "type": "ClusterIP"},
    "status": {"loadBalancer": {}}})");
}

json applied_service() {
  return json::parse(R"({"apiVersion": "v1", "kind": "Service", "metadata": {
    "name": "set-a-shard-3", "namespace": "bench-mem",
    "labels": {"electric-operator.dev/shard": "3", "app.kubernetes.io/name": "electric"},
    "ownerReferences": [{"apiVersion": "electric-operator.dev/v1alpha1", "kind": "ElectricShardSet",
                         "name": "set-a", "uid": "3e42", "controller": true, "blockOwnerDeletion": true}]},
    "spec": {"type": "ClusterIP", "selector": {"electric-operator.dev/shard": "3"},
             "ports": [{"name": "http", "port": 3000, "targetPort": "http", "protocol": "TCP"}]}})");
}

TEST(AppliedFields, KeepOnlyWhatTheManagerApplied) {
  json owned = applied_fields(live_service(), "electric-operator");
  EXPECT_FALSE(owned.contains("status"));
  EXPECT_FALSE(owned["spec"].contains("clusterIP"));  // a server default
  EXPECT_FALSE(owned["metadata"].contains("uid"));
  EXPECT_EQ(owned["spec"]["ports"], applied_service()["spec"]["ports"]);
  EXPECT_EQ(owned["metadata"]["ownerReferences"], applied_service()["metadata"]["ownerReferences"]);
  EXPECT_EQ(applied_fields(live_service(), "kubectl"), json::object());
}

TEST(AppliedFields, TheDigestOfTheResultIsTheDigestOfTheApplyBody) {
  EXPECT_EQ(owned_fields_digest(applied_fields(live_service(), "electric-operator")),
            owned_fields_digest(applied_service()));
}

TEST(AppliedFields, ForeignFieldsAndListEntriesDoNotChangeTheDigest) {
  json live = live_service();
  live["metadata"]["annotations"] = {{"team", "x"}};
  live["spec"]["ports"].push_back({{"name", "debug"}, {"port", 4000}, {"protocol", "TCP"}});
  live["metadata"]["managedFields"].push_back(json::parse(R"({"manager": "kubectl", "operation": "Update",
      "fieldsV1": {"f:metadata": {"f:annotations": {"f:team": {}}},
                   "f:spec": {"f:ports": {"k:{\"port\":4000,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}}}}})"));
  EXPECT_EQ(owned_fields_digest(applied_fields(live, "electric-operator")), owned_fields_digest(applied_service()));
}

TEST(AppliedFields, AnOwnedFieldTakenByAnotherManagerChangesTheDigest) {
  // kubectl edit of our label: the field moves to kubectl's entry.
  json live = live_service();
  live["metadata"]["labels"]["app.kubernetes.io/name"] = "x";
  live["metadata"]["managedFields"][0]["fieldsV1"]["f:metadata"]["f:labels"].erase("f:app.kubernetes.io/name");
  EXPECT_NE(owned_fields_digest(applied_fields(live, "electric-operator")), owned_fields_digest(applied_service()));
  // An owned value changed in place (no managedFields update) is seen too.
  json edited = live_service();
  edited["spec"]["ports"][0]["targetPort"] = 3001;
  EXPECT_NE(owned_fields_digest(applied_fields(edited, "electric-operator")), owned_fields_digest(applied_service()));
}

TEST(AppliedFields, SetMembersAndIndexesSelectListEntries) {
  json live = json::parse(R"({"metadata": {"managedFields": [{"manager": "m", "operation": "Apply",
      "fieldsV1": {"f:finalizers": {"v:\"a\"": {}}, "f:list": {"i:1": {}}}}]},
      "finalizers": ["a", "b"], "list": [1, 2, 3]})");
  EXPECT_EQ(applied_fields(live, "m"), json::parse(R"({"finalizers": ["a"], "list": [2]})"));
}

TEST(AppliedFields, OnlyTheManagersApplyEntryOfTheMainResourceCounts) {
  json live = json::parse(R"({"spec": {"a": 1}, "metadata": {"managedFields": [
      {"manager": "m", "operation": "Update", "fieldsV1": {"f:spec": {"f:a": {}}}},
      {"manager": "m", "operation": "Apply", "subresource": "status", "fieldsV1": {"f:spec": {"f:a": {}}}}]}})");
  EXPECT_EQ(applied_fields(live, "m"), json::object());
}

TEST(OwnedFieldsDigest, NormalFormDropsIdentityAndEmptiesAndReadsQuantitiesByValue) {
  EXPECT_EQ(owned_fields_digest(json::parse(R"({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "a", "namespace": "b", "labels": {}},
                "spec": {"resources": {"requests": {"storage": "1024Mi"}}, "x": []}})")),
            owned_fields_digest(json::parse(R"({"spec": {"resources": {"requests": {"storage": "1Gi"}}}})")));
  EXPECT_NE(owned_fields_digest(json::parse(R"({"spec": {"image": "x:1.7"}})")),
            owned_fields_digest(json::parse(R"({"spec": {"image": "x:1.70"}})")));
  EXPECT_NE(owned_fields_digest(json::parse(R"({"spec": {"resources": {"limits": {"cpu": "1"}}}})")),
            owned_fields_digest(json::parse(R"({"spec": {"resources": {"limits": {"cpu": "2"}}}})")));
}

}  // namespace
}  // namespace app

namespace app {
namespace {

TEST(OwnedFieldsDigest, ListsCountByOrderAndLength) {
  const json desired = json::parse(R"({"env":[{"name":"A","value":"1"},{"name":"B"}]})");
  EXPECT_EQ(owned_fields_digest(desired), owned_fields_digest(json::parse(R"({"env":[{"name":"A","value":"1"},{"name":"B"}]})")));
  EXPECT_NE(owned_fields_digest(desired), owned_fields_digest(json::parse(R"({"env":[{"name":"B"},{"name":"A","value":"1"}]})")));
  EXPECT_NE(owned_fields_digest(desired), owned_fields_digest(json::parse(R"({"env":[{"name":"A","value":"1"}]})")));
  EXPECT_NE(owned_fields_digest(json::parse(R"({"spec":{"replicas":1}})")),
            owned_fields_digest(json::parse(R"({"spec":{"replicas":3}})")));
}

}  // namespace
}  // namespace app
