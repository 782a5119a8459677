#include "electric/reconcile_plan.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "electric/config_hash.h"
#include "electric/digest.h"
#include "electric/secret_values.h"
#include "fixtures.h"

namespace electric {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const std::string kUrl0 = "postgresql://app:pw0-s3cret@db0.prod:5432/app";
const std::string kUrl1 = "postgresql://app:pw1-s3cret@db1.prod/app";
const std::string kPooled1 = "postgresql://app:pw1-s3cret@pool1.prod:6432/app";
const std::string kUrl2 = "postgres://app:pw2-s3cret@db2.prod/app";
const std::string kGeneratedApiSecret = "generated-api-secret-value";
const std::string kT1 = "2024-06-01T00:00:00Z";
const std::string kT2 = "2024-06-02T00:00:00Z";

// "Kind/name" of each apply body, in order.
std::vector<std::string> applied(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& obj : plan.apply) out.push_back(obj.value("kind", "") + "/" + obj["metadata"].value("name", ""));
  return out;
}

std::vector<std::string> removed(const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& r : plan.remove) out.push_back(r.kind + "/" + r.name + "@" + r.uid);
  return out;
}

const json* find_applied(const Plan& plan, const std::string& kind, const std::string& name) {
  for (const auto& obj : plan.apply)
    if (obj.value("kind", "") == kind && obj["metadata"].value("name", "") == name) return &obj;
  return nullptr;
}

// Every applied object labelled as belonging to `shard`.
std::vector<std::string> applied_for_shard(const Plan& plan, const std::string& shard) {
  std::vector<std::string> out;
  for (const auto& obj : plan.apply) {
    const json& labels = obj["metadata"]["labels"];
    if (labels.value("electric-operator.dev/shard", "") == shard)
      out.push_back(obj.value("kind", "") + "/" + obj["metadata"].value("name", ""));
  }
  return out;
}

std::map<std::string, std::string> decoded_data(const json& secret) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : secret["data"].items()) {
    auto plain = base64_decode(value.get<std::string>());
    out[key] = plain ? *plain : "<not base64>";
  }
  return out;
}

const json& condition(const json& status, const std::string& type) {
  for (const auto& c : status["conditions"])
    if (c["type"] == type) return c;
  static const json none;
  ADD_FAILURE() << "no condition " << type;
  return none;
}

const json& shard_status(const Plan& plan, const std::string& name) {
  for (const auto& s : plan.status["shards"])
    if (s["name"] == name) return s;
  static const json none;
  ADD_FAILURE() << "no status for shard " << name;
  return none;
}

bool has_event(const Plan& plan, const std::string& type, const std::string& reason) {
  for (const auto& e : plan.events)
    if (e.type == type && e.reason == reason) return true;
  return false;
}

// Everything the plan says, except the data of the Secrets it applies (which
// is where secret values belong, base64-encoded).
std::string dump_without_secret_data(const Plan& plan) {
  json out;
  for (json obj : plan.apply) {
    if (obj.value("kind", "") == "Secret") obj.erase("data");
    out["apply"].push_back(obj);
  }
  for (const auto& r : plan.remove) out["remove"].push_back({r.kind, r.name, r.uid});
  for (const auto& e : plan.events) out["events"].push_back({e.type, e.reason, e.message});
  for (const auto& s : plan.shards) out["shards"].push_back({s.name, s.reason, s.message, s.url});
  out["status"] = plan.status;
  return out.dump();
}

json plan_json(const Plan& plan) {
  json out = {{"apply", plan.apply}, {"status", plan.status}};
  out["remove"] = json::array();
  for (const auto& r : plan.remove) out["remove"].push_back({r.kind, r.name, r.uid});
  out["events"] = json::array();
  for (const auto& e : plan.events) out["events"].push_back({e.type, e.reason, e.message});
  out["shards"] = json::array();
  for (const auto& s : plan.shards)
    out["shards"].push_back({s.name, to_string(s.phase), s.ready, s.reason, s.message, s.instance_id,
                             s.replication_stream_id, s.url});
  return out;
}

// A Deployment as the API server would report it once the Deployment
// controller rolled out `desired` and its pod is available.
json rolled_out(json desired, int64_t generation = 3) {
  desired["metadata"]["generation"] = generation;
  desired["status"] = {{"observedGeneration", generation},
                       {"replicas", 1},
                       {"updatedReplicas", 1},
                       {"readyReplicas", 1},
                       {"availableReplicas", 1}};
  return desired;
}

json live_pvc(const std::string& size) {
  return {{"metadata", {{"name", "ignored"}}},
          {"spec", {{"accessModes", {"ReadWriteOnce"}},
                    {"resources", {{"requests", {{"storage", size}}}}},
                    {"storageClassName", "fast"},
                    {"volumeName", "pv-123"}}},
          {"status", {{"phase", "Bound"}}}};
}

class PlanReconcileTest : public ::testing::Test {
 protected:
  PlanReconcileTest() : object_(electric_test::sample_object()) {
    put("pg-shard-0", {{"url", kUrl0}});
    put("pg-shard-1", {{"url", kUrl1}, {"pooled", kPooled1}});
    put("pg-shard-2", {{"url", kUrl2}});
    observed_.generated_api_secret = kGeneratedApiSecret;
    observed_.now = kT1;
  }

  void put(const std::string& name, std::map<std::string, std::string> values) {
    json data = json::object();
    for (const auto& [k, v] : values) data[k] = base64_encode(v);
    secrets_[name] = {{"metadata", {{"name", name}, {"namespace", "prod"}}}, {"data", data}};
  }

  SecretReader reader() const {
    return [this](const SecretKeyRef& ref) {
      auto it = secrets_.find(ref.name);
      return it == secrets_.end() ? SecretLookup{} : lookup_secret_key(it->second, ref.key);
    };
  }

  ParsedShardSet parsed() const { return parse_shard_set(object_); }

  Plan plan(const json& previous_status = json()) {
    observed_.read_secret = reader();
    return plan_reconcile(parsed(), observed_, previous_status);
  }

  // The Deployments `p` applies, as the cluster reports them once rolled out.
  void roll_out(const Plan& p) {
    for (const auto& obj : p.apply)
      if (obj["kind"] == "Deployment") observed_.deployments[obj["metadata"]["name"]] = deployment_facts(rolled_out(obj));
  }

  void add_child(const std::string& kind, const std::string& name, const std::string& shard,
                 const std::string& uid, bool owned = true) {
    observed_.children.push_back({kind, name, shard, uid, owned});
  }

  json object_;
  std::map<std::string, json> secrets_;
  Observed observed_;
};

// --- The happy path ----------------------------------------------------------

TEST_F(PlanReconcileTest, AppliesEveryChildInSafeOrder) {
  Plan p = plan();
  EXPECT_THAT(applied(p),
              ElementsAre("Secret/myapp-shard-0", "Secret/myapp-shard-1", "Secret/myapp-shard-2",
                          "PersistentVolumeClaim/myapp-shard-0-data", "PersistentVolumeClaim/myapp-shard-1-data",
                          "PersistentVolumeClaim/myapp-shard-2-data", "Service/myapp-shard-0",
                          "Service/myapp-shard-1", "Service/myapp-shard-2", "Deployment/myapp-shard-0",
                          "Deployment/myapp-shard-1", "Deployment/myapp-shard-2", "ConfigMap/myapp-routing"));
  EXPECT_THAT(p.remove, IsEmpty());
  EXPECT_THAT(p.events, IsEmpty());
  for (const auto& obj : p.apply) EXPECT_EQ(obj["metadata"]["namespace"], "prod") << obj.dump();
}

TEST_F(PlanReconcileTest, NetworkPolicyBeforeAnyPodWhenEnabledAndRemovedWhenNot) {
  EXPECT_EQ(find_applied(plan(), "NetworkPolicy", "myapp-network-policy"), nullptr);  // off by default
  object_["spec"]["networkPolicy"] = json::parse(R"({"enabled": true, "from": [{"podSelector": {}}]})");
  Plan p = plan();
  std::vector<std::string> order = applied(p);
  auto at = [&order](const std::string& name) { return std::find(order.begin(), order.end(), name) - order.begin(); };
  ASSERT_LT(at("NetworkPolicy/myapp-network-policy"), static_cast<long>(order.size()));
  EXPECT_LT(at("NetworkPolicy/myapp-network-policy"), at("Deployment/myapp-shard-0"));
  EXPECT_LT(at("NetworkPolicy/myapp-network-policy"), at("Service/myapp-shard-0"));
  add_child("NetworkPolicy", "myapp-network-policy", "", "uid-np");
  EXPECT_THAT(plan().remove, IsEmpty());

  object_["spec"]["networkPolicy"]["enabled"] = false;
  EXPECT_THAT(removed(plan()), ElementsAre("NetworkPolicy/myapp-network-policy@uid-np"));
  object_["spec"]["paused"] = true;  // no writes while paused
  EXPECT_THAT(plan().remove, IsEmpty());
  object_["spec"]["paused"] = false;
  observed_.children.back().owned_by_set = false;  // someone else's: left alone
  EXPECT_THAT(plan().remove, IsEmpty());
}

TEST_F(PlanReconcileTest, ShardSecretsCopyValuesFromTheReferencedSecrets) {
  Plan p = plan();
  using Data = std::map<std::string, std::string>;
  EXPECT_EQ(decoded_data(*find_applied(p, "Secret", "myapp-shard-0")),
            (Data{{"DATABASE_URL", kUrl0}, {"ELECTRIC_SECRET", kGeneratedApiSecret}}));
  EXPECT_EQ(decoded_data(*find_applied(p, "Secret", "myapp-shard-1")),
            (Data{{"DATABASE_URL", kUrl1},
                  {"ELECTRIC_POOLED_DATABASE_URL", kPooled1},
                  {"ELECTRIC_SECRET", kGeneratedApiSecret}}));
  EXPECT_EQ(decoded_data(*find_applied(p, "Secret", "myapp-shard-2")),
            (Data{{"DATABASE_URL", kUrl2}, {"ELECTRIC_SECRET", kGeneratedApiSecret}}));
  for (const auto& obj : p.apply) {
    EXPECT_FALSE(obj["metadata"]["labels"].contains("app.kubernetes.io/instance"));
    EXPECT_FALSE(obj["metadata"]["labels"].contains("team"));
  }
}

TEST_F(PlanReconcileTest, PvcOwnerReferenceOnlyUnderWhenDeletedDelete) {
  Plan retain = plan();
  for (const char* name : {"myapp-shard-0-data", "myapp-shard-1-data", "myapp-shard-2-data"}) {
    const json* pvc = find_applied(retain, "PersistentVolumeClaim", name);
    ASSERT_NE(pvc, nullptr);
    EXPECT_FALSE(pvc->at("metadata").contains("ownerReferences")) << name;
    EXPECT_EQ((*pvc)["spec"]["resources"]["requests"]["storage"], "10Gi");
  }
  // Every other child is owned by the set.
  for (const auto& obj : retain.apply) {
    if (obj["kind"] == "PersistentVolumeClaim") continue;
    ASSERT_TRUE(obj["metadata"].contains("ownerReferences")) << obj["metadata"]["name"];
    EXPECT_EQ(obj["metadata"]["ownerReferences"][0]["uid"], "1111-2222");
    EXPECT_EQ(obj["metadata"]["ownerReferences"][0]["controller"], true);
  }

  object_["spec"]["persistentVolumeClaimRetentionPolicy"] = {{"whenDeleted", "Delete"}};
  Plan del = plan();
  for (const char* name : {"myapp-shard-0-data", "myapp-shard-1-data", "myapp-shard-2-data"}) {
    const json* pvc = find_applied(del, "PersistentVolumeClaim", name);
    ASSERT_NE(pvc, nullptr);
    ASSERT_TRUE(pvc->at("metadata").contains("ownerReferences")) << name;
    EXPECT_EQ((*pvc)["metadata"]["ownerReferences"][0]["uid"], "1111-2222");
    EXPECT_EQ((*pvc)["metadata"]["ownerReferences"][0]["blockOwnerDeletion"], true);
  }
}

TEST_F(PlanReconcileTest, DeploymentsCarryTheConfigHashOfTheirInputs) {
  Plan p = plan();
  ShardSet set = parsed().set;
  const std::vector<ShardSecretValues> values = {
      {kUrl0, kGeneratedApiSecret, std::nullopt},
      {kUrl1, kGeneratedApiSecret, kPooled1},
      {kUrl2, kGeneratedApiSecret, std::nullopt},
  };
  std::set<std::string> hashes;
  for (std::size_t i = 0; i < 3; ++i) {
    const json* d = find_applied(p, "Deployment", "myapp-shard-" + std::to_string(i));
    ASSERT_NE(d, nullptr);
    const json& annotations = (*d)["spec"]["template"]["metadata"]["annotations"];
    ASSERT_TRUE(annotations.contains("electric-operator.dev/config-hash"));
    const std::string hash = annotations["electric-operator.dev/config-hash"];
    EXPECT_EQ(hash.size(), 64u);
    EXPECT_EQ(hash, compute_config_hash(set, set.spec.shards[i], values[i]));
    hashes.insert(hash);
  }
  EXPECT_EQ(hashes.size(), 3u);

  // A changed database URL rolls only that shard's pod.
  put("pg-shard-0", {{"url", "postgresql://app:rotated@db0.prod:5432/app"}});
  Plan rotated = plan();
  auto hash_of = [](const Plan& plan, const std::string& name) {
    return (*find_applied(plan, "Deployment", name))["spec"]["template"]["metadata"]["annotations"]
        ["electric-operator.dev/config-hash"];
  };
  EXPECT_NE(hash_of(rotated, "myapp-shard-0"), hash_of(p, "myapp-shard-0"));
  EXPECT_EQ(hash_of(rotated, "myapp-shard-1"), hash_of(p, "myapp-shard-1"));
}

TEST_F(PlanReconcileTest, NotReadyWhileDeploymentsAreMissing) {
  Plan p = plan();
  EXPECT_EQ(p.status["observedGeneration"], 7);
  EXPECT_EQ(p.status["shardCount"], 3);
  EXPECT_EQ(p.status["readyShards"], 0);
  EXPECT_EQ(p.status["routingConfigMap"], "myapp-routing");
  EXPECT_EQ(p.status["retainedVolumes"], json::array());
  EXPECT_EQ(condition(p.status, "Ready")["status"], "False");
  EXPECT_EQ(condition(p.status, "Ready")["reason"], "ShardsNotReady");
  EXPECT_EQ(condition(p.status, "Ready")["message"], "0/3 shards ready");
  EXPECT_EQ(condition(p.status, "Ready")["observedGeneration"], 7);
  EXPECT_EQ(condition(p.status, "Ready")["lastTransitionTime"], kT1);
  EXPECT_EQ(condition(p.status, "Progressing")["status"], "True");
  EXPECT_EQ(condition(p.status, "Degraded")["status"], "False");
  EXPECT_EQ(condition(p.status, "Paused")["status"], "False");
  ASSERT_EQ(p.shards.size(), 3u);
  for (const auto& s : p.shards) {
    EXPECT_EQ(s.phase, ShardPhase::Progressing) << s.name;
    EXPECT_FALSE(s.ready);
  }
  const json& s2 = shard_status(p, "2");
  EXPECT_EQ(s2["instanceID"], "prod/myapp-shard-2");
  EXPECT_EQ(s2["replicationStreamID"], "custom_two");
  EXPECT_EQ(s2["url"], "http://myapp-shard-2.prod.svc.cluster.local:3000");
  EXPECT_EQ(shard_status(p, "0")["replicationStreamID"], "prod_myapp_0");

  const json* cm = find_applied(p, "ConfigMap", "myapp-routing");
  ASSERT_NE(cm, nullptr);
  json shards = json::parse((*cm)["data"]["shards.json"].get<std::string>())["shards"];
  for (const auto& s : shards) EXPECT_EQ(s["ready"], false);
}

TEST_F(PlanReconcileTest, ReadyWhenEveryDeploymentIsAvailableAndUpdated) {
  Plan first = plan();
  roll_out(first);
  Plan p = plan(first.status);
  EXPECT_EQ(p.status["readyShards"], 3);
  EXPECT_EQ(condition(p.status, "Ready")["status"], "True");
  EXPECT_EQ(condition(p.status, "Ready")["reason"], "AllShardsReady");
  EXPECT_EQ(condition(p.status, "Ready")["message"], "3/3 shards ready");
  EXPECT_EQ(condition(p.status, "Progressing")["status"], "False");
  EXPECT_EQ(condition(p.status, "Degraded")["status"], "False");
  for (const auto& s : p.shards) {
    EXPECT_EQ(s.phase, ShardPhase::Ready) << s.name;
    EXPECT_TRUE(s.ready);
  }
  json shards = json::parse((*find_applied(p, "ConfigMap", "myapp-routing"))["data"]["shards.json"].get<std::string>())["shards"];
  ASSERT_EQ(shards.size(), 3u);
  for (const auto& s : shards) EXPECT_EQ(s["ready"], true);
}

TEST_F(PlanReconcileTest, NotReadyUntilTheDeploymentControllerCaughtUp) {
  Plan first = plan();
  roll_out(first);
  observed_.deployments["myapp-shard-1"].generation = 4;  // observedGeneration 3
  Plan p = plan();
  EXPECT_EQ(p.status["readyShards"], 2);
  EXPECT_EQ(condition(p.status, "Ready")["status"], "False");
  EXPECT_EQ(condition(p.status, "Ready")["message"], "2/3 shards ready");
  EXPECT_EQ(shard_status(p, "1")["phase"], "Progressing");
}

TEST_F(PlanReconcileTest, ADeploymentWithAnOlderConfigHashIsNotReady) {
  Plan first = plan();
  roll_out(first);
  // The database URL changes: the live pod still runs with the old one.
  put("pg-shard-0", {{"url", "postgresql://app:rotated@db0.prod:5432/app"}});
  Plan p = plan();
  EXPECT_EQ(shard_status(p, "0")["phase"], "Progressing");
  EXPECT_EQ(shard_status(p, "0")["ready"], false);
  EXPECT_EQ(shard_status(p, "1")["ready"], true);
  EXPECT_EQ(p.status["readyShards"], 2);
  EXPECT_EQ(condition(p.status, "Ready")["status"], "False");
}

// --- Bad input -----------------------------------------------------------------

TEST_F(PlanReconcileTest, MissingSecretLeavesThatShardPendingAndTheOthersRendered) {
  secrets_.erase("pg-shard-1");
  Plan p = plan();
  const json& s1 = shard_status(p, "1");
  EXPECT_EQ(s1["phase"], "Pending");
  EXPECT_EQ(s1["reason"], "SecretNotFound");
  EXPECT_EQ(s1["message"], "Secret \"pg-shard-1\" not found");
  EXPECT_THAT(applied_for_shard(p, "1"), IsEmpty());
  EXPECT_THAT(applied_for_shard(p, "0"),
              ElementsAre("Secret/myapp-shard-0", "PersistentVolumeClaim/myapp-shard-0-data",
                          "Service/myapp-shard-0", "Deployment/myapp-shard-0"));
  EXPECT_EQ(applied_for_shard(p, "2").size(), 4u);
  EXPECT_NE(find_applied(p, "ConfigMap", "myapp-routing"), nullptr);

  const json& degraded = condition(p.status, "Degraded");
  EXPECT_EQ(degraded["status"], "True");
  EXPECT_EQ(degraded["reason"], "ShardsFailing");
  EXPECT_THAT(degraded["message"].get<std::string>(), HasSubstr("shard \"1\""));
  EXPECT_THAT(degraded["message"].get<std::string>(), HasSubstr("SecretNotFound"));
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].type, "Warning");
  EXPECT_EQ(p.events[0].reason, "SecretNotFound");
  EXPECT_THAT(p.events[0].message, HasSubstr("pg-shard-1"));
  EXPECT_THAT(p.remove, IsEmpty());

  // Heals by itself once the Secret appears.
  put("pg-shard-1", {{"url", kUrl1}, {"pooled", kPooled1}});
  Plan healed = plan(p.status);
  EXPECT_EQ(applied_for_shard(healed, "1").size(), 4u);
  EXPECT_EQ(condition(healed.status, "Degraded")["status"], "False");
  EXPECT_THAT(healed.events, IsEmpty());
}

TEST_F(PlanReconcileTest, MissingKeyIsSecretNotFoundNamingTheKey) {
  put("pg-shard-1", {{"url", kUrl1}});  // no "pooled"
  Plan p = plan();
  const json& s1 = shard_status(p, "1");
  EXPECT_EQ(s1["phase"], "Pending");
  EXPECT_EQ(s1["reason"], "SecretNotFound");
  EXPECT_EQ(s1["message"], "Secret \"pg-shard-1\" has no key \"pooled\"");
  EXPECT_THAT(applied_for_shard(p, "1"), IsEmpty());
  EXPECT_EQ(condition(p.status, "Degraded")["status"], "True");
  EXPECT_TRUE(has_event(p, "Warning", "SecretNotFound"));
}

TEST_F(PlanReconcileTest, InvalidDatabaseUrlFailsTheShardWithoutShowingThePassword) {
  const std::string password = "Sup3rS3cretPassw0rd";
  for (const std::string& url : {"mysql://admin:" + password + "@db0/app",
                                 "postgresql://admin:" + password + "@db0:notaport/app",
                                 "admin:" + password + "@db0/app", password}) {
    SCOPED_TRACE(url);
    put("pg-shard-0", {{"url", url}});
    Plan p = plan();
    const json& s0 = shard_status(p, "0");
    EXPECT_EQ(s0["phase"], "Failed");
    EXPECT_EQ(s0["reason"], "InvalidDatabaseURL");
    EXPECT_THAT(s0["message"].get<std::string>(), HasSubstr("pg-shard-0"));
    EXPECT_THAT(applied_for_shard(p, "0"), IsEmpty());
    EXPECT_EQ(applied_for_shard(p, "1").size(), 4u);
    EXPECT_EQ(condition(p.status, "Degraded")["status"], "True");
    EXPECT_TRUE(has_event(p, "Warning", "InvalidDatabaseURL"));
    EXPECT_THAT(dump_without_secret_data(p), Not(HasSubstr(password)));
    EXPECT_THAT(dump_without_secret_data(p), Not(HasSubstr("admin:")));
  }
}

TEST_F(PlanReconcileTest, ValueNotBase64IsSecretNotFoundSayingSo) {
  secrets_["pg-shard-1"]["data"]["pooled"] = "not base64 %%";
  Plan p = plan();
  const json& s1 = shard_status(p, "1");
  EXPECT_EQ(s1["phase"], "Pending");
  EXPECT_EQ(s1["reason"], "SecretNotFound");
  EXPECT_EQ(s1["message"], "Secret \"pg-shard-1\" key \"pooled\" is not valid base64");
  EXPECT_THAT(dump_without_secret_data(p), Not(HasSubstr("not base64 %%")));
}

// The URL's problem is said once: which URL, "is not valid", the reason.
TEST_F(PlanReconcileTest, InvalidDatabaseUrlMessageReadsOnce) {
  put("pg-shard-0", {{"url", "postgresql://admin:Pw-9x@/app"}});
  Plan p = plan();
  const std::string message = shard_status(p, "0")["message"];
  EXPECT_EQ(message.rfind("the database URL in Secret \"pg-shard-0\" key \"url\" is not valid: it names no host", 0), 0u)
      << message;
  EXPECT_THAT(message, Not(HasSubstr("invalid")));
  EXPECT_THAT(message, Not(HasSubstr("Pw-9x")));
  ASSERT_TRUE(has_event(p, "Warning", "InvalidDatabaseURL"));
  for (const auto& e : p.events)
    if (e.reason == "InvalidDatabaseURL") {
      EXPECT_EQ(e.message, "shard \"0\": " + message);
    }
}

TEST_F(PlanReconcileTest, InvalidPooledUrlFailsTheShard) {
  put("pg-shard-1", {{"url", kUrl1}, {"pooled", "http://u:pooledpw@pool/app"}});
  Plan p = plan();
  EXPECT_EQ(shard_status(p, "1")["reason"], "InvalidDatabaseURL");
  EXPECT_THAT(shard_status(p, "1")["message"].get<std::string>(), HasSubstr("pooled"));
  EXPECT_THAT(applied_for_shard(p, "1"), IsEmpty());
  EXPECT_THAT(dump_without_secret_data(p), Not(HasSubstr("pooledpw")));
}

TEST_F(PlanReconcileTest, NoSecretValueAppearsOutsideSecretData) {
  Plan p = plan();
  const std::string dump = dump_without_secret_data(p);
  for (const char* value : {"pw0-s3cret", "pw1-s3cret", "pw2-s3cret", "generated-api-secret-value"})
    EXPECT_THAT(dump, Not(HasSubstr(value)));
}

TEST_F(PlanReconcileTest, StreamConflictRemovesTheLosersDeploymentAndCreatesNone) {
  observed_.stream_conflicts[{"prod", "myapp", "2"}] =
      "replication stream ID \"custom_two\" ... is already used by shard \"0\" of set prod/older";
  add_child("Deployment", "myapp-shard-2", "2", "uid-d2");
  add_child("Service", "myapp-shard-2", "2", "uid-s2");
  observed_.deployments["myapp-shard-2"] = deployment_facts({{"metadata", {{"name", "myapp-shard-2"}, {"generation", 1}}}});
  Plan p = plan();
  const json& s2 = shard_status(p, "2");
  EXPECT_EQ(s2["phase"], "Failed");
  EXPECT_EQ(s2["reason"], "ReplicationStreamConflict");
  EXPECT_THAT(s2["message"].get<std::string>(), HasSubstr("prod/older"));
  EXPECT_EQ(find_applied(p, "Deployment", "myapp-shard-2"), nullptr);
  EXPECT_THAT(applied_for_shard(p, "2"), IsEmpty());
  EXPECT_THAT(removed(p), ElementsAre("Deployment/myapp-shard-2@uid-d2"));
  EXPECT_NE(find_applied(p, "Deployment", "myapp-shard-0"), nullptr);
  EXPECT_EQ(condition(p.status, "Degraded")["status"], "True");
  EXPECT_TRUE(has_event(p, "Warning", "ReplicationStreamConflict"));
}

TEST_F(PlanReconcileTest, StreamConflictNeverDeletesADeploymentTheSetDoesNotOwn) {
  observed_.stream_conflicts[{"prod", "myapp", "2"}] = "conflict";
  add_child("Deployment", "myapp-shard-2", "2", "uid-d2", /*owned=*/false);
  observed_.deployments["myapp-shard-2"] = deployment_facts({{"metadata", {{"name", "myapp-shard-2"}}}});
  Plan p = plan();
  EXPECT_THAT(p.remove, IsEmpty());
  EXPECT_EQ(find_applied(p, "Deployment", "myapp-shard-2"), nullptr);
}

TEST_F(PlanReconcileTest, APrivilegedTemplateIsRefusedAndNothingIsCreated) {
  object_["spec"]["template"] = json::parse(R"({"securityContext": {"privileged": true}})");
  Plan p = plan();
  for (const char* shard : {"0", "1", "2"}) {
    SCOPED_TRACE(shard);
    const json& s = shard_status(p, shard);
    EXPECT_EQ(s["phase"], "Failed");
    EXPECT_EQ(s["reason"], "PodSecurityViolation");
    EXPECT_THAT(s["message"].get<std::string>(), HasSubstr("spec.template.securityContext.privileged"));
    EXPECT_THAT(s["message"].get<std::string>(), HasSubstr("\"baseline\""));
    EXPECT_THAT(applied_for_shard(p, shard), IsEmpty());
  }
  EXPECT_THAT(applied(p), ElementsAre("ConfigMap/myapp-routing"));
  EXPECT_THAT(p.remove, IsEmpty());
  EXPECT_EQ(condition(p.status, "Degraded")["status"], "True");
  EXPECT_THAT(condition(p.status, "Degraded")["message"].get<std::string>(), HasSubstr("PodSecurityViolation"));
  EXPECT_TRUE(has_event(p, "Warning", "PodSecurityViolation"));
}

TEST_F(PlanReconcileTest, APodSecurityViolationLeavesARunningShardAsItIs) {
  const Plan before = plan();
  const json* running = find_applied(before, "Deployment", "myapp-shard-0");
  ASSERT_NE(running, nullptr);
  observed_.deployments["myapp-shard-0"] = deployment_facts(rolled_out(*running));
  add_child("Deployment", "myapp-shard-0", "0", "uid-d0");

  object_["spec"]["template"] = json::parse(R"({"podSecurityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}})");
  Plan p = plan();
  EXPECT_EQ(shard_status(p, "0")["reason"], "PodSecurityViolation");
  EXPECT_THAT(shard_status(p, "0")["message"].get<std::string>(),
              HasSubstr("spec.template.podSecurityContext.sysctls[0].name"));
  EXPECT_EQ(find_applied(p, "Deployment", "myapp-shard-0"), nullptr);  // no change applied
  EXPECT_THAT(p.remove, IsEmpty());                                     // and nothing deleted
}

TEST_F(PlanReconcileTest, APodRefusedByAdmissionReachesStatusAndAnEvent) {
  const Plan before = plan();
  json live = *find_applied(before, "Deployment", "myapp-shard-0");
  live["metadata"]["generation"] = 1;
  live["status"] = json::parse(R"({"observedGeneration": 1, "replicas": 0, "conditions": [
      {"type": "Progressing", "status": "True", "reason": "NewReplicaSetCreated"},
      {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
       "message": "pods \"myapp-shard-0-7f9\" is forbidden: violates PodSecurity \"restricted:latest\": runAsNonRoot != true"}]})");
  observed_.deployments["myapp-shard-0"] = deployment_facts(live);
  Plan p = plan();
  const json& s0 = shard_status(p, "0");
  EXPECT_EQ(s0["phase"], "Progressing");
  EXPECT_EQ(s0["reason"], "PodCreationFailed");
  EXPECT_THAT(s0["message"].get<std::string>(), HasSubstr("violates PodSecurity"));
  EXPECT_EQ(condition(p.status, "Degraded")["status"], "True");
  EXPECT_TRUE(has_event(p, "Warning", "PodCreationFailed"));
  EXPECT_NE(find_applied(p, "Deployment", "myapp-shard-0"), nullptr);  // still kept as specified
}

TEST_F(PlanReconcileTest, TheAllowedLevelComesFromTheOperator) {
  object_["spec"]["template"] = json::parse(R"({"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}})");
  observed_.max_pod_security_level = PodSecurityLevel::Privileged;
  Plan p = plan();
  EXPECT_EQ(shard_status(p, "0")["reason"], "Creating");
  const json* d = find_applied(p, "Deployment", "myapp-shard-0");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ((*d)["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"]["add"],
            json::array({"SYS_ADMIN"}));

  // Restricted refuses the defaults (root is allowed by the image) until
  // the README's non-root recipe is added.
  object_["spec"]["template"] = json::object();
  observed_.max_pod_security_level = PodSecurityLevel::Restricted;
  p = plan();
  EXPECT_EQ(shard_status(p, "0")["reason"], "PodSecurityViolation");
  EXPECT_THAT(shard_status(p, "0")["message"].get<std::string>(), HasSubstr("runAsNonRoot"));
  object_["spec"]["template"]["podSecurityContext"] = {{"runAsNonRoot", true}, {"runAsUser", 65534}};
  p = plan();
  EXPECT_EQ(shard_status(p, "0")["reason"], "Creating");
}

TEST_F(PlanReconcileTest, StorageShrinkKeepsThePvcAndAppliesTheRest) {
  observed_.pvcs["myapp-shard-0-data"] = pvc_facts(live_pvc("20Gi"));  // spec asks for 10Gi
  observed_.pvcs["myapp-shard-1-data"] = pvc_facts(live_pvc("5Gi"));   // grows
  Plan p = plan();
  EXPECT_EQ(find_applied(p, "PersistentVolumeClaim", "myapp-shard-0-data"), nullptr);
  EXPECT_THAT(applied_for_shard(p, "0"),
              ElementsAre("Secret/myapp-shard-0", "Service/myapp-shard-0", "Deployment/myapp-shard-0"));
  const json* grown = find_applied(p, "PersistentVolumeClaim", "myapp-shard-1-data");
  ASSERT_NE(grown, nullptr);
  EXPECT_EQ((*grown)["spec"]["resources"]["requests"]["storage"], "10Gi");

  const json& s0 = shard_status(p, "0");
  EXPECT_EQ(s0["reason"], "StorageShrinkNotSupported");
  EXPECT_THAT(s0["message"].get<std::string>(), HasSubstr("20Gi"));
  EXPECT_EQ(condition(p.status, "Degraded")["status"], "True");
  EXPECT_TRUE(has_event(p, "Warning", "StorageShrinkNotSupported"));
  EXPECT_EQ(shard_status(p, "1")["reason"], "Creating");
}

TEST_F(PlanReconcileTest, PausedWritesNothing) {
  object_["spec"]["paused"] = true;
  add_child("Deployment", "myapp-shard-9", "9", "uid-d9");
  add_child("ConfigMap", "old-routing", "", "uid-cm");
  Plan p = plan();
  EXPECT_THAT(p.apply, IsEmpty());
  EXPECT_THAT(p.remove, IsEmpty());
  const json& paused = condition(p.status, "Paused");
  EXPECT_EQ(paused["status"], "True");
  EXPECT_EQ(paused["reason"], "PausedByUser");
  EXPECT_EQ(condition(p.status, "Ready")["status"], "False");
  EXPECT_EQ(shard_status(p, "0")["phase"], "Pending");
  EXPECT_EQ(shard_status(p, "0")["reason"], "Paused");
}

// Rolled out and bound as `plan_` rendered them: what a converged set looks like.
void converge(Observed& observed, const Plan& plan_) {
  for (const auto& obj : plan_.apply) {
    const std::string name = obj["metadata"]["name"];
    if (obj["kind"] == "Deployment") observed.deployments[name] = deployment_facts(rolled_out(obj));
    if (obj["kind"] == "PersistentVolumeClaim") observed.pvcs[name] = pvc_facts(obj);
  }
}

TEST_F(PlanReconcileTest, PausedWithoutEditsStaysReady) {
  converge(observed_, plan());
  object_["spec"]["paused"] = true;
  Plan p = plan();
  EXPECT_EQ(condition(p.status, "Ready")["status"], "True");
  EXPECT_EQ(condition(p.status, "Ready")["reason"], "AllShardsReady");
  EXPECT_EQ(condition(p.status, "Paused")["status"], "True");
}

TEST_F(PlanReconcileTest, PausedWithAnEditIsNotReadyAndNamesTheShards) {
  converge(observed_, plan());
  object_["spec"]["paused"] = true;
  object_["spec"]["image"] = "electricsql/electric:1.7.13";
  Plan p = plan();
  EXPECT_THAT(p.apply, IsEmpty());
  const json& ready = condition(p.status, "Ready");
  EXPECT_EQ(ready["status"], "False");
  EXPECT_EQ(ready["reason"], "PausedWithPendingChanges");
  EXPECT_EQ(ready["message"],
            "spec.paused is true and 3 shards have changes not yet applied: \"0\", \"1\", \"2\"; 3/3 shards ready");
  EXPECT_EQ(condition(p.status, "Paused")["status"], "True");
  // Each pod still serves: the shard's own flag is unchanged.
  EXPECT_EQ(p.status["readyShards"], 3);
  EXPECT_EQ(shard_status(p, "0")["ready"], true);
  EXPECT_EQ(shard_status(p, "0")["reason"], "Paused");
}

TEST_F(PlanReconcileTest, PausedWithAGrownVolumeOrANewShardIsPending) {
  converge(observed_, plan());
  object_["spec"]["paused"] = true;
  object_["spec"]["shards"][1]["storage"] = {{"size", "50Gi"}};
  object_["spec"]["shards"].push_back({{"name", "3"}, {"databaseURLSecretRef", {{"name", "pg-shard-0"}, {"key", "url"}}}});
  Plan p = plan();
  EXPECT_EQ(condition(p.status, "Ready")["reason"], "PausedWithPendingChanges");
  EXPECT_THAT(condition(p.status, "Ready")["message"].get<std::string>(),
              HasSubstr("2 shards have changes not yet applied: \"1\", \"3\""));
}

TEST_F(PlanReconcileTest, PausedWithARemovedShardsChildrenIsPending) {
  converge(observed_, plan());
  object_["spec"]["paused"] = true;
  add_child("Deployment", "myapp-shard-9", "9", "uid-d9");
  add_child("PersistentVolumeClaim", "myapp-shard-8-data", "8", "uid-p8", /*owned=*/false);  // already released
  Plan p = plan();
  EXPECT_THAT(p.remove, IsEmpty());
  EXPECT_EQ(condition(p.status, "Ready")["reason"], "PausedWithPendingChanges");
  EXPECT_THAT(condition(p.status, "Ready")["message"].get<std::string>(),
              HasSubstr("1 shard has changes not yet applied: \"9\""));
}

TEST_F(PlanReconcileTest, PausedStillReportsRetainedVolumes) {
  object_["spec"]["paused"] = true;
  add_child("PersistentVolumeClaim", "myapp-shard-9-data", "9", "uid-p9", /*owned=*/true);
  observed_.pvcs["myapp-shard-9-data"] = pvc_facts(live_pvc("10Gi"));
  Plan p = plan();
  EXPECT_THAT(p.apply, IsEmpty());
  EXPECT_EQ(p.status["retainedVolumes"],
            json::parse(R"([{"shard":"9","persistentVolumeClaim":"myapp-shard-9-data"}])"));
}

TEST_F(PlanReconcileTest, SetWideInvalidSpecWritesNothing) {
  object_["spec"]["service"] = {{"port", 0}};
  add_child("Deployment", "myapp-shard-9", "9", "uid-d9");
  add_child("ConfigMap", "old-routing", "", "uid-cm");
  Plan p = plan();
  EXPECT_THAT(p.apply, IsEmpty());
  EXPECT_THAT(p.remove, IsEmpty());
  const json& degraded = condition(p.status, "Degraded");
  EXPECT_EQ(degraded["status"], "True");
  EXPECT_EQ(degraded["reason"], "InvalidSpec");
  EXPECT_THAT(degraded["message"].get<std::string>(), HasSubstr("spec.service.port"));
  EXPECT_EQ(condition(p.status, "Ready")["status"], "False");
  EXPECT_EQ(condition(p.status, "Ready")["reason"], "InvalidSpec");
  EXPECT_TRUE(has_event(p, "Warning", "InvalidSpec"));
}

TEST_F(PlanReconcileTest, ShardSpecErrorFailsOnlyThatShard) {
  object_["spec"]["shards"][1]["env"] = json::parse(R"([{"name":"DATABASE_URL","value":"x"}])");
  Plan p = plan();
  EXPECT_EQ(shard_status(p, "1")["phase"], "Failed");
  EXPECT_EQ(shard_status(p, "1")["reason"], "InvalidSpec");
  EXPECT_THAT(applied_for_shard(p, "1"), IsEmpty());
  EXPECT_EQ(applied_for_shard(p, "0").size(), 4u);
  EXPECT_TRUE(has_event(p, "Warning", "InvalidSpec"));
}

TEST_F(PlanReconcileTest, BeingDeletedWritesNothing) {
  object_["metadata"]["deletionTimestamp"] = "2024-06-01T00:00:00Z";
  add_child("Deployment", "myapp-shard-9", "9", "uid-d9");
  Plan p = plan();
  EXPECT_THAT(p.apply, IsEmpty());
  EXPECT_THAT(p.remove, IsEmpty());
}

// --- Removal ---------------------------------------------------------------------

TEST_F(PlanReconcileTest, RemovedShardLosesItsChildrenButKeepsItsVolumeUnderRetain) {
  add_child("Secret", "myapp-shard-9", "9", "uid-sec9");
  add_child("PersistentVolumeClaim", "myapp-shard-9-data", "9", "uid-p9", /*owned=*/false);
  add_child("Service", "myapp-shard-9", "9", "uid-svc9");
  add_child("Deployment", "myapp-shard-9", "9", "uid-d9");
  add_child("Deployment", "myapp-shard-0", "0", "uid-d0");  // in spec: stays
  add_child("Secret", "myapp-api-secret", "", "uid-api");    // per set: stays
  observed_.pvcs["myapp-shard-9-data"] = pvc_facts(live_pvc("10Gi"));
  Plan p = plan();
  // Its Electric first; in the background (no database access here, so no slot waits for its pods).
  EXPECT_THAT(removed(p), ElementsAre("Deployment/myapp-shard-9@uid-d9", "Secret/myapp-shard-9@uid-sec9",
                                      "Service/myapp-shard-9@uid-svc9"));
  EXPECT_FALSE(p.remove[0].foreground);
  EXPECT_EQ(p.status["retainedVolumes"],
            json::parse(R"([{"shard":"9","persistentVolumeClaim":"myapp-shard-9-data"}])"));
  // Already without an ownerReference: nothing to apply for it.
  EXPECT_EQ(find_applied(p, "PersistentVolumeClaim", "myapp-shard-9-data"), nullptr);
  EXPECT_TRUE(has_event(p, "Normal", "ShardRemoved"));
  EXPECT_EQ(p.status["shardCount"], 3);
}

TEST_F(PlanReconcileTest, RetainedVolumeStillOwnedIsAppliedWithoutItsOwnerReference) {
  add_child("PersistentVolumeClaim", "myapp-shard-9-data", "9", "uid-p9", /*owned=*/true);
  observed_.pvcs["myapp-shard-9-data"] = pvc_facts(live_pvc("30Gi"));
  Plan p = plan();
  EXPECT_THAT(p.remove, IsEmpty());
  const json* pvc = find_applied(p, "PersistentVolumeClaim", "myapp-shard-9-data");
  ASSERT_NE(pvc, nullptr);
  EXPECT_FALSE((*pvc)["metadata"].contains("ownerReferences"));
  // The live spec is kept: an apply must not touch the bound volume's fields.
  EXPECT_EQ((*pvc)["spec"]["resources"]["requests"]["storage"], "30Gi");
  EXPECT_EQ((*pvc)["spec"]["storageClassName"], "fast");
  EXPECT_EQ((*pvc)["metadata"]["labels"]["electric-operator.dev/shard"], "9");
  // After the in-spec PVCs, before the Services.
  const std::vector<std::string> order = applied(p);
  auto at = [&](const std::string& s) { return std::find(order.begin(), order.end(), s) - order.begin(); };
  EXPECT_GT(at("PersistentVolumeClaim/myapp-shard-9-data"), at("PersistentVolumeClaim/myapp-shard-2-data"));
  EXPECT_LT(at("PersistentVolumeClaim/myapp-shard-9-data"), at("Service/myapp-shard-0"));
  EXPECT_EQ(p.status["retainedVolumes"].size(), 1u);
  EXPECT_TRUE(has_event(p, "Normal", "VolumeRetained"));
}

TEST_F(PlanReconcileTest, RemovedShardVolumeIsDeletedUnderWhenShardRemovedDelete) {
  object_["spec"]["persistentVolumeClaimRetentionPolicy"] = {{"whenShardRemoved", "Delete"}};
  // Created under whenDeleted: Retain, so it has no ownerReference: still ours.
  add_child("PersistentVolumeClaim", "myapp-shard-9-data", "9", "uid-p9", /*owned=*/false);
  add_child("Deployment", "myapp-shard-9", "9", "uid-d9");
  Plan p = plan();
  EXPECT_THAT(removed(p), ElementsAre("Deployment/myapp-shard-9@uid-d9",
                                      "PersistentVolumeClaim/myapp-shard-9-data@uid-p9"));
  EXPECT_EQ(p.status["retainedVolumes"], json::array());
}

std::string event_message(const Plan& plan, const std::string& reason) {
  for (const auto& e : plan.events)
    if (e.reason == reason) return e.message;
  ADD_FAILURE() << "no event " << reason;
  return "";
}

json deployment_with_stream_id(const std::string& id) {
  return {{"spec", {{"template", {{"spec", {{"containers", json::array({{{"name", "electric"},
      {"env", json::array({{{"name", "ELECTRIC_INSTANCE_ID"}, {"value", "prod/myapp-shard-9"}},
                           {{"name", "ELECTRIC_REPLICATION_STREAM_ID"}, {"value", id}}})}}})}}}}}}}};
}

TEST_F(PlanReconcileTest, ShardRemovedNamesTheKeptVolumeAndTheSlotToDrop) {
  add_child("PersistentVolumeClaim", "myapp-shard-9-data", "9", "uid-p9", /*owned=*/false);
  add_child("Deployment", "myapp-shard-9", "9", "uid-d9");
  observed_.deployments["myapp-shard-9"] = deployment_facts(deployment_with_stream_id("from_the_deployment"));
  // The last status knew shard 9: its stream ID wins over the live env.
  json previous = {{"shards", json::array({{{"name", "9"}, {"replicationStreamID", "prod_myapp_9"}}})}};
  Plan p = plan(previous);
  EXPECT_EQ(event_message(p, "ShardRemoved"),
            "shard \"9\" is no longer in spec; its Deployment, Service and Secret are deleted; "
            "PersistentVolumeClaim \"myapp-shard-9-data\" is kept (whenShardRemoved: Retain); "
            "its replication slot \"electric_slot_prod_myapp_9\" and publication "
            "\"electric_publication_prod_myapp_9\" stay in its database (status.retainedReplicationSlots)");
  EXPECT_EQ(p.status["retainedReplicationSlots"], json::parse(R"([{"shard":"9",
      "slot":"electric_slot_prod_myapp_9","publication":"electric_publication_prod_myapp_9","server":"",
      "message":"not dropped: the operator runs without database access (--database-check-interval 0); an inactive slot holds WAL until the database's disk fills, so drop the slot and publication by hand"}])"));
  EXPECT_THAT(event_message(p, "ReplicationSlotRetained"), HasSubstr("without database access"));
}

TEST_F(PlanReconcileTest, ShardRemovedReadsTheStreamIDFromTheDeploymentWhenStatusHasNone) {
  object_["spec"]["persistentVolumeClaimRetentionPolicy"] = {{"whenShardRemoved", "Delete"}};
  add_child("PersistentVolumeClaim", "myapp-shard-9-data", "9", "uid-p9");
  add_child("Deployment", "myapp-shard-9", "9", "uid-d9");
  observed_.deployments["myapp-shard-9"] = deployment_facts(deployment_with_stream_id("custom_nine"));
  Plan p = plan();
  const std::string message = event_message(p, "ShardRemoved");
  EXPECT_THAT(message, Not(HasSubstr("PersistentVolumeClaim")));  // deleted, not kept
  EXPECT_THAT(message, HasSubstr("\"electric_slot_custom_nine\" and publication \"electric_publication_custom_nine\""));
  EXPECT_EQ(p.status["retainedReplicationSlots"][0]["slot"], "electric_slot_custom_nine");
}

TEST_F(PlanReconcileTest, ShardRemovedWithoutAKnownStreamIDSaysSo) {
  add_child("Deployment", "myapp-shard-9", "9", "uid-d9");
  Plan p = plan();
  EXPECT_THAT(event_message(p, "ShardRemoved"), HasSubstr("its replication stream ID is unknown"));
  EXPECT_EQ(p.status["retainedReplicationSlots"], json::array());
}

TEST_F(PlanReconcileTest, RetainedSlotsAreRememberedUntilAShardUsesThemAgain) {
  json previous = {{"retainedReplicationSlots", json::parse(R"([
      {"shard":"9","slot":"electric_slot_prod_myapp_9","publication":"electric_publication_prod_myapp_9"},
      {"shard":"0","slot":"electric_slot_prod_myapp_0","publication":"electric_publication_prod_myapp_0"}])")}};
  Plan p = plan(previous);
  // Shard 0 is in spec again and runs on its old slot; shard 9's is still left over.
  ASSERT_EQ(p.status["retainedReplicationSlots"].size(), 1u);
  EXPECT_EQ(p.status["retainedReplicationSlots"][0]["slot"], "electric_slot_prod_myapp_9");
  object_["spec"]["paused"] = true;
  EXPECT_EQ(plan(previous).status["retainedReplicationSlots"].size(), 1u);
}

// The reconcile after the one that deleted shard 9's Deployment may still see
// the status from before that deletion (its own write not yet in the cache):
// the Deployment is gone, so the slot comes from the old status's shard entry.
TEST_F(PlanReconcileTest, ARemovedShardsSlotSurvivesAStaleStatus) {
  json before_removal = {{"shards", json::array({{{"name", "9"}, {"replicationStreamID", "prod_myapp_9"}}})}};
  Plan p = plan(before_removal);
  EXPECT_FALSE(has_event(p, "Normal", "ShardRemoved")) << "the removal was told once already";
  ASSERT_EQ(p.status["retainedReplicationSlots"].size(), 1u);
  EXPECT_EQ(p.status["retainedReplicationSlots"][0]["slot"], "electric_slot_prod_myapp_9");
}

// --- Replication slot lifecycle (api.md, "Replication slots") ----------------------

const json kStatusWithShard9 = {{"shards", json::array({{{"name", "9"}, {"replicationStreamID", "prod_myapp_9"}}})}};

TEST_F(PlanReconcileTest, RemovedShardUnderSlotDeleteStopsItsPodsFirstAndKeepsItsSecret) {
  observed_.slot_cleanup_on = true;
  add_child("Secret", "myapp-shard-9", "9", "uid-sec9");
  observed_.children.back().database_server = "pg-9:5432";
  add_child("Service", "myapp-shard-9", "9", "uid-svc9");
  add_child("Deployment", "myapp-shard-9", "9", "uid-d9");
  Plan p = plan(kStatusWithShard9);
  // Foreground: the Deployment is gone only once its pods are.
  EXPECT_THAT(removed(p), ElementsAre("Deployment/myapp-shard-9@uid-d9", "Service/myapp-shard-9@uid-svc9"));
  EXPECT_TRUE(p.remove[0].foreground);
  EXPECT_THAT(p.slot_cleanups, IsEmpty()) << "never while an Electric may hold the slot";
  EXPECT_EQ(p.status["retainedReplicationSlots"], json::parse(R"([{"shard":"9","slot":"electric_slot_prod_myapp_9",
      "publication":"electric_publication_prod_myapp_9","server":"pg-9:5432",
      "message":"waiting for the shard's pods to stop before dropping the slot"}])"));
  EXPECT_THAT(event_message(p, "ShardRemoved"),
              HasSubstr("are dropped once its pods are gone, then its Secret is deleted"));
  EXPECT_FALSE(has_event(p, "Warning", "ReplicationSlotRetained"));
  // The next reconcile sees the Deployment terminating: it is not deleted again.
  observed_.children.back().being_deleted = true;
  EXPECT_THAT(removed(plan(p.status)), ElementsAre("Service/myapp-shard-9@uid-svc9"));
}

TEST_F(PlanReconcileTest, RemovedShardsSlotIsDroppedOnceItsPodsAreGone) {
  observed_.slot_cleanup_on = true;
  add_child("Secret", "myapp-shard-9", "9", "uid-sec9");
  observed_.children.back().database_server = "pg-9:5432";
  json previous = {{"retainedReplicationSlots", json::parse(R"([{"shard":"9","slot":"electric_slot_prod_myapp_9",
      "publication":"electric_publication_prod_myapp_9","server":"","message":""}])")}};
  Plan p = plan(previous);
  ASSERT_EQ(p.slot_cleanups.size(), 1u);
  EXPECT_EQ(p.slot_cleanups[0].shard, "9");
  EXPECT_EQ(p.slot_cleanups[0].slot, "electric_slot_prod_myapp_9");
  EXPECT_EQ(p.slot_cleanups[0].publication, "electric_publication_prod_myapp_9");
  EXPECT_EQ(p.slot_cleanups[0].database_url, (SecretKeyRef{"myapp-shard-9", "DATABASE_URL"}));
  EXPECT_THAT(p.remove, IsEmpty()) << "the Secret holds the URL the cleanup connects with";
  EXPECT_EQ(p.status["retainedReplicationSlots"][0]["message"], "dropping the slot and publication");
  EXPECT_EQ(p.status["retainedReplicationSlots"][0]["server"], "pg-9:5432");

  // Still active (a WAL sender streams from it): status says so, and it is asked for again.
  observed_.slot_cleanups["9"] = {SlotCleanupState::Active, "electric_slot_prod_myapp_9", "the slot is active; retrying"};
  p = plan(previous);
  EXPECT_EQ(p.slot_cleanups.size(), 1u);
  EXPECT_EQ(p.status["retainedReplicationSlots"][0]["message"], "the slot is active; retrying");

  // Its Secret holds no usable URL: said, and asked for again (the Secret is read each time).
  observed_.slot_cleanups["9"] = {SlotCleanupState::Unresolvable, "electric_slot_prod_myapp_9", "no URL; drop by hand"};
  p = plan(previous);
  EXPECT_EQ(p.slot_cleanups.size(), 1u);
  EXPECT_EQ(p.status["retainedReplicationSlots"][0]["message"], "no URL; drop by hand");

  // An outcome for another slot of that shard name says nothing about this one.
  observed_.slot_cleanups["9"] = {SlotCleanupState::Dropped, "electric_slot_other", "dropped"};
  EXPECT_EQ(plan(previous).status["retainedReplicationSlots"].size(), 1u);

  observed_.slot_cleanups["9"] = {SlotCleanupState::Dropped, "electric_slot_prod_myapp_9", "dropped"};
  p = plan(previous);
  EXPECT_EQ(p.status["retainedReplicationSlots"], json::array());
  EXPECT_THAT(removed(p), ElementsAre("Secret/myapp-shard-9@uid-sec9"));
  EXPECT_TRUE(has_event(p, "Normal", "ReplicationSlotDropped"));
  // Still listed as due, so the checker keeps "dropped" while a stale status lists the entry.
  EXPECT_EQ(p.slot_cleanups.size(), 1u);
  // That stale status, with the Secret gone already: the entry goes again, not "Secret gone".
  observed_.children.clear();
  p = plan(previous);
  EXPECT_EQ(p.status["retainedReplicationSlots"], json::array());
}

TEST_F(PlanReconcileTest, ARemovedShardsSlotWithoutItsSecretIsLeftToTheUser) {
  observed_.slot_cleanup_on = true;
  json previous = {{"retainedReplicationSlots", json::parse(R"([{"shard":"9","slot":"electric_slot_prod_myapp_9",
      "publication":"electric_publication_prod_myapp_9","server":"pg-9:5432","message":""}])")}};
  Plan p = plan(previous);
  EXPECT_THAT(p.slot_cleanups, IsEmpty());
  EXPECT_THAT(p.status["retainedReplicationSlots"][0]["message"].get<std::string>(), HasSubstr("drop the slot and publication by hand"));
  EXPECT_EQ(p.status["retainedReplicationSlots"][0]["server"], "pg-9:5432") << "kept from the last status";
}

TEST_F(PlanReconcileTest, SlotRetainListsTheSlotWithAWarningAndDeletesTheSecret) {
  object_["spec"]["replicationSlotRetentionPolicy"] = {{"whenShardRemoved", "Retain"}};
  observed_.slot_cleanup_on = true;
  add_child("Secret", "myapp-shard-9", "9", "uid-sec9");
  observed_.children.back().database_server = "pg-9:5432";
  add_child("Deployment", "myapp-shard-9", "9", "uid-d9");
  Plan p = plan(kStatusWithShard9);
  EXPECT_THAT(removed(p), ElementsAre("Deployment/myapp-shard-9@uid-d9", "Secret/myapp-shard-9@uid-sec9"));
  EXPECT_FALSE(p.remove[0].foreground);
  EXPECT_THAT(p.slot_cleanups, IsEmpty());
  EXPECT_EQ(event_message(p, "ReplicationSlotRetained"),
            "shard \"9\": replication slot \"electric_slot_prod_myapp_9\" and publication "
            "\"electric_publication_prod_myapp_9\" on pg-9:5432 are kept (replicationSlotRetentionPolicy."
            "whenShardRemoved: Retain): an inactive slot holds WAL until the database's disk fills, so drop the "
            "slot and publication once the shard is gone for good");
  EXPECT_EQ(p.status["retainedReplicationSlots"][0]["server"], "pg-9:5432");
  EXPECT_THAT(p.status["retainedReplicationSlots"][0]["message"].get<std::string>(), HasSubstr("Retain"));
}

TEST_F(PlanReconcileTest, TheSlotFinalizerIsWantedUnderWhenDeletedDeleteWithDatabaseAccess) {
  EXPECT_EQ(plan().slot_finalizer, std::optional<bool>(false)) << "no database access: nothing to wait for";
  observed_.slot_cleanup_on = true;
  EXPECT_EQ(plan().slot_finalizer, std::optional<bool>(true));
  object_["spec"]["replicationSlotRetentionPolicy"] = {{"whenDeleted", "Retain"}};
  EXPECT_EQ(plan().slot_finalizer, std::optional<bool>(false));
  object_["spec"]["paused"] = true;
  EXPECT_EQ(plan().slot_finalizer, std::nullopt) << "a paused set's finalizer stays as it is";
}

class SetDeletionTest : public PlanReconcileTest {
 protected:
  void SetUp() override {
    object_["metadata"]["deletionTimestamp"] = "2024-06-01T00:00:00Z";
    object_["metadata"]["finalizers"] = json::array({"electric-operator.dev/replication-slots"});
    observed_.slot_cleanup_on = true;
  }
  DeletionPlan deletion(const json& previous_status = json()) {
    observed_.read_secret = reader();
    return plan_set_deletion(parsed(), observed_, previous_status);
  }
  std::vector<std::string> requested(const DeletionPlan& p) {
    std::vector<std::string> out;
    for (const auto& r : p.slot_cleanups) out.push_back(r.shard + ":" + r.slot + "@" + r.database_url.name);
    return out;
  }
  void dropped(const std::string& shard, const std::string& slot) {
    observed_.slot_cleanups[shard] = {SlotCleanupState::Dropped, slot, "dropped"};
  }
};

TEST_F(SetDeletionTest, ParsesTheFinalizer) { EXPECT_TRUE(parsed().set.has_slot_finalizer); }

TEST_F(SetDeletionTest, StopsEveryElectricBeforeDroppingAnySlot) {
  add_child("Deployment", "myapp-shard-0", "0", "uid-d0");
  add_child("Deployment", "myapp-shard-1", "1", "uid-d1");
  observed_.children.back().being_deleted = true;  // already going: not deleted again
  DeletionPlan p = deletion();
  ASSERT_EQ(p.remove.size(), 1u);
  EXPECT_EQ(p.remove[0].name, "myapp-shard-0");
  EXPECT_TRUE(p.remove[0].foreground);
  // Shard 2 has no Deployment: its slot can go at once; 0 and 1 wait.
  EXPECT_THAT(requested(p), ElementsAre("2:electric_slot_custom_two@pg-shard-2"));
  ASSERT_EQ(p.waiting.size(), 3u);
  EXPECT_EQ(p.waiting[0].message, "waiting for the shard's pods to stop before dropping the slot");
  EXPECT_FALSE(p.release_finalizer);
}

TEST_F(SetDeletionTest, ReleasesTheFinalizerOnceEverySlotIsDropped) {
  // The status's stream ID wins (a refused change leaves the old one running);
  // a removed shard's pending slot is dropped through its kept Secret.
  json previous = {{"shards", json::array({{{"name", "0"}, {"replicationStreamID", "running_zero"}}})},
                   {"retainedReplicationSlots", json::parse(R"([{"shard":"9","slot":"electric_slot_prod_myapp_9",
                       "publication":"electric_publication_prod_myapp_9","server":"","message":""}])")}};
  DeletionPlan p = deletion(previous);
  EXPECT_THAT(requested(p), ElementsAre("0:electric_slot_running_zero@pg-shard-0", "1:electric_slot_prod_myapp_1@pg-shard-1",
                                        "2:electric_slot_custom_two@pg-shard-2", "9:electric_slot_prod_myapp_9@myapp-shard-9"));
  EXPECT_FALSE(p.release_finalizer);
  dropped("0", "electric_slot_running_zero");
  dropped("1", "electric_slot_prod_myapp_1");
  dropped("2", "electric_slot_custom_two");
  EXPECT_FALSE(deletion(previous).release_finalizer);
  dropped("9", "electric_slot_prod_myapp_9");
  p = deletion(previous);
  EXPECT_TRUE(p.release_finalizer);
  EXPECT_THAT(p.waiting, IsEmpty());
}

TEST_F(SetDeletionTest, AnUnreachableDatabaseIsWaitedForAndShown) {
  observed_.slot_cleanups["1"] = {SlotCleanupState::Failed, "electric_slot_prod_myapp_1",
                                  "cannot drop the slot (Unreachable: connection refused); retrying"};
  dropped("0", "electric_slot_prod_myapp_0");
  dropped("2", "electric_slot_custom_two");
  DeletionPlan p = deletion();
  EXPECT_FALSE(p.release_finalizer);
  ASSERT_EQ(p.waiting.size(), 1u);
  EXPECT_EQ(p.waiting[0].message, "cannot drop the slot (Unreachable: connection refused); retrying");
}

TEST_F(SetDeletionTest, ASlotWithoutAURLDoesNotHoldTheSet) {
  // A namespace being deleted takes the Secrets too.
  for (const std::string shard : {"0", "1", "2"})
    observed_.slot_cleanups[shard] = {SlotCleanupState::Unresolvable,
                                      shard == "2" ? "electric_slot_custom_two" : "electric_slot_prod_myapp_" + shard,
                                      "Secret gone"};
  DeletionPlan p = deletion();
  EXPECT_TRUE(p.release_finalizer);
  ASSERT_EQ(p.events.size(), 3u);
  EXPECT_EQ(p.events[0].type, "Warning");
  EXPECT_EQ(p.events[0].reason, "ReplicationSlotNotDropped");
  EXPECT_THAT(p.slot_cleanups, IsEmpty());
}

TEST_F(SetDeletionTest, TheAnnotationOrRetainReleasesAtOnceWithAWarning) {
  object_["metadata"]["annotations"] = {{"electric-operator.dev/skip-replication-slot-cleanup", "true"}};
  add_child("Deployment", "myapp-shard-0", "0", "uid-d0");
  DeletionPlan p = deletion();
  EXPECT_TRUE(p.release_finalizer);
  EXPECT_THAT(p.remove, IsEmpty());
  EXPECT_THAT(p.slot_cleanups, IsEmpty());
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].reason, "ReplicationSlotsRetained");
  EXPECT_THAT(p.events[0].message, HasSubstr("skip-replication-slot-cleanup"));
  EXPECT_THAT(p.events[0].message, HasSubstr("\"electric_slot_prod_myapp_0\""));

  object_["metadata"].erase("annotations");
  object_["spec"]["replicationSlotRetentionPolicy"] = {{"whenDeleted", "Retain"}};
  EXPECT_TRUE(deletion().release_finalizer);
  object_["spec"].erase("replicationSlotRetentionPolicy");
  observed_.slot_cleanup_on = false;
  p = deletion();
  EXPECT_TRUE(p.release_finalizer);
  EXPECT_THAT(p.events[0].message, HasSubstr("without database access"));
}

TEST_F(PlanReconcileTest, RemovedShardChildrenTheSetDoesNotOwnAreLeftAlone) {
  add_child("Deployment", "myapp-shard-9", "9", "uid-d9", /*owned=*/false);
  add_child("Service", "myapp-shard-9", "9", "uid-s9", /*owned=*/false);
  Plan p = plan();
  EXPECT_THAT(p.remove, IsEmpty());
}

TEST_F(PlanReconcileTest, RenamedRoutingConfigMapRemovesTheOldOne) {
  object_["spec"]["routing"] = {{"configMapName", "myapp-routes"}};
  add_child("ConfigMap", "myapp-routing", "", "uid-old");
  add_child("ConfigMap", "myapp-routes", "", "uid-new");
  add_child("ConfigMap", "not-ours", "", "uid-foreign", /*owned=*/false);
  Plan p = plan();
  EXPECT_NE(find_applied(p, "ConfigMap", "myapp-routes"), nullptr);
  EXPECT_EQ(find_applied(p, "ConfigMap", "myapp-routing"), nullptr);
  EXPECT_EQ(applied(p).back(), "ConfigMap/myapp-routes");
  EXPECT_THAT(removed(p), ElementsAre("ConfigMap/myapp-routing@uid-old"));
  EXPECT_EQ(p.status["routingConfigMap"], "myapp-routes");
}

// --- ELECTRIC_SECRET ---------------------------------------------------------------

TEST_F(PlanReconcileTest, ApiSecretRefSuppliesElectricSecret) {
  object_["spec"]["apiSecretRef"] = {{"name", "electric-api"}, {"key", "token"}};
  put("electric-api", {{"token", "users-own-api-secret"}});
  Plan p = plan();
  for (const char* name : {"myapp-shard-0", "myapp-shard-1", "myapp-shard-2"}) {
    const json* secret = find_applied(p, "Secret", name);
    ASSERT_NE(secret, nullptr);
    EXPECT_EQ(decoded_data(*secret)["ELECTRIC_SECRET"], "users-own-api-secret");
  }
  EXPECT_THAT(dump_without_secret_data(p), Not(HasSubstr("users-own-api-secret")));

  secrets_.erase("electric-api");
  Plan missing = plan();
  for (const auto& s : missing.shards) {
    EXPECT_EQ(s.phase, ShardPhase::Pending);
    EXPECT_EQ(s.reason, "SecretNotFound");
    EXPECT_EQ(s.message, "Secret \"electric-api\" not found");
  }
  EXPECT_THAT(applied(missing), ElementsAre("ConfigMap/myapp-routing"));
}

TEST_F(PlanReconcileTest, AnEmptyApiSecretIsRefusedAndRunningShardsKeepWhatTheyHave) {
  object_["spec"]["apiSecretRef"] = {{"name", "electric-api"}, {"key", "token"}};
  put("electric-api", {{"token", ""}});
  add_child("Deployment", "myapp-shard-0", "0", "uid-d0");  // running on its last good Secret
  add_child("Secret", "myapp-shard-0", "0", "uid-s0");
  Plan p = plan();
  for (const auto& s : p.shards) {
    EXPECT_EQ(s.phase, ShardPhase::Failed) << s.name;
    EXPECT_EQ(s.reason, "InvalidAPISecret");
    EXPECT_THAT(s.message, HasSubstr("Secret \"electric-api\" key \"token\""));
    EXPECT_THAT(s.message, HasSubstr("an empty secret from any client"));
  }
  // No child would carry an empty ELECTRIC_SECRET, and nothing is deleted.
  EXPECT_THAT(applied(p), ElementsAre("ConfigMap/myapp-routing"));
  EXPECT_THAT(p.remove, IsEmpty());
  EXPECT_EQ(condition(p.status, "Degraded")["status"], "True");
  EXPECT_TRUE(has_event(p, "Warning", "InvalidAPISecret"));

  put("electric-api", {{"token", "a-real-secret"}});
  Plan fixed = plan();
  EXPECT_NE(find_applied(fixed, "Deployment", "myapp-shard-0"), nullptr);
  EXPECT_EQ(decoded_data(*find_applied(fixed, "Secret", "myapp-shard-0"))["ELECTRIC_SECRET"], "a-real-secret");
}

TEST_F(PlanReconcileTest, AStreamIDThatWouldChangeIsRefusedAndTheShardKeepsItsOwn) {
  roll_out(plan());
  const std::string derived = *observed_.deployments["myapp-shard-0"].replication_stream_id;
  add_child("Deployment", "myapp-shard-0", "0", "uid-d0");
  object_["spec"]["shards"][0]["replicationStreamID"] = "another_id";  // the API server cannot tell
  Plan p = plan();
  EXPECT_EQ(shard_status(p, "0")["phase"], "Failed");
  EXPECT_EQ(shard_status(p, "0")["reason"], "StreamIDChangeNotSupported");
  EXPECT_EQ(shard_status(p, "0")["replicationStreamID"], derived);  // what its Electric still uses
  EXPECT_THAT(shard_status(p, "0")["message"].get<std::string>(), HasSubstr("from \"" + derived + "\" to \"another_id\""));
  EXPECT_THAT(applied_for_shard(p, "0"), IsEmpty());
  EXPECT_THAT(p.remove, IsEmpty());
  EXPECT_EQ(condition(p.status, "Degraded")["status"], "True");
  EXPECT_TRUE(has_event(p, "Warning", "StreamIDChangeNotSupported"));
  EXPECT_NE(find_applied(p, "Deployment", "myapp-shard-1"), nullptr) << "the other shards go on";

  object_["spec"]["shards"][0]["replicationStreamID"] = derived;  // explicit, equal to the derived one: fine
  EXPECT_NE(shard_status(plan(), "0")["reason"], "StreamIDChangeNotSupported");
}

// --- Database checks (api.md, "Database checks") -------------------------------

DatabaseCheck failed_check(std::string_view reason, const std::string& message) {
  return DatabaseCheck{std::string(reason), message, std::nullopt};
}

TEST_F(PlanReconcileTest, ANewShardWaitsForItsFirstDatabaseCheck) {
  observed_.database_checks_on = true;
  observed_.database_checks[{"prod", "myapp", "0"}] = DatabaseCheck{};
  observed_.database_checks[{"prod", "myapp", "1"}] = DatabaseCheck{};
  Plan p = plan();
  const json& s2 = shard_status(p, "2");
  EXPECT_EQ(s2["phase"], "Pending");
  EXPECT_EQ(s2["reason"], "CheckingDatabase");
  EXPECT_EQ(find_applied(p, "Deployment", "myapp-shard-2"), nullptr);
  EXPECT_NE(find_applied(p, "Deployment", "myapp-shard-0"), nullptr);
  EXPECT_EQ(condition(p.status, "Degraded")["status"], "False");  // waiting is not failing
}

TEST_F(PlanReconcileTest, ADefinitiveDatabaseCheckFailureKeepsANewShardFromStarting) {
  observed_.database_checks_on = true;
  for (auto reason : {kReasonAuthenticationFailed, kReasonWalLevelNotLogical, kReasonMissingReplicationPrivilege,
                      kReasonNoFreeReplicationSlots, kReasonReplicationStreamConflict}) {
    SCOPED_TRACE(std::string(reason));
    observed_.database_checks[{"prod", "myapp", "0"}] = DatabaseCheck{};
    observed_.database_checks[{"prod", "myapp", "1"}] = failed_check(reason, "what to change");
    observed_.database_checks[{"prod", "myapp", "2"}] = DatabaseCheck{};
    Plan p = plan();
    const json& s1 = shard_status(p, "1");
    EXPECT_EQ(s1["phase"], "Failed");
    EXPECT_EQ(s1["reason"], std::string(reason));
    EXPECT_EQ(s1["message"], "what to change");
    EXPECT_EQ(find_applied(p, "Deployment", "myapp-shard-1"), nullptr);
    EXPECT_NE(find_applied(p, "Deployment", "myapp-shard-2"), nullptr);
    EXPECT_EQ(condition(p.status, "Degraded")["status"], "True");
    EXPECT_TRUE(has_event(p, "Warning", std::string(reason)));
  }
}

TEST_F(PlanReconcileTest, ARunningShardIsNeverStoppedByADatabaseCheck) {
  roll_out(plan());
  observed_.database_checks_on = true;
  observed_.database_checks[{"prod", "myapp", "0"}] = DatabaseCheck{};
  observed_.database_checks[{"prod", "myapp", "1"}] = failed_check(kReasonWalLevelNotLogical, "wal_level is replica");
  observed_.database_checks[{"prod", "myapp", "2"}] = DatabaseCheck{};
  Plan p = plan();
  const json& s1 = shard_status(p, "1");
  EXPECT_EQ(s1["phase"], "Ready");  // still follows its Deployment
  EXPECT_EQ(s1["reason"], "WalLevelNotLogical");
  EXPECT_NE(find_applied(p, "Deployment", "myapp-shard-1"), nullptr);
  EXPECT_THAT(p.remove, IsEmpty());
  EXPECT_EQ(condition(p.status, "Degraded")["status"], "True");
}

TEST_F(PlanReconcileTest, AnUnreachableDatabaseIsReportedButTheShardStarts) {
  observed_.database_checks_on = true;
  for (const char* shard : {"0", "1", "2"})
    observed_.database_checks[{"prod", "myapp", shard}] = failed_check(kReasonDatabaseUnreachable, "cannot reach");
  Plan p = plan();
  EXPECT_NE(find_applied(p, "Deployment", "myapp-shard-0"), nullptr);
  const json& s0 = shard_status(p, "0");
  EXPECT_EQ(s0["phase"], "Progressing");
  EXPECT_EQ(s0["reason"], "DatabaseUnreachable");
  EXPECT_EQ(condition(p.status, "Degraded")["status"], "True");
}

TEST_F(PlanReconcileTest, DatabaseChecksDisabledInSpecNeitherWaitNorReport) {
  object_["spec"]["databaseChecks"] = "Disabled";
  observed_.database_checks_on = true;
  observed_.database_checks[{"prod", "myapp", "1"}] = failed_check(kReasonWalLevelNotLogical, "stale");
  Plan p = plan();
  EXPECT_NE(find_applied(p, "Deployment", "myapp-shard-1"), nullptr);
  EXPECT_NE(find_applied(p, "Deployment", "myapp-shard-2"), nullptr);
  EXPECT_EQ(shard_status(p, "1")["reason"], "Creating");
  EXPECT_THAT(database_targets(parsed(), reader()), IsEmpty());
}

TEST_F(PlanReconcileTest, DatabaseTargetsCarryWhatTheCheckConnectsWith) {
  auto targets = database_targets(parsed(), reader());
  ASSERT_EQ(targets.size(), 3u);
  EXPECT_EQ(targets[0].shard.key, (ShardKey{"prod", "myapp", "0"}));
  EXPECT_EQ(targets[0].connection.host, "db0.prod");
  EXPECT_EQ(targets[0].connection.password, "pw0-s3cret");
  EXPECT_EQ(targets[0].connection.dbname, "app");
  EXPECT_EQ(targets[0].shard.stream_id, "prod_myapp_0");
  EXPECT_NE(targets[0].connection_key, targets[1].connection_key);  // other servers
  // A new password is a new fingerprint: the outcome for the old one does not count.
  put("pg-shard-0", {{"url", "postgresql://app:rotated@db0.prod:5432/app"}});
  auto rotated = database_targets(parsed(), reader());
  EXPECT_NE(rotated[0].fingerprint, targets[0].fingerprint);
  EXPECT_EQ(rotated[1].fingerprint, targets[1].fingerprint);
}

TEST_F(PlanReconcileTest, NoGeneratedApiSecretYetLeavesShardsPending) {
  observed_.generated_api_secret.reset();
  Plan p = plan();
  for (const auto& s : p.shards) {
    EXPECT_EQ(s.phase, ShardPhase::Pending) << s.name;
    EXPECT_EQ(s.reason, "SecretNotFound");
    EXPECT_THAT(s.message, HasSubstr("myapp-api-secret"));
    EXPECT_THAT(s.message, HasSubstr("apiSecretRef"));
  }
  EXPECT_THAT(applied(p), ElementsAre("ConfigMap/myapp-routing"));
  EXPECT_EQ(condition(p.status, "Degraded")["status"], "True");
}

// --- Status bookkeeping --------------------------------------------------------------

TEST_F(PlanReconcileTest, LastTransitionTimeChangesOnlyWithTheConditionStatus) {
  Plan first = plan();
  for (const auto& c : first.status["conditions"]) EXPECT_EQ(c["lastTransitionTime"], kT1);

  observed_.now = kT2;
  Plan same = plan(first.status);
  EXPECT_EQ(same.status, first.status);  // nothing changed: nothing to write

  roll_out(first);
  Plan ready = plan(first.status);
  EXPECT_EQ(condition(ready.status, "Ready")["status"], "True");
  EXPECT_EQ(condition(ready.status, "Ready")["lastTransitionTime"], kT2);
  EXPECT_EQ(condition(ready.status, "Progressing")["lastTransitionTime"], kT2);  // True -> False
  EXPECT_EQ(condition(ready.status, "Degraded")["lastTransitionTime"], kT1);
  EXPECT_EQ(condition(ready.status, "Paused")["lastTransitionTime"], kT1);
}

TEST_F(PlanReconcileTest, SameInputGivesTheSamePlan) {
  add_child("Deployment", "myapp-shard-9", "9", "uid-d9");
  add_child("PersistentVolumeClaim", "myapp-shard-9-data", "9", "uid-p9", true);
  observed_.pvcs["myapp-shard-9-data"] = pvc_facts(live_pvc("10Gi"));
  secrets_.erase("pg-shard-2");
  Plan a = plan();
  Plan b = plan();
  EXPECT_EQ(plan_json(a).dump(), plan_json(b).dump());
  EXPECT_EQ(plan_json(a), plan_json(b));
}

// --- Conflict identities ---------------------------------------------------------------

TEST_F(PlanReconcileTest, ShardIdentitiesOfEveryShardWithAUsableUrl) {
  auto ids = shard_identities(parsed(), reader());
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0].key, (ShardKey{"prod", "myapp", "0"}));
  EXPECT_EQ(ids[0].stream_id, "prod_myapp_0");
  EXPECT_EQ(ids[0].set_creation_timestamp, "2024-05-01T12:00:00Z");
  EXPECT_EQ(ids[0].database, (DatabaseLocation{"db0.prod", 5432, "app"}));
  EXPECT_EQ(ids[2].stream_id, "custom_two");
  EXPECT_EQ(ids[2].database, (DatabaseLocation{"db2.prod", 5432, "app"}));
}

TEST_F(PlanReconcileTest, ShardIdentitiesSkipBadUrlsAndMissingSecrets) {
  put("pg-shard-0", {{"url", "mysql://u:pw@db/app"}});
  secrets_.erase("pg-shard-1");
  auto ids = shard_identities(parsed(), reader());
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].key.shard, "2");

  put("pg-shard-2", {{"other", kUrl2}});
  EXPECT_THAT(shard_identities(parsed(), reader()), IsEmpty());
}

TEST_F(PlanReconcileTest, ShardIdentitiesIncludeSetsThatMayStillRunElectric) {
  // Paused or invalid sets keep their Deployments running: their streams
  // stay claimed, so a newer set cannot start a second Electric on them.
  object_["spec"]["paused"] = true;
  EXPECT_EQ(shard_identities(parsed(), reader()).size(), 3u);
  object_["spec"]["service"] = {{"port", 0}};
  EXPECT_EQ(shard_identities(parsed(), reader()).size(), 3u);
  // A shard whose stream ID is unusable claims nothing.
  object_["spec"]["shards"][2]["replicationStreamID"] = "Bad-ID";
  EXPECT_EQ(shard_identities(parsed(), reader()).size(), 2u);
}

TEST_F(PlanReconcileTest, ClaimSourcesNameTheUrlToReadAndResolveToTheIdentities) {
  object_["spec"]["shards"][2]["replicationStreamID"] = "Bad-ID";
  auto sources = claim_sources(parsed());
  ASSERT_EQ(sources.size(), 2u);  // the unusable stream ID claims nothing
  EXPECT_EQ(sources[1].key, (ShardKey{"prod", "myapp", "1"}));
  EXPECT_EQ(sources[1].stream_id, "prod_myapp_1");
  EXPECT_EQ(sources[1].database_url, (SecretKeyRef{"pg-shard-1", "url"}));
  std::vector<ShardIdentity> resolved;
  for (const auto& source : sources) {
    if (auto id = resolve_claim(source, reader())) resolved.push_back(*id);
  }
  EXPECT_EQ(resolved, shard_identities(parsed(), reader()));
  secrets_.erase("pg-shard-1");
  EXPECT_FALSE(resolve_claim(sources[1], reader()).has_value());
}

TEST_F(PlanReconcileTest, ConflictFoundFromIdentitiesFailsTheNewerSet) {
  // Two sets, same stream ID on the same database: the newer one loses.
  json newer = object_;
  newer["metadata"]["name"] = "other";
  newer["metadata"]["uid"] = "3333";
  newer["metadata"]["creationTimestamp"] = "2024-06-01T00:00:00Z";
  newer["spec"]["shards"] = json::parse(
      R"([{"name":"a","databaseURLSecretRef":{"name":"pg-shard-2","key":"url"},"replicationStreamID":"custom_two"}])");
  auto all = shard_identities(parsed(), reader());
  auto more = shard_identities(parse_shard_set(newer), reader());
  all.insert(all.end(), more.begin(), more.end());
  observed_.stream_conflicts = find_stream_conflicts(all);
  ASSERT_EQ(observed_.stream_conflicts.size(), 1u);
  EXPECT_EQ(observed_.stream_conflicts.begin()->first, (ShardKey{"prod", "other", "a"}));

  Plan older = plan();
  EXPECT_EQ(shard_status(older, "2")["phase"], "Progressing");
  object_ = newer;
  Plan loser = plan();
  EXPECT_EQ(shard_status(loser, "a")["reason"], "ReplicationStreamConflict");
  EXPECT_THAT(applied(loser), ElementsAre("ConfigMap/other-routing"));
}

// --- With a RenderMemo: what changed is rendered, the rest left alone ------------

// A test's view of the live children: the digest each one carries.
class MemoPlanTest : public PlanReconcileTest {
 protected:
  MemoPlanTest() : memo_(digest) {
    observed_.child_current = [this](const std::string& kind, const std::string& name, const std::string& d) {
      auto it = live_.find(kind + "/" + name);
      return it != live_.end() && it->second == d;
    };
  }
  static std::string digest(const json& body) { return sha256_hex(body.dump()); }

  Plan memo_plan(const json& previous_status = json()) {
    observed_.read_secret = reader();
    return plan_reconcile(parsed(), observed_, previous_status, &memo_);
  }
  // The cluster takes every body of `p` as applied.
  void take(const Plan& p) {
    for (const json& body : p.apply) live_[body.value("kind", "") + "/" + body["metadata"].value("name", "")] = digest(body);
  }

  RenderMemo memo_;
  std::map<std::string, std::string> live_;
};

TEST_F(MemoPlanTest, PlansAsWithoutAMemoWhileNothingIsCurrent) {
  observed_.child_current = nullptr;
  const std::string without = plan_json(plan()).dump();
  EXPECT_EQ(plan_json(memo_plan()).dump(), without);
  EXPECT_EQ(plan_json(memo_plan()).dump(), without);  // from the memo
  EXPECT_EQ(memo_.size(), 3u);
}

TEST_F(MemoPlanTest, CurrentChildrenOfUnchangedShardsAreNotRenderedAgain) {
  Plan first = memo_plan();
  take(first);
  Plan second = memo_plan(first.status);
  EXPECT_THAT(applied(second), ElementsAre("ConfigMap/myapp-routing"));  // the set's own: rendered each time
  EXPECT_EQ(second.status, first.status);
  EXPECT_EQ(plan_json(second)["shards"], plan_json(first)["shards"]);
}

TEST_F(MemoPlanTest, AnEditedSecretRendersOnlyItsShardAsWithoutAMemo) {
  take(memo_plan());
  put("pg-shard-1", {{"url", "postgresql://app:rotated@db1.prod/app"}, {"pooled", kPooled1}});
  Plan edited = memo_plan();
  EXPECT_THAT(applied_for_shard(edited, "0"), IsEmpty());
  EXPECT_THAT(applied_for_shard(edited, "2"), IsEmpty());
  Plan full = plan();
  for (const std::string& child : applied_for_shard(full, "1")) {
    const auto slash = child.find('/');
    const json* with = find_applied(edited, child.substr(0, slash), child.substr(slash + 1));
    ASSERT_NE(with, nullptr) << child;
    EXPECT_EQ(*with, *find_applied(full, child.substr(0, slash), child.substr(slash + 1))) << child;
  }
  EXPECT_EQ(plan_json(edited)["shards"], plan_json(full)["shards"]);  // the new config hash counts
}

TEST_F(MemoPlanTest, AnEditedShardEntryRendersOnlyIt) {
  take(memo_plan());
  object_["spec"]["shards"][0]["resources"] = {{"limits", {{"memory", "2Gi"}}}};
  Plan edited = memo_plan();
  EXPECT_THAT(applied(edited), ElementsAre("Secret/myapp-shard-0", "PersistentVolumeClaim/myapp-shard-0-data",
                                           "Service/myapp-shard-0", "Deployment/myapp-shard-0",
                                           "ConfigMap/myapp-routing"));
  EXPECT_EQ(*find_applied(edited, "Deployment", "myapp-shard-0"), *find_applied(plan(), "Deployment", "myapp-shard-0"));
}

TEST_F(MemoPlanTest, ADriftedChildIsRenderedAlone) {
  take(memo_plan());
  live_["Deployment/myapp-shard-2"] = "edited by someone else";
  EXPECT_THAT(applied(memo_plan()), ElementsAre("Deployment/myapp-shard-2", "ConfigMap/myapp-routing"));
  live_.erase("Service/myapp-shard-0");  // deleted
  EXPECT_THAT(applied(memo_plan()),
              ElementsAre("Service/myapp-shard-0", "Deployment/myapp-shard-2", "ConfigMap/myapp-routing"));
}

TEST_F(MemoPlanTest, ASetWideEditRendersEveryShardAsWithoutAMemo) {
  take(memo_plan());
  object_["spec"]["image"] = "electricsql/electric:1.7.12";
  EXPECT_EQ(plan_json(memo_plan()).dump(), plan_json(plan()).dump());
}

TEST_F(MemoPlanTest, APodSecurityLevelChangeIsCheckedAgain) {
  object_["spec"]["template"] = json::parse(R"({"securityContext": {"privileged": true}})");
  Plan refused = memo_plan();
  EXPECT_EQ(shard_status(refused, "0")["reason"], "PodSecurityViolation");
  EXPECT_EQ(find_applied(refused, "Deployment", "myapp-shard-0"), nullptr);
  observed_.max_pod_security_level = PodSecurityLevel::Privileged;
  Plan lifted = memo_plan();
  EXPECT_NE(shard_status(lifted, "0")["reason"], "PodSecurityViolation");
  EXPECT_NE(find_applied(lifted, "Deployment", "myapp-shard-0"), nullptr);
}

TEST_F(MemoPlanTest, ASecretThatAppearsLaterGivesTheShardItsChildren) {
  secrets_.erase("pg-shard-2");
  Plan missing = memo_plan();
  EXPECT_THAT(applied_for_shard(missing, "2"), IsEmpty());
  put("pg-shard-2", {{"url", kUrl2}});
  EXPECT_THAT(applied_for_shard(memo_plan(), "2"), ElementsAre("Secret/myapp-shard-2", "PersistentVolumeClaim/myapp-shard-2-data",
                                                               "Service/myapp-shard-2", "Deployment/myapp-shard-2"));
}

TEST_F(MemoPlanTest, ARemovedShardLeavesTheMemo) {
  take(memo_plan());
  object_["spec"]["shards"].erase(1);
  memo_plan();
  EXPECT_EQ(memo_.size(), 2u);
  EXPECT_EQ(memo_.digest("1", "Deployment"), nullptr);
  EXPECT_NE(memo_.digest("2", "Deployment"), nullptr);
}

}  // namespace
}  // namespace electric
