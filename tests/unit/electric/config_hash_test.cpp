#include "electric/config_hash.h"

#include <functional>

#include <gtest/gtest.h>

#include "fixtures.h"

namespace electric {
namespace {

using nlohmann::json;

const ShardSecretValues kValues{"postgresql://u:pw@db:5432/app", "api-secret", std::nullopt};

std::string hash_of(const ShardSet& set, const ShardSecretValues& values = kValues, std::size_t shard = 0) {
  return compute_config_hash(set, set.spec.shards[shard], values);
}

TEST(ConfigHash, IsSha256HexAndDeterministic) {
  ShardSet set = electric_test::sample_set();
  std::string h = hash_of(set);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(h, hash_of(electric_test::sample_set()));
  EXPECT_EQ(h, compute_config_hash(set, set.spec.shards[0], shard_secret_data(kValues)));
}

TEST(ConfigHash, EverySecretInputChangesIt) {
  ShardSet set = electric_test::sample_set();
  const std::string base = hash_of(set);
  ShardSecretValues v = kValues;
  v.database_url = "postgresql://u:pw@db:5432/other";
  EXPECT_NE(hash_of(set, v), base);
  v = kValues;
  v.electric_secret = "rotated";
  EXPECT_NE(hash_of(set, v), base);
  v = kValues;
  v.pooled_database_url = "postgresql://u:pw@bouncer/app";
  EXPECT_NE(hash_of(set, v), base);
  // Moving bytes between values is a change too (no ambiguous concatenation).
  ShardSecretValues x{"ab", "c", std::nullopt}, y{"a", "bc", std::nullopt};
  EXPECT_NE(hash_of(set, x), hash_of(set, y));
  // Values need not be UTF-8.
  ShardSecretValues binary{std::string("\xff\xfe\x00", 3), "s", std::nullopt};
  EXPECT_EQ(hash_of(set, binary).size(), 64u);
}

TEST(ConfigHash, EverySpecInputOfThePodChangesIt) {
  const ShardSet base_set = electric_test::sample_set();
  const std::string base = hash_of(base_set);
  std::vector<std::pair<const char*, std::function<void(ShardSet&)>>> changes = {
      {"image", [](ShardSet& s) { s.spec.image = "electricsql/electric:1.8.0"; }},
      {"imagePullPolicy", [](ShardSet& s) { s.spec.image_pull_policy = "Always"; }},
      {"imagePullSecrets", [](ShardSet& s) { s.spec.image_pull_secrets = json::parse(R"([{"name":"r"}])"); }},
      {"template.resources", [](ShardSet& s) { s.spec.pod_template.resources = {{"limits", {{"cpu", "1"}}}}; }},
      {"template.env", [](ShardSet& s) { s.spec.pod_template.env = json::parse(R"([{"name":"A","value":"1"}])"); }},
      {"template.env value", [](ShardSet& s) { s.spec.pod_template.env = json::parse(R"([{"name":"A","value":"2"}])"); }},
      {"template.podAnnotations", [](ShardSet& s) { s.spec.pod_template.pod_annotations["a"] = "b"; }},
      {"template.podLabels", [](ShardSet& s) { s.spec.pod_template.pod_labels["a"] = "b"; }},
      {"template.nodeSelector", [](ShardSet& s) { s.spec.pod_template.node_selector["a"] = "b"; }},
      {"template.tolerations", [](ShardSet& s) { s.spec.pod_template.tolerations = json::parse(R"([{"key":"k"}])"); }},
      {"template.affinity", [](ShardSet& s) { s.spec.pod_template.affinity = {{"nodeAffinity", json::object()}}; }},
      {"template.serviceAccountName", [](ShardSet& s) { s.spec.pod_template.service_account_name = "sa"; }},
      {"template.priorityClassName", [](ShardSet& s) { s.spec.pod_template.priority_class_name = "p"; }},
      {"template.podSecurityContext", [](ShardSet& s) { s.spec.pod_template.pod_security_context = {{"fsGroup", 1}}; }},
      {"template.securityContext", [](ShardSet& s) { s.spec.pod_template.security_context = {{"runAsUser", 1}}; }},
      {"template.automountServiceAccountToken", [](ShardSet& s) { s.spec.pod_template.automount_service_account_token = true; }},
      {"shard.resources", [](ShardSet& s) { s.spec.shards[0].resources = {{"requests", {{"cpu", "2"}}}}; }},
      {"shard.env", [](ShardSet& s) { s.spec.shards[0].env = json::parse(R"([{"name":"B","value":"1"}])"); }},
      {"shard.replicationStreamID", [](ShardSet& s) { s.spec.shards[0].replication_stream_id = "explicit"; }},
      {"shard.pooledDatabaseURLSecretRef", [](ShardSet& s) { s.spec.shards[0].pooled_database_url_secret_ref = SecretKeyRef{"p", "k"}; }},
      {"namespace", [](ShardSet& s) { s.namespace_name = "staging"; }},
      {"set name", [](ShardSet& s) { s.name = "other"; }},
  };
  for (auto& [what, change] : changes) {
    ShardSet set = base_set;
    change(set);
    EXPECT_NE(hash_of(set), base) << what;
  }
}

TEST(ConfigHash, UnrelatedThingsDoNotChangeIt) {
  const ShardSet base_set = electric_test::sample_set();
  const std::string base = hash_of(base_set);
  json obj = electric_test::sample_object();
  obj["metadata"]["labels"]["new"] = "label";
  obj["metadata"]["annotations"]["new"] = "annotation";
  obj["metadata"]["generation"] = 99;
  obj["metadata"]["resourceVersion"] = "12345";
  obj["status"] = {{"readyShards", 3}};
  EXPECT_EQ(hash_of(electric_test::parse_ok(obj)), base) << "set metadata and status";

  ShardSet set = base_set;
  std::swap(set.spec.shards[0], set.spec.shards[2]);  // shard order
  EXPECT_EQ(hash_of(set, kValues, 2), base) << "shard order";

  set = base_set;
  set.spec.shards[1].env = json::parse(R"([{"name":"OTHER","value":"1"}])");  // another shard's input
  set.spec.shards[1].replication_stream_id = "other_shard";
  EXPECT_EQ(hash_of(set), base) << "another shard's spec";

  set = base_set;
  set.spec.paused = true;
  set.spec.service = {"NodePort", 80};  // the Service, not the pod
  set.spec.storage.size = "100Gi";      // the PVC, not the pod
  set.spec.pvc_retention = {RetentionPolicy::Delete, RetentionPolicy::Delete};
  set.spec.routing_config_map_name = "elsewhere";
  set.spec.shards[0].database_url_secret_ref = {"moved-secret", "url"};  // same value, other source
  EXPECT_EQ(hash_of(set), base) << "non-pod inputs";
  // Another shard's Secret values: each shard hashes its own data only.
  EXPECT_EQ(hash_of(base_set, kValues, 0), base);
}

TEST(ConfigHash, UserCannotPinItThroughPodAnnotations) {
  ShardSet set = electric_test::sample_set();
  set.spec.pod_template.pod_annotations["electric-operator.dev/config-hash"] = "fixed";
  ShardSecretValues v = kValues;
  v.database_url = "postgresql://u:pw@db:5432/changed";
  EXPECT_NE(hash_of(set), hash_of(set, v));
  EXPECT_EQ(render_deployment(set, set.spec.shards[0], hash_of(set))["spec"]["template"]["metadata"]["annotations"]
                ["electric-operator.dev/config-hash"],
            hash_of(set));
}

}  // namespace
}  // namespace electric
