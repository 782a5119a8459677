#include <gtest/gtest.h>

#include "app/caches.h"
#include "app/drift.h"
#include "electric/live_facts.h"

namespace app {
namespace {

using nlohmann::json;

json live_deployment() {
  return json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "myapp-shard-0", "namespace": "prod", "uid": "d0", "resourceVersion": "7", "generation": 2,
      "labels": {"electric-operator.dev/shard-set": "myapp", "electric-operator.dev/shard": "0",
                 "app.kubernetes.io/name": "electric"},
      "annotations": {"deployment.kubernetes.io/revision": "2"},
      "ownerReferences": [{"apiVersion": "electric-operator.dev/v1alpha1", "kind": "ElectricShardSet",
                           "name": "myapp", "uid": "s1", "controller": true}],
      "managedFields": [{"manager": "electric-operator", "operation": "Apply",
        "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {"f:metadata": {"f:annotations": {
          "f:electric-operator.dev/config-hash": {}}}}}}}]},
    "spec": {"replicas": 1, "revisionHistoryLimit": 10,
      "template": {"metadata": {"annotations": {"electric-operator.dev/config-hash": "abc"}},
        "spec": {"dnsPolicy": "ClusterFirst", "containers": [{"name": "electric", "image": "electricsql/electric",
          "env": [{"name": "ELECTRIC_INSTANCE_ID", "value": "prod/myapp-shard-0"},
                  {"name": "ELECTRIC_REPLICATION_STREAM_ID", "value": "prod_myapp_0"}]}]}}},
    "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
      "availableReplicas": 1, "conditions": [
        {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "long text"},
        {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "long text"},
        {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "quota"}]}})");
}

TEST(ProjectDeployment, KeepsIdentityFactsAndTheOwnedDigestOnly) {
  const json full = live_deployment();
  const auto p = project_deployment(full);
  EXPECT_EQ(p->meta.name, "myapp-shard-0");
  EXPECT_EQ(p->meta.uid, "d0");
  EXPECT_EQ(p->meta.resource_version, "7");
  using Labels = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(p->meta.labels, (Labels{{"electric-operator.dev/shard", "0"}, {"electric-operator.dev/shard-set", "myapp"}}))
      << "only the two labels the operator reads";
  EXPECT_TRUE(p->meta.owned_by("s1"));
  EXPECT_EQ(p->owned_digest, owned_fields_digest(applied_fields(full, "electric-operator")));
  EXPECT_EQ(p->facts.replication_stream_id, std::optional<std::string>("prod_myapp_0"));
}

TEST(ProjectDeployment, TheFactsKeptAreTheFactsOfTheWholeObject) {
  const json full = live_deployment();
  const electric::DeploymentFacts a = electric::deployment_facts(full);
  const electric::DeploymentFacts b = project_deployment(full)->facts;
  EXPECT_EQ(a.generation, b.generation);
  EXPECT_EQ(a.observed_generation, b.observed_generation);
  EXPECT_EQ(a.desired_replicas, b.desired_replicas);
  EXPECT_EQ(a.replicas, b.replicas);
  EXPECT_EQ(a.updated_replicas, b.updated_replicas);
  EXPECT_EQ(a.available_replicas, b.available_replicas);
  EXPECT_EQ(a.replica_failure, "quota");
  EXPECT_EQ(a.replica_failure, b.replica_failure);
  EXPECT_EQ(a.config_hash, "abc");
  EXPECT_EQ(a.config_hash, b.config_hash);
  EXPECT_EQ(a.replication_stream_id, std::optional<std::string>("prod_myapp_0"));
  EXPECT_EQ(a.replication_stream_id, b.replication_stream_id);

  json stalled = full;
  stalled["status"]["conditions"][1] = {{"type", "Progressing"}, {"status", "False"},
                                        {"reason", "ProgressDeadlineExceeded"}};
  EXPECT_TRUE(project_deployment(stalled)->facts.progress_deadline_exceeded);
}

TEST(ProjectPvc, KeepsWhatTheRetainedPvcAndTheShrinkCheckRead) {
  const json full = json::parse(R"({"metadata": {"name": "myapp-shard-0-data", "namespace": "prod", "uid": "p0"},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}},
             "storageClassName": "fast", "volumeName": "pv-1", "volumeMode": "Filesystem"},
    "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}}})");
  const auto p = project_pvc(full);
  EXPECT_EQ(p->meta.uid, "p0");
  EXPECT_EQ(p->facts.storage_request, "10Gi");
  EXPECT_EQ(p->facts.access_modes, std::vector<std::string>{"ReadWriteOnce"});
  EXPECT_EQ(p->facts.storage_class_name, std::optional<std::string>("fast"));
  // Without our managedFields entry nothing is ours yet: the digest of nothing.
  EXPECT_EQ(p->owned_digest, owned_fields_digest(json::object()));
}

TEST(ProjectSecret, AShardSecretKeepsNoValueTheApiSecretKeepsItsOwn) {
  const json shard = json::parse(R"({"kind": "Secret", "metadata": {"name": "myapp-shard-0", "namespace": "prod",
      "labels": {"electric-operator.dev/shard-set": "myapp", "electric-operator.dev/shard": "0"},
      "annotations": {"electric-operator.dev/database-server": "db:5432"},
      "managedFields": [{"manager": "electric-operator", "operation": "Apply",
        "fieldsV1": {"f:data": {"f:DATABASE_URL": {}}}}]},
    "data": {"DATABASE_URL": "cG9zdGdyZXM6Ly9zZWNyZXQ="}})");
  const auto p = project_secret(shard);
  EXPECT_TRUE(p->data.empty()) << "a shard Secret's value is never cached";
  EXPECT_EQ(p->database_server, "db:5432");
  EXPECT_EQ(p->owned_digest, owned_fields_digest(applied_fields(shard, "electric-operator")));
  EXPECT_NE(p->owned_digest, owned_fields_digest(json::object())) << "the digest covers the value";

  const json api = json::parse(R"({"kind": "Secret", "metadata": {"name": "myapp-api-secret", "namespace": "prod",
      "labels": {"electric-operator.dev/shard-set": "myapp"}}, "data": {"secret": "YWJj"}})");
  EXPECT_EQ(project_secret(api)->data, (std::map<std::string, std::string>{{"secret", "YWJj"}}));
}

TEST(ProjectChildOfKind, EachKindGetsItsOwnStruct) {
  const json full = live_deployment();
  EXPECT_NE(runtime::as<CachedDeployment>(project_child_of_kind("Deployment", full)), nullptr);
  EXPECT_NE(runtime::as<CachedPvc>(project_child_of_kind("PersistentVolumeClaim", full)), nullptr);
  EXPECT_NE(runtime::as<CachedSecret>(project_child_of_kind("Secret", full)), nullptr);
  const runtime::Projection service = project_child_of_kind("Service", full);
  EXPECT_EQ(runtime::as<CachedDeployment>(service), nullptr);
  EXPECT_EQ(runtime::as<CachedChild>(service)->owned_digest,
            owned_fields_digest(applied_fields(full, "electric-operator")));
}

TEST(ProjectSet, KeepsTheParseTheStatusAsTextAndThePhaseCounts) {
  ParsedSets parsed;
  const json set = json::parse(R"({"apiVersion": "electric-operator.dev/v1alpha1", "kind": "ElectricShardSet",
    "metadata": {"name": "myapp", "namespace": "prod", "uid": "s1", "resourceVersion": "9", "generation": 3,
                 "finalizers": ["electric-operator.dev/replication-slots", "other"]},
    "spec": {"shards": [{"name": "0", "databaseURLSecretRef": {"name": "pg", "key": "url"}}]},
    "status": {"shards": [{"name": "0", "phase": "Ready"}, {"name": "1", "phase": "Ready"}, {"name": "2"}]}})");
  const auto p = project_set(set, parsed);
  EXPECT_EQ(p->meta.key(), "prod/myapp");
  EXPECT_EQ(p->meta.generation, 3);
  EXPECT_EQ(p->parsed, parsed.get(set)) << "the parse is shared";
  EXPECT_TRUE(p->parsed->set.has_slot_finalizer);
  EXPECT_EQ(p->finalizers, (std::vector<std::string>{"electric-operator.dev/replication-slots", "other"}));
  EXPECT_EQ(p->status(), set["status"]);
  EXPECT_EQ(p->shards_by_phase, (std::map<std::string, int>{{"Pending", 1}, {"Ready", 2}}));

  json fresh = set;
  fresh.erase("status");
  EXPECT_TRUE(project_set(fresh, parsed)->status().is_null());
}

}  // namespace
}  // namespace app
