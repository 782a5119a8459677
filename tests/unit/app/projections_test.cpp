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
  const json p = project_deployment(full);
  EXPECT_EQ(p["metadata"]["name"], "myapp-shard-0");
  EXPECT_EQ(p["metadata"]["uid"], "d0");
  EXPECT_EQ(p["metadata"]["labels"],
            json::parse(R"({"electric-operator.dev/shard-set": "myapp", "electric-operator.dev/shard": "0"})"));
  EXPECT_EQ(p["metadata"]["ownerReferences"], json::parse(R"([{"uid": "s1"}])"));
  EXPECT_FALSE(p["metadata"].contains("annotations"));
  EXPECT_FALSE(p["metadata"].contains("managedFields"));
  EXPECT_FALSE(p["spec"].contains("revisionHistoryLimit"));
  EXPECT_EQ(p["status"]["conditions"].size(), 1u);  // only ReplicaFailure decides anything here
  EXPECT_EQ(p[kOwnedDigestField], owned_fields_digest(applied_fields(full, "electric-operator")));
  // Of the containers, only the env var that names the stream.
  EXPECT_EQ(p["spec"]["template"]["spec"]["containers"],
            json::parse(R"([{"name": "electric", "env": [{"name": "ELECTRIC_REPLICATION_STREAM_ID",
                                                          "value": "prod_myapp_0"}]}])"));
  EXPECT_FALSE(p["spec"]["template"]["spec"].contains("dnsPolicy"));
}

TEST(ProjectDeployment, TheFactsReadFromItAreTheFactsOfTheWholeObject) {
  const json full = live_deployment();
  const electric::DeploymentFacts a = electric::deployment_facts(full);
  const electric::DeploymentFacts b = electric::deployment_facts(project_deployment(full));
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
  EXPECT_TRUE(electric::deployment_facts(project_deployment(stalled)).progress_deadline_exceeded);
}

TEST(ProjectPvc, KeepsWhatTheRetainedPvcAndTheShrinkCheckRead) {
  const json full = json::parse(R"({"metadata": {"name": "myapp-shard-0-data", "namespace": "prod", "uid": "p0"},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}},
             "storageClassName": "fast", "volumeName": "pv-1", "volumeMode": "Filesystem"},
    "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}}})");
  const json p = project_pvc(full);
  EXPECT_FALSE(p["spec"].contains("volumeName"));
  EXPECT_EQ(p["status"], json::parse(R"({"phase": "Bound"})"));
  const electric::PvcFacts facts = electric::pvc_facts(p);
  EXPECT_EQ(facts.storage_request, "10Gi");
  EXPECT_EQ(facts.access_modes, std::vector<std::string>{"ReadWriteOnce"});
  EXPECT_EQ(facts.storage_class_name, std::optional<std::string>("fast"));
  // Without our managedFields entry nothing is ours yet: the digest of nothing.
  EXPECT_EQ(p[kOwnedDigestField], owned_fields_digest(json::object()));
}

}  // namespace
}  // namespace app
