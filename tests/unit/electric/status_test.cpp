#include "electric/status.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace electric {
namespace {

using nlohmann::json;

DeploymentFacts available() {
  DeploymentFacts d;
  d.exists = true;
  d.generation = 3;
  d.observed_generation = 3;
  d.desired_replicas = 1;
  d.replicas = 1;
  d.updated_replicas = 1;
  d.available_replicas = 1;
  return d;
}

ShardFacts ready_facts() {
  ShardFacts f;
  f.deployment = available();
  return f;
}

ShardStatus shard_status(const ShardFacts& facts, std::size_t shard = 0, ShardSet set = electric_test::sample_set()) {
  return compute_shard_status(set, set.spec.shards[shard], facts, "cluster.local");
}

TEST(ShardStatus, ReadyWhenDeploymentAvailableAndUpdated) {
  ShardStatus s = shard_status(ready_facts());
  EXPECT_EQ(s.phase, ShardPhase::Ready);
  EXPECT_TRUE(s.ready);
  EXPECT_EQ(s.reason, "Available");
  EXPECT_EQ(s.message, "");
  EXPECT_EQ(s.name, "0");
  EXPECT_EQ(s.instance_id, "prod/myapp-shard-0");
  EXPECT_EQ(s.replication_stream_id, "prod_myapp_0");
  EXPECT_EQ(s.url, "http://myapp-shard-0.prod.svc.cluster.local:3000");
  EXPECT_FALSE(s.failing());
}

TEST(ShardStatus, ProgressingStates) {
  ShardFacts f;
  EXPECT_EQ(shard_status(f).phase, ShardPhase::Progressing);
  EXPECT_EQ(shard_status(f).reason, "Creating");

  f = ready_facts();
  f.deployment.generation = 4;  // not yet observed
  EXPECT_EQ(shard_status(f).phase, ShardPhase::Progressing);
  EXPECT_EQ(shard_status(f).reason, "RollingOut");

  f = ready_facts();
  f.deployment.updated_replicas = 0;
  EXPECT_EQ(shard_status(f).reason, "RollingOut");

  f = ready_facts();
  f.deployment.replicas = 2;  // old pod still there
  EXPECT_EQ(shard_status(f).reason, "RollingOut");

  f = ready_facts();
  f.deployment.available_replicas = 0;  // Electric answering 202
  ShardStatus s = shard_status(f);
  EXPECT_EQ(s.phase, ShardPhase::Progressing);
  EXPECT_EQ(s.reason, "Starting");
  EXPECT_FALSE(s.ready);
  EXPECT_FALSE(s.failing());

  f.deployment.progress_deadline_exceeded = true;
  s = shard_status(f);
  EXPECT_EQ(s.reason, "ProgressDeadlineExceeded");
  EXPECT_TRUE(s.failing());
}

TEST(ShardStatus, APodTheClusterRefusesToCreateIsSaid) {
  ShardFacts f = ready_facts();
  f.deployment.available_replicas = 0;
  f.deployment.replicas = 0;
  f.deployment.progress_deadline_exceeded = true;  // the more specific reason wins
  f.deployment.replica_failure = "pods \"x\" is forbidden: violates PodSecurity \"baseline:latest\": privileged";
  ShardStatus s = shard_status(f);
  EXPECT_EQ(s.phase, ShardPhase::Progressing);
  EXPECT_EQ(s.reason, "PodCreationFailed");
  EXPECT_EQ(s.message, "the Deployment cannot create the pod: " + f.deployment.replica_failure);
  EXPECT_TRUE(s.failing());
  // A pod that runs after all (a stale condition) is just Ready.
  f = ready_facts();
  f.deployment.replica_failure = "exceeded quota";
  EXPECT_EQ(shard_status(f).reason, "Available");
}

TEST(ShardStatus, OutdatedTemplateIsNotReadyUnlessPaused) {
  ShardFacts f = ready_facts();
  f.deployment.config_hash = "old";
  f.desired_config_hash = "new";
  ShardStatus s = shard_status(f);
  EXPECT_EQ(s.phase, ShardPhase::Progressing);
  EXPECT_EQ(s.reason, "RollingOut");
  EXPECT_FALSE(s.ready);
  f.desired_config_hash = "old";
  EXPECT_TRUE(shard_status(f).ready);

  ShardSet paused = electric_test::sample_set();
  paused.spec.paused = true;
  f.desired_config_hash = "new";
  s = shard_status(f, 0, paused);
  EXPECT_EQ(s.phase, ShardPhase::Ready);  // still serving the old template
  EXPECT_EQ(s.reason, "Paused");
  EXPECT_FALSE(s.failing());
}

TEST(ShardStatus, PausedWithoutDeploymentIsPending) {
  ShardSet set = electric_test::sample_set();
  set.spec.paused = true;
  ShardStatus s = shard_status(ShardFacts{}, 0, set);
  EXPECT_EQ(s.phase, ShardPhase::Pending);
  EXPECT_EQ(s.reason, "Paused");
  EXPECT_EQ(shard_status(ready_facts(), 0, set).phase, ShardPhase::Ready);
}

TEST(ShardStatus, BadInputsInPrecedenceOrder) {
  ShardFacts f = ready_facts();
  f.storage_shrink = "storage size 5Gi is smaller than the volume's 10Gi; ...";
  ShardStatus s = shard_status(f);
  EXPECT_EQ(s.phase, ShardPhase::Ready);  // still running on the old volume
  EXPECT_EQ(s.reason, "StorageShrinkNotSupported");
  EXPECT_TRUE(s.failing());

  f.stream_conflict = "replication stream ID ... already used";
  s = shard_status(f);
  EXPECT_EQ(s.phase, ShardPhase::Failed);
  EXPECT_EQ(s.reason, "ReplicationStreamConflict");
  EXPECT_FALSE(s.ready);

  f.database_url_problem = "the database URL in Secret \"pg\" key \"url\" is not valid: the scheme is \"mysql\"";
  s = shard_status(f);
  EXPECT_EQ(s.phase, ShardPhase::Failed);
  EXPECT_EQ(s.reason, "InvalidDatabaseURL");
  EXPECT_EQ(s.message, "the database URL in Secret \"pg\" key \"url\" is not valid: the scheme is \"mysql\"");

  f.secret_problem = secret_not_found_message({"pg-shard-0", "url"});
  s = shard_status(f);
  EXPECT_EQ(s.phase, ShardPhase::Pending);
  EXPECT_EQ(s.reason, "SecretNotFound");
  EXPECT_EQ(s.message, "Secret \"pg-shard-0\" not found");
  EXPECT_TRUE(s.failing());

  f.pod_security_problem = "spec.template.securityContext.privileged: privileged containers are not allowed; ...";
  s = shard_status(f);
  EXPECT_EQ(s.phase, ShardPhase::Failed);
  EXPECT_EQ(s.reason, "PodSecurityViolation");
  EXPECT_EQ(s.message, *f.pod_security_problem);
  EXPECT_TRUE(s.failing());

  f.spec_errors = {{"spec.shards[0].replicationStreamID", "must match ...", "0"}};
  s = shard_status(f);
  EXPECT_EQ(s.phase, ShardPhase::Failed);
  EXPECT_EQ(s.reason, "InvalidSpec");
  EXPECT_EQ(s.message, "spec.shards[0].replicationStreamID: must match ...");
}

TEST(ShardStatus, SecretMessagesNameOnlyNames) {
  EXPECT_EQ(secret_key_missing_message({"pg", "url"}), "Secret \"pg\" has no key \"url\"");
}

TEST(StorageShrink, OnlyWhenSmaller) {
  EXPECT_FALSE(storage_shrink_problem("10Gi", "10Gi").has_value());
  EXPECT_FALSE(storage_shrink_problem("20Gi", "10Gi").has_value());
  EXPECT_FALSE(storage_shrink_problem("1Gi", "1073741824").has_value());
  EXPECT_FALSE(storage_shrink_problem("garbage", "10Gi").has_value());
  auto p = storage_shrink_problem("5Gi", "10Gi");
  ASSERT_TRUE(p.has_value());
  EXPECT_NE(p->find("5Gi"), std::string::npos);
  EXPECT_NE(p->find("10Gi"), std::string::npos);
  EXPECT_TRUE(storage_shrink_problem("1G", "1Gi").has_value());
}

TEST(DeploymentFactsFromJson, ReadsSpecStatusAndConditions) {
  EXPECT_FALSE(deployment_facts(nullptr).exists);
  json d = json::parse(R"({"metadata":{"generation":5},"spec":{"replicas":1},
    "status":{"observedGeneration":4,"replicas":2,"updatedReplicas":1,"availableReplicas":1,
              "conditions":[{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded"},
                            {"type":"ReplicaFailure","status":"True","reason":"FailedCreate","message":"forbidden"}]}})");
  DeploymentFacts f = deployment_facts(d);
  EXPECT_TRUE(f.exists);
  EXPECT_EQ(f.generation, 5);
  EXPECT_EQ(f.observed_generation, 4);
  EXPECT_EQ(f.desired_replicas, 1);
  EXPECT_EQ(f.replicas, 2);
  EXPECT_EQ(f.updated_replicas, 1);
  EXPECT_EQ(f.available_replicas, 1);
  EXPECT_TRUE(f.progress_deadline_exceeded);
  EXPECT_EQ(f.replica_failure, "forbidden");
  d["status"]["conditions"][1]["status"] = "False";
  EXPECT_EQ(deployment_facts(d).replica_failure, "");
  d["status"]["conditions"][1] = {{"type", "ReplicaFailure"}, {"status", "True"}, {"reason", "FailedCreate"}};
  EXPECT_EQ(deployment_facts(d).replica_failure, "FailedCreate");  // no message: the reason
  d["status"]["conditions"][1] = {{"type", 5}, {"status", true}};  // malformed: ignored
  EXPECT_EQ(deployment_facts(d).replica_failure, "");
  EXPECT_EQ(f.config_hash, "");
  d["spec"]["template"] = {{"metadata", {{"annotations", {{"electric-operator.dev/config-hash", "abc"}}}}}};
  EXPECT_EQ(deployment_facts(d).config_hash, "abc");
  d["spec"] = nullptr;  // malformed objects never throw
  EXPECT_EQ(deployment_facts(d).config_hash, "");
  // A brand-new Deployment with no status yet.
  f = deployment_facts(json::parse(R"({"metadata":{"generation":1},"spec":{"replicas":1}})"));
  EXPECT_EQ(f.observed_generation, 0);
  ShardFacts only_deployment;
  only_deployment.deployment = f;
  EXPECT_EQ(compute_shard_status(electric_test::sample_set(), electric_test::sample_set().spec.shards[0],
                                 only_deployment, "cluster.local")
                .phase,
            ShardPhase::Progressing);
}

const Condition* find(const std::vector<Condition>& conditions, std::string_view type) {
  for (const auto& c : conditions)
    if (c.type == type) return &c;
  return nullptr;
}

std::vector<ShardStatus> statuses(const ShardSet& set, const std::vector<ShardFacts>& facts) {
  std::vector<ShardStatus> out;
  for (std::size_t i = 0; i < set.spec.shards.size(); ++i)
    out.push_back(compute_shard_status(set, set.spec.shards[i], facts[i], "cluster.local"));
  return out;
}

TEST(SetConditions, AllReady) {
  ShardSet set = electric_test::sample_set();
  auto conditions = compute_set_conditions(set, statuses(set, {ready_facts(), ready_facts(), ready_facts()}), {}, {});
  ASSERT_EQ(conditions.size(), 4u);
  EXPECT_EQ(conditions[0].type, "Ready");
  EXPECT_EQ(conditions[1].type, "Progressing");
  EXPECT_EQ(conditions[2].type, "Degraded");
  EXPECT_EQ(conditions[3].type, "Paused");
  EXPECT_EQ(conditions[0].status, "True");
  EXPECT_EQ(conditions[0].reason, "AllShardsReady");
  EXPECT_EQ(conditions[0].message, "3/3 shards ready");
  EXPECT_EQ(conditions[1].status, "False");
  EXPECT_EQ(conditions[1].reason, "Stable");
  EXPECT_EQ(conditions[2].status, "False");
  EXPECT_EQ(conditions[2].reason, "AsExpected");
  EXPECT_EQ(conditions[3].status, "False");
  EXPECT_EQ(conditions[3].reason, "Reconciling");
  for (const auto& c : conditions) {
    EXPECT_EQ(c.observed_generation, 7);
    EXPECT_EQ(c.last_transition_time, "");
  }
}

TEST(SetConditions, RollingOutAndFailing) {
  ShardSet set = electric_test::sample_set();
  ShardFacts starting = ready_facts();
  starting.deployment.available_replicas = 0;
  ShardFacts missing_secret;
  missing_secret.secret_problem = secret_not_found_message({"pg-shard-2", "url"});
  auto conditions = compute_set_conditions(set, statuses(set, {ready_facts(), starting, missing_secret}), {}, {});
  const Condition* ready = find(conditions, "Ready");
  EXPECT_EQ(ready->status, "False");
  EXPECT_EQ(ready->reason, "ShardsNotReady");
  EXPECT_EQ(ready->message, "1/3 shards ready");
  const Condition* progressing = find(conditions, "Progressing");
  EXPECT_EQ(progressing->status, "True");
  EXPECT_EQ(progressing->reason, "RollingOut");
  EXPECT_EQ(progressing->message, "shards rolling out: \"1\"");
  const Condition* degraded = find(conditions, "Degraded");
  EXPECT_EQ(degraded->status, "True");
  EXPECT_EQ(degraded->reason, "ShardsFailing");
  EXPECT_EQ(degraded->message, "1 failing: shard \"2\": SecretNotFound: Secret \"pg-shard-2\" not found");
}

TEST(SetConditions, ManyFailingShardsAreSummarised) {
  json obj = electric_test::sample_object();
  json shards = json::array();
  for (int i = 0; i < 15; ++i)
    shards.push_back({{"name", std::to_string(i)}, {"databaseURLSecretRef", {{"name", "pg"}, {"key", "url"}}}});
  obj["spec"]["shards"] = shards;
  ShardSet set = electric_test::parse_ok(obj);
  ShardFacts bad;
  bad.database_url_problem = "the database URL in Secret \"pg\" key \"url\" is not valid: it names no host";
  auto conditions = compute_set_conditions(set, statuses(set, std::vector<ShardFacts>(15, bad)), {}, {});
  const std::string& message = find(conditions, "Degraded")->message;
  EXPECT_EQ(message.rfind("15 failing: shard \"0\": InvalidDatabaseURL", 0), 0u) << message;
  EXPECT_NE(message.find("shard \"9\""), std::string::npos);
  EXPECT_EQ(message.find("shard \"10\""), std::string::npos);
  EXPECT_NE(message.find("and 5 more"), std::string::npos);
}

TEST(SetConditions, PausedAndInvalidSpec) {
  ShardSet set = electric_test::sample_set();
  set.spec.paused = true;
  std::vector<FieldError> errors = {{"spec.service.port", "must be between 1 and 65535", ""}};
  auto conditions = compute_set_conditions(set, {}, errors, {});
  EXPECT_EQ(find(conditions, "Paused")->status, "True");
  EXPECT_EQ(find(conditions, "Paused")->reason, "PausedByUser");
  EXPECT_EQ(find(conditions, "Ready")->status, "False");
  EXPECT_EQ(find(conditions, "Ready")->reason, "InvalidSpec");
  EXPECT_EQ(find(conditions, "Degraded")->status, "True");
  EXPECT_EQ(find(conditions, "Degraded")->reason, "InvalidSpec");
  EXPECT_NE(find(conditions, "Degraded")->message.find("spec.service.port: must be between 1 and 65535"),
            std::string::npos);
  EXPECT_EQ(find(conditions, "Progressing")->status, "False");
}

TEST(SetConditions, PausedWithPendingChangesIsNotReady) {
  ShardSet set = electric_test::sample_set();
  set.spec.paused = true;
  // Every pod serves (ready), but two shards still run the old spec.
  auto shards = statuses(set, {ready_facts(), ready_facts(), ready_facts()});
  auto conditions = compute_set_conditions(set, shards, {}, {"1", "9"});
  const Condition* ready = find(conditions, "Ready");
  EXPECT_EQ(ready->status, "False");
  EXPECT_EQ(ready->reason, "PausedWithPendingChanges");
  EXPECT_EQ(ready->message,
            "spec.paused is true and 2 shards have changes not yet applied: \"1\", \"9\"; 3/3 shards ready");
  EXPECT_EQ(find(conditions, "Paused")->status, "True");
  EXPECT_EQ(find(conditions, "Paused")->reason, "PausedByUser");
  for (const auto& s : shards) EXPECT_TRUE(s.ready) << s.name;

  EXPECT_EQ(compute_set_conditions(set, shards, {}, {"0"})[0].message,
            "spec.paused is true and 1 shard has changes not yet applied: \"0\"; 3/3 shards ready");
}

TEST(SetConditions, PausedWithoutPendingChangesStaysReady) {
  ShardSet set = electric_test::sample_set();
  set.spec.paused = true;
  auto conditions = compute_set_conditions(set, statuses(set, {ready_facts(), ready_facts(), ready_facts()}), {}, {});
  EXPECT_EQ(find(conditions, "Ready")->status, "True");
  EXPECT_EQ(find(conditions, "Ready")->reason, "AllShardsReady");
  EXPECT_EQ(find(conditions, "Paused")->status, "True");
}

TEST(SetConditions, PendingShardsOnlyMatterWhilePaused) {
  ShardSet set = electric_test::sample_set();
  auto conditions = compute_set_conditions(set, statuses(set, {ready_facts(), ready_facts(), ready_facts()}), {}, {"1"});
  EXPECT_EQ(find(conditions, "Ready")->reason, "AllShardsReady");
}

TEST(MergeConditions, LastTransitionTimeChangesOnlyWithStatus) {
  ShardSet set = electric_test::sample_set();
  ShardFacts starting = ready_facts();
  starting.deployment.available_replicas = 0;
  auto t1 = merge_conditions({}, compute_set_conditions(set, statuses(set, {starting, starting, starting}), {}, {}),
                             "2024-05-01T12:00:00Z");
  for (const auto& c : t1) EXPECT_EQ(c.last_transition_time, "2024-05-01T12:00:00Z");

  // One shard becomes ready: message changes, status does not.
  auto t2 = merge_conditions(t1, compute_set_conditions(set, statuses(set, {ready_facts(), starting, starting}), {}, {}),
                             "2024-05-01T12:01:00Z");
  EXPECT_EQ(find(t2, "Ready")->message, "1/3 shards ready");
  EXPECT_EQ(find(t2, "Ready")->last_transition_time, "2024-05-01T12:00:00Z");

  // All ready: Ready and Progressing flip, Degraded and Paused keep their time.
  auto t3 = merge_conditions(
      t2, compute_set_conditions(set, statuses(set, {ready_facts(), ready_facts(), ready_facts()}), {}, {}),
      "2024-05-01T12:02:00Z");
  EXPECT_EQ(find(t3, "Ready")->last_transition_time, "2024-05-01T12:02:00Z");
  EXPECT_EQ(find(t3, "Progressing")->last_transition_time, "2024-05-01T12:02:00Z");
  EXPECT_EQ(find(t3, "Degraded")->last_transition_time, "2024-05-01T12:00:00Z");
  EXPECT_EQ(find(t3, "Paused")->last_transition_time, "2024-05-01T12:00:00Z");

  // Same facts again: nothing changes at all.
  auto t4 = merge_conditions(
      t3, compute_set_conditions(set, statuses(set, {ready_facts(), ready_facts(), ready_facts()}), {}, {}),
      "2024-05-01T12:03:00Z");
  EXPECT_EQ(t3, t4);
}

TEST(Status, JsonShapeMatchesApiMd) {
  ShardSet set = electric_test::sample_set();
  ShardFacts starting = ready_facts();
  starting.deployment.available_replicas = 0;
  auto shards = statuses(set, {ready_facts(), ready_facts(), starting});
  ShardSetStatus st = compute_status(set, shards, {{"9", "myapp-shard-9-data"}, {"10", "myapp-shard-10-data"}},
                                     {{"9", "electric_slot_prod_myapp_9", "electric_publication_prod_myapp_9", "pg:5432",
                                       "dropping the slot and publication"},
                                      {"10", "electric_slot_prod_myapp_10", "electric_publication_prod_myapp_10", "", ""}},
                                     {}, {}, nullptr, "2024-05-01T12:00:00Z");
  json j = status_to_json(st);
  EXPECT_EQ(j["observedGeneration"], 7);
  EXPECT_EQ(j["shardCount"], 3);
  EXPECT_EQ(j["readyShards"], 2);
  EXPECT_EQ(j["routingConfigMap"], "myapp-routing");
  EXPECT_EQ(j["conditions"][0], json::parse(R"({"type":"Ready","status":"False","reason":"ShardsNotReady",
      "message":"2/3 shards ready","observedGeneration":7,"lastTransitionTime":"2024-05-01T12:00:00Z"})"));
  EXPECT_EQ(j["shards"][0], json::parse(R"({"name":"0","phase":"Ready","ready":true,"reason":"Available","message":"",
      "instanceID":"prod/myapp-shard-0","replicationStreamID":"prod_myapp_0",
      "url":"http://myapp-shard-0.prod.svc.cluster.local:3000"})"));
  EXPECT_EQ(j["shards"][2]["replicationStreamID"], "custom_two");
  EXPECT_EQ(j["retainedVolumes"], json::parse(R"([{"shard":"10","persistentVolumeClaim":"myapp-shard-10-data"},
                                                   {"shard":"9","persistentVolumeClaim":"myapp-shard-9-data"}])"));
  EXPECT_EQ(j["retainedReplicationSlots"], json::parse(R"([
      {"shard":"10","slot":"electric_slot_prod_myapp_10","publication":"electric_publication_prod_myapp_10",
       "server":"","message":""},
      {"shard":"9","slot":"electric_slot_prod_myapp_9","publication":"electric_publication_prod_myapp_9",
       "server":"pg:5432","message":"dropping the slot and publication"}])"));
  // Read back as the next reconcile's memory of them.
  EXPECT_EQ(retained_replication_slots_from_json(j), st.retained_replication_slots);
  EXPECT_TRUE(retained_replication_slots_from_json(json()).empty());
}

TEST(Status, UnchangedFactsGiveEqualJsonSoNoWrite) {
  ShardSet set = electric_test::sample_set();
  auto shards = statuses(set, {ready_facts(), ready_facts(), ready_facts()});
  json first = status_to_json(compute_status(set, shards, {}, {}, {}, {}, nullptr, "2024-05-01T12:00:00Z"));
  // Round-trip through text, as the API server would return it.
  json stored = json::parse(first.dump());
  json second = status_to_json(compute_status(set, shards, {}, {}, {}, {}, stored, "2024-05-01T13:00:00Z"));
  EXPECT_EQ(first, second);
  EXPECT_EQ(first.dump(), second.dump());
  EXPECT_TRUE(second["retainedVolumes"].is_array());
}

TEST(Status, AChildTheAPIServerRefusedIsShownOnItsShard) {
  ShardSet set = electric_test::sample_set();
  ShardFacts creating;  // no Deployment yet
  auto shards = statuses(set, {ready_facts(), ready_facts(), creating});
  const json before = status_to_json(compute_status(set, shards, {{"9", "myapp-shard-9-data"}}, {}, {}, {}, nullptr,
                                                    "2024-05-01T12:00:00Z"));
  EXPECT_EQ(with_refused_children(set, shards, {}, before, "later"), before) << "nothing refused, nothing changed";

  const json after = with_refused_children(
      set, shards,
      {{"1", "Service myapp-shard-1: exceeded quota: one-service"},
       {"2", "Deployment myapp-shard-2: spec.template.spec.affinity: field not declared in schema"}},
      before, "2024-05-01T12:00:05Z");
  // A running shard keeps its phase, reported; one not running yet fails.
  EXPECT_EQ(after["shards"][1]["phase"], "Ready");
  EXPECT_EQ(after["shards"][1]["reason"], "RejectedByAPIServer");
  EXPECT_EQ(after["shards"][1]["message"], "Service myapp-shard-1: exceeded quota: one-service");
  EXPECT_EQ(after["shards"][2]["phase"], "Failed");
  EXPECT_EQ(shards[2].reason, "RejectedByAPIServer") << "the statuses for metrics, alike";
  EXPECT_EQ(after["readyShards"], 2);
  const auto conditions = conditions_from_json(after);
  ASSERT_EQ(conditions.size(), 4u);
  EXPECT_EQ(conditions[2].type, "Degraded");
  EXPECT_EQ(conditions[2].status, "True");
  EXPECT_NE(conditions[2].message.find("exceeded quota"), std::string::npos);
  EXPECT_EQ(conditions[2].last_transition_time, "2024-05-01T12:00:05Z");
  EXPECT_EQ(conditions[0].last_transition_time, "2024-05-01T12:00:00Z") << "Ready stayed False";
  EXPECT_EQ(after["retainedVolumes"], before["retainedVolumes"]);
}

TEST(Status, ConditionsRoundTrip) {
  std::vector<Condition> c = {{"Ready", "True", "AllShardsReady", "3/3 shards ready", 4, "2024-01-01T00:00:00Z"}};
  json status = {{"conditions", json::array({condition_to_json(c[0])})}};
  EXPECT_EQ(conditions_from_json(status), c);
  EXPECT_TRUE(conditions_from_json(nullptr).empty());
  EXPECT_TRUE(conditions_from_json(json::object()).empty());
}

}  // namespace
}  // namespace electric
