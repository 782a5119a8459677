#include "electric/shard_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixtures.h"

namespace electric {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The errors' paths, for compact assertions.
std::vector<std::string> paths(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.path);
  return out;
}

const FieldError* find(const std::vector<FieldError>& errors, const std::string& path) {
  for (const auto& e : errors)
    if (e.path == path) return &e;
  return nullptr;
}

TEST(ParseShardSet, ReadsMetadataAndAppliesDefaults) {
  ParsedShardSet parsed = parse_shard_set(electric_test::sample_object());
  ASSERT_TRUE(parsed.ok()) << describe_errors(parsed.errors);
  const ShardSet& set = parsed.set;
  EXPECT_EQ(set.name, "myapp");
  EXPECT_EQ(set.namespace_name, "prod");
  EXPECT_EQ(set.uid, "1111-2222");
  EXPECT_EQ(set.generation, 7);
  EXPECT_EQ(set.creation_timestamp, "2024-05-01T12:00:00Z");
  EXPECT_FALSE(set.being_deleted);
  EXPECT_EQ(set.spec.image, "electricsql/electric:1.7.12");
  EXPECT_EQ(set.spec.image_pull_policy, "IfNotPresent");
  EXPECT_EQ(set.spec.storage.size, "10Gi");
  EXPECT_THAT(set.spec.storage.access_modes, ElementsAre("ReadWriteOnce"));
  EXPECT_EQ(set.spec.storage.storage_class_name, "");
  EXPECT_EQ(set.spec.service.type, "ClusterIP");
  EXPECT_EQ(set.spec.service.port, 3000);
  EXPECT_EQ(set.spec.pvc_retention.when_deleted, RetentionPolicy::Retain);
  EXPECT_EQ(set.spec.pvc_retention.when_shard_removed, RetentionPolicy::Retain);
  // Unlike volumes: a forgotten slot fills the database's disk.
  EXPECT_EQ(set.spec.slot_retention.when_deleted, RetentionPolicy::Delete);
  EXPECT_EQ(set.spec.slot_retention.when_shard_removed, RetentionPolicy::Delete);
  EXPECT_FALSE(set.has_slot_finalizer);
  EXPECT_FALSE(set.skip_slot_cleanup);
  EXPECT_EQ(set.spec.routing_config_map_name, "myapp-routing");
  EXPECT_FALSE(set.spec.paused);
  EXPECT_FALSE(set.spec.api_secret_ref.has_value());
  ASSERT_EQ(set.spec.shards.size(), 3u);
  EXPECT_EQ(set.spec.shards[0].name, "0");
  EXPECT_EQ(set.spec.shards[0].database_url_secret_ref, (SecretKeyRef{"pg-shard-0", "url"}));
  EXPECT_FALSE(set.spec.shards[0].pooled_database_url_secret_ref.has_value());
  EXPECT_EQ(set.spec.shards[1].pooled_database_url_secret_ref, (SecretKeyRef{"pg-shard-1", "pooled"}));
  EXPECT_EQ(set.spec.shards[2].replication_stream_id, std::optional<std::string>("custom_two"));
}

TEST(ParseShardSet, ReadsEveryField) {
  json obj = electric_test::sample_object();
  obj["metadata"]["deletionTimestamp"] = "2024-06-01T00:00:00Z";
  obj["spec"].update(json::parse(R"({
    "image": "electricsql/electric:1.8.0", "imagePullPolicy": "Always",
    "imagePullSecrets": [{"name": "regcred"}],
    "apiSecretRef": {"name": "electric-api", "key": "secret"},
    "template": {"resources": {"limits": {"memory": "1Gi"}}, "env": [{"name": "ELECTRIC_LOG_LEVEL", "value": "debug"}],
                 "podAnnotations": {"a": "1"}, "podLabels": {"l": "2"}, "nodeSelector": {"disk": "ssd"},
                 "tolerations": [{"key": "k", "operator": "Exists"}], "affinity": {"nodeAffinity": {}},
                 "serviceAccountName": "electric", "priorityClassName": "high",
                 "podSecurityContext": {"fsGroup": 1000}, "securityContext": {"runAsNonRoot": true},
                 "automountServiceAccountToken": true},
    "storage": {"size": "20Gi", "storageClassName": "fast", "accessModes": ["ReadWriteOncePod"]},
    "service": {"type": "LoadBalancer", "port": 8080},
    "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenShardRemoved": "Delete"},
    "replicationSlotRetentionPolicy": {"whenDeleted": "Retain", "whenShardRemoved": "Retain"},
    "routing": {"configMapName": "routes"},
    "networkPolicy": {"enabled": true, "from": [{"podSelector": {}}]},
    "paused": true
  })"));
  obj["spec"]["shards"][0]["resources"] = {{"requests", {{"cpu", "1"}}}};
  obj["spec"]["shards"][0]["storage"] = {{"size", "50Gi"}};
  obj["spec"]["shards"][0]["env"] = json::array({{{"name", "X"}, {"value", "y"}}});
  ParsedShardSet parsed = parse_shard_set(obj);
  ASSERT_TRUE(parsed.ok()) << describe_errors(parsed.errors);
  const ShardSetSpec& s = parsed.set.spec;
  EXPECT_TRUE(parsed.set.being_deleted);
  EXPECT_EQ(s.image, "electricsql/electric:1.8.0");
  EXPECT_EQ(s.image_pull_policy, "Always");
  EXPECT_EQ(s.image_pull_secrets, json::parse(R"([{"name":"regcred"}])"));
  EXPECT_EQ(s.api_secret_ref, (SecretKeyRef{"electric-api", "secret"}));
  EXPECT_EQ(s.pod_template.resources["limits"]["memory"], "1Gi");
  EXPECT_EQ(s.pod_template.env.size(), 1u);
  EXPECT_EQ(s.pod_template.pod_annotations.at("a"), "1");
  EXPECT_EQ(s.pod_template.pod_labels.at("l"), "2");
  EXPECT_EQ(s.pod_template.node_selector.at("disk"), "ssd");
  EXPECT_EQ(s.pod_template.tolerations.size(), 1u);
  EXPECT_TRUE(s.pod_template.affinity.contains("nodeAffinity"));
  EXPECT_EQ(s.pod_template.service_account_name, "electric");
  EXPECT_EQ(s.pod_template.priority_class_name, "high");
  EXPECT_EQ(s.pod_template.pod_security_context["fsGroup"], 1000);
  EXPECT_EQ(s.pod_template.security_context["runAsNonRoot"], true);
  EXPECT_EQ(s.pod_template.automount_service_account_token, std::optional<bool>(true));
  EXPECT_TRUE(s.network_policy.enabled);
  EXPECT_EQ(s.network_policy.from, json::parse(R"([{"podSelector": {}}])"));
  EXPECT_EQ(s.storage.size, "20Gi");
  EXPECT_EQ(s.storage.storage_class_name, "fast");
  EXPECT_THAT(s.storage.access_modes, ElementsAre("ReadWriteOncePod"));
  EXPECT_EQ(s.service.type, "LoadBalancer");
  EXPECT_EQ(s.service.port, 8080);
  EXPECT_EQ(s.pvc_retention.when_deleted, RetentionPolicy::Delete);
  EXPECT_EQ(s.pvc_retention.when_shard_removed, RetentionPolicy::Delete);
  EXPECT_EQ(s.slot_retention.when_deleted, RetentionPolicy::Retain);
  EXPECT_EQ(s.slot_retention.when_shard_removed, RetentionPolicy::Retain);
  EXPECT_EQ(s.routing_config_map_name, "routes");
  EXPECT_TRUE(s.paused);
  EXPECT_EQ(s.shards[0].storage_size, std::optional<std::string>("50Gi"));
  EXPECT_EQ(effective_storage_size(parsed.set, s.shards[0]), "50Gi");
  EXPECT_EQ(effective_storage_size(parsed.set, s.shards[1]), "20Gi");
  EXPECT_EQ(effective_resources(parsed.set, s.shards[0])["requests"]["cpu"], "1");
  EXPECT_EQ(effective_resources(parsed.set, s.shards[1])["limits"]["memory"], "1Gi");
}

// Render keys: what a shard's children are rendered from, so the memo knows
// which shards an edit touched.
TEST(ParseShardSet, RenderKeysChangeWithTheShardsEntryOrTheSetWideSpecOnly) {
  const json object = electric_test::sample_object();
  const auto keys = parse_shard_set(object).render_keys;
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_NE(keys.at("0"), keys.at("1"));

  json bookkeeping = object;  // what the API server changes on every write
  bookkeeping["metadata"]["generation"] = 8;
  bookkeeping["metadata"]["resourceVersion"] = "999";
  bookkeeping["metadata"]["labels"]["team"] = "other";
  bookkeeping["status"] = {{"readyShards", 3}};
  EXPECT_EQ(parse_shard_set(bookkeeping).render_keys, keys);

  json one_shard = object;
  one_shard["spec"]["shards"][1]["resources"] = {{"limits", {{"memory", "1Gi"}}}};
  const auto edited = parse_shard_set(one_shard).render_keys;
  EXPECT_EQ(edited.at("0"), keys.at("0"));
  EXPECT_NE(edited.at("1"), keys.at("1"));
  EXPECT_EQ(edited.at("2"), keys.at("2"));

  for (const auto& [pointer, value] : std::vector<std::pair<std::string, json>>{
           {"/spec/image", "electricsql/electric:1.7.12"}, {"/metadata/uid", "3333"}, {"/metadata/name", "other"}}) {
    json set_wide = object;
    set_wide[json::json_pointer(pointer)] = value;
    const auto changed = parse_shard_set(set_wide).render_keys;
    for (const auto& [shard, key] : keys) EXPECT_NE(changed.at(shard), key) << pointer << " shard " << shard;
  }
}

TEST(ParseShardSet, NullFieldsTakeDefaults) {
  json obj = electric_test::sample_object();
  obj["spec"]["image"] = nullptr;
  obj["spec"]["storage"] = nullptr;
  obj["spec"]["routing"] = {{"configMapName", ""}};
  ParsedShardSet parsed = parse_shard_set(obj);
  ASSERT_TRUE(parsed.ok()) << describe_errors(parsed.errors);
  EXPECT_EQ(parsed.set.spec.image, "electricsql/electric:1.7.12");
  EXPECT_EQ(parsed.set.spec.routing_config_map_name, "myapp-routing");
}

TEST(ParseShardSet, WrongTypesAreErrorsWithPaths) {
  json obj = electric_test::sample_object();
  obj["spec"]["image"] = 5;
  obj["spec"]["paused"] = "yes";
  obj["spec"]["service"] = {{"port", "3000"}};
  obj["spec"]["template"] = {{"podLabels", {{"a", 1}}}, {"env", "X=1"}, {"automountServiceAccountToken", "no"}};
  obj["spec"]["shards"][1]["databaseURLSecretRef"] = "pg";
  obj["spec"]["networkPolicy"] = {{"enabled", "yes"}, {"from", {{"podSelector", {}}}}};
  ParsedShardSet parsed = parse_shard_set(obj);
  EXPECT_THAT(paths(parsed.errors),
              ElementsAre("spec.image", "spec.paused", "spec.template.env", "spec.template.podLabels.a",
                          "spec.template.automountServiceAccountToken", "spec.service.port",
                          "spec.networkPolicy.enabled", "spec.networkPolicy.from", "spec.shards[1].databaseURLSecretRef"));
  EXPECT_EQ(find(parsed.errors, "spec.shards[1].databaseURLSecretRef")->shard, "1");
  EXPECT_EQ(find(parsed.errors, "spec.image")->shard, "");
}

TEST(ParseShardSet, MissingRequiredFields) {
  ParsedShardSet parsed = parse_shard_set(json::parse(R"({"metadata": {}, "spec": {}})"));
  EXPECT_THAT(paths(parsed.errors), ElementsAre("metadata.name", "spec.shards"));
  parsed = parse_shard_set(json::parse(R"({"metadata": {"name": "a"}})"));
  EXPECT_THAT(paths(parsed.errors), ElementsAre("spec", "spec.shards"));
  parsed = parse_shard_set(json::parse(
      R"({"metadata": {"name": "a"}, "spec": {"shards": [{"name": "0"}, {"databaseURLSecretRef": {"name": "x", "key": "y"}}]}})"));
  EXPECT_THAT(paths(parsed.errors), ElementsAre("spec.shards[0].databaseURLSecretRef", "spec.shards[1].name"));
  EXPECT_EQ(parsed.errors[0].shard, "0");
  EXPECT_EQ(parsed.errors[1].shard, "");
  EXPECT_FALSE(parse_shard_set(json::array()).ok());
}

TEST(ParseShardSet, UnknownFieldsAreNamedWithAHintAndKeptApartFromErrors) {
  json obj = electric_test::sample_object();
  obj["spec"]["shard"] = obj["spec"]["shards"];
  obj["spec"].erase("shards");
  obj["spec"]["storage"] = {{"sise", "1Gi"}};
  obj["spec"]["colour"] = "blue";
  ParsedShardSet parsed = parse_shard_set(obj);
  EXPECT_THAT(parsed.unknown_fields,
              ElementsAre(FieldError{"spec.storage.sise", "unknown field (did you mean spec.storage.size?)", ""},
                          FieldError{"spec.colour", "unknown field", ""},
                          FieldError{"spec.shard", "unknown field (did you mean spec.shards?)", ""}));
  // The missing field is still an error of its own; unknown ones are not.
  EXPECT_EQ(describe_errors(parsed.errors), "spec.shards: is required (1 to 512 shards)");
}

TEST(ParseShardSet, UnknownShardFieldsAreConfinedToTheShard) {
  json obj = electric_test::sample_object();
  obj["spec"]["shards"][1]["databaseUrlSecretRef"] = {{"name", "pg"}, {"key", "url"}};
  obj["spec"]["shards"][1]["pooledDatabaseURLSecretRef"]["kee"] = "x";
  ParsedShardSet parsed = parse_shard_set(obj);
  EXPECT_THAT(parsed.unknown_fields,
              ElementsAre(FieldError{"spec.shards[1].pooledDatabaseURLSecretRef.kee",
                                     "unknown field (did you mean spec.shards[1].pooledDatabaseURLSecretRef.key?)", "1"},
                          FieldError{"spec.shards[1].databaseUrlSecretRef",
                                     "unknown field (did you mean spec.shards[1].databaseURLSecretRef?)", "1"}));
  EXPECT_TRUE(parsed.ok()) << describe_errors(parsed.errors);
}

TEST(ParseShardSet, OpenObjectsHaveNoUnknownFields) {
  json obj = electric_test::sample_object();
  obj["spec"]["template"] = {{"affinity", {{"anything", 1}}}, {"resources", {{"claims", json::array()}}},
                             {"podLabels", {{"any-label", "x"}}}};
  EXPECT_THAT(parse_shard_set(obj).unknown_fields, IsEmpty());
}

TEST(ParseShardSet, EnvThatWouldRedirectQueriesOrChangeTheSlotIsRefusedLikeManagedEnv) {
  for (const char* name : {"ELECTRIC_QUERY_DATABASE_URL", "CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN",
                           "ELECTRIC_TEMPORARY_REPLICATION_SLOT_USE_RANDOM_NAME", "DATABASE_URL"}) {
    json obj = electric_test::sample_object();
    obj["spec"]["shards"][1]["env"] = json::array({{{"name", name}, {"value", "true"}}});
    auto parsed = parse_shard_set(obj);
    const FieldError* e = find(parsed.errors, "spec.shards[1].env[0].name");
    ASSERT_NE(e, nullptr) << name;
    EXPECT_EQ(e->message.rfind(std::string(name) + " is managed by the operator", 0), 0u) << e->message;
    EXPECT_NE(e->message.find("ELECTRIC_TEMPORARY_REPLICATION_SLOT_USE_RANDOM_NAME)"), std::string::npos) << e->message;
    EXPECT_THAT(parsed.errors_for_shard("0"), IsEmpty()) << "only the shard that sets it";
  }
}

TEST(Validate, AcceptsTheSample) { EXPECT_THAT(validate(electric_test::sample_set()), IsEmpty()); }

TEST(Validate, SetNameMustBeDns1035Label) {
  for (const char* bad : {"1app", "my_app", "MyApp", "app-"}) {
    ShardSet set = electric_test::sample_set();
    set.name = bad;
    auto errors = validate(set);
    ASSERT_NE(find(errors, "metadata.name"), nullptr) << bad;
    EXPECT_EQ(find(errors, "metadata.name")->shard, "");
    EXPECT_NE(find(errors, "metadata.name")->message.find("DNS-1035"), std::string::npos);
  }
}

TEST(Validate, SetPlusShardNameAtMostFifty) {
  ShardSet set = electric_test::sample_set();
  set.name = std::string(40, 'a');
  set.spec.shards[0].name = std::string(10, 'b');  // 50: fine
  set.spec.shards[1].name = std::string(11, 'c');  // 51: too long
  auto errors = validate(set);
  ASSERT_EQ(errors.size(), 1u) << describe_errors(errors);
  EXPECT_EQ(errors[0].path, "spec.shards[1].name");
  EXPECT_EQ(errors[0].shard, std::string(11, 'c'));
  EXPECT_NE(errors[0].message.find("at most 50"), std::string::npos);
}

TEST(Validate, ShardCountBetweenOneAnd512) {
  ShardSet set = electric_test::sample_set();
  set.spec.shards.clear();
  EXPECT_THAT(paths(validate(set)), ElementsAre("spec.shards"));
  Shard shard = electric_test::sample_set().spec.shards[0];
  for (int i = 0; i < 513; ++i) {
    shard.name = std::to_string(i);
    set.spec.shards.push_back(shard);
  }
  EXPECT_THAT(paths(validate(set)), ElementsAre("spec.shards"));
  set.spec.shards.pop_back();
  EXPECT_THAT(validate(set), IsEmpty());
}

TEST(Validate, DuplicateShardNamesStopTheWholeSet) {
  ShardSet set = electric_test::sample_set();
  set.spec.shards[2].name = "0";
  auto errors = validate(set);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "spec.shards[2].name");
  EXPECT_EQ(errors[0].shard, "");
}

TEST(Validate, BadShardNameFailsThatShard) {
  ShardSet set = electric_test::sample_set();
  set.spec.shards[1].name = "Eu_1";
  auto errors = validate(set);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "spec.shards[1].name");
  EXPECT_EQ(errors[0].shard, "Eu_1");
}

TEST(Validate, StreamIDPattern) {
  for (const char* bad : {"has-hyphen", "0starts_with_digit", "UPPER", "", "a234567890123456789012345678901234567890123"}) {
    ShardSet set = electric_test::sample_set();
    set.spec.shards[0].replication_stream_id = bad;
    auto errors = validate(set);
    ASSERT_EQ(errors.size(), 1u) << bad;
    EXPECT_EQ(errors[0].path, "spec.shards[0].replicationStreamID");
    EXPECT_EQ(errors[0].shard, "0");
  }
}

TEST(Validate, DuplicateExplicitStreamIDsFailTheLaterShard) {
  ShardSet set = electric_test::sample_set();
  set.spec.shards[0].replication_stream_id = "custom_two";
  auto errors = validate(set);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "spec.shards[2].replicationStreamID");
  EXPECT_EQ(errors[0].shard, "2");
  EXPECT_NE(errors[0].message.find("shard \"0\""), std::string::npos);
}

TEST(Validate, ManagedEnvNamesAreRefused) {
  for (auto name : kManagedEnvNames) {
    ShardSet set = electric_test::sample_set();
    set.spec.pod_template.env = json::array({{{"name", "OK"}}, {{"name", std::string(name)}, {"value", "x"}}});
    set.spec.shards[1].env = json::array({{{"name", std::string(name)}, {"value", "x"}}});
    auto errors = validate(set);
    ASSERT_EQ(errors.size(), 2u) << name;
    EXPECT_EQ(errors[0].path, "spec.shards[1].env[0].name");
    EXPECT_EQ(errors[0].shard, "1");
    EXPECT_EQ(errors[1].path, "spec.template.env[1].name");
    EXPECT_EQ(errors[1].shard, "");
    EXPECT_NE(errors[1].message.find(std::string(name)), std::string::npos);
  }
  ShardSet set = electric_test::sample_set();
  set.spec.pod_template.env = json::array({{{"value", "no name"}}});
  EXPECT_THAT(paths(validate(set)), ElementsAre("spec.template.env[0].name"));
}

TEST(Validate, StorageSizeMustBeAPositiveQuantity) {
  ShardSet set = electric_test::sample_set();
  set.spec.storage.size = "ten gigs";
  set.spec.shards[0].storage_size = "0";
  auto errors = validate(set);
  EXPECT_THAT(paths(errors), ElementsAre("spec.shards[0].storage.size", "spec.storage.size"));
  EXPECT_EQ(errors[0].shard, "0");
  EXPECT_NE(errors[1].message.find("not a quantity"), std::string::npos);
}

TEST(ParseShardSet, DatabaseChecksAndTheWalThreshold) {
  ParsedShardSet defaults = parse_shard_set(electric_test::sample_object());
  EXPECT_TRUE(defaults.set.spec.database_checks);
  EXPECT_EQ(defaults.set.spec.wal_retention_threshold_bytes, int64_t{10} << 30);

  json object = electric_test::sample_object();
  object["spec"]["databaseChecks"] = "Disabled";
  object["spec"]["walRetentionThreshold"] = "512Mi";
  ParsedShardSet parsed = parse_shard_set(object);
  ASSERT_TRUE(parsed.ok()) << describe_errors(parsed.errors);
  EXPECT_FALSE(parsed.set.spec.database_checks);
  EXPECT_EQ(parsed.set.spec.wal_retention_threshold_bytes, int64_t{512} << 20);

  object["spec"]["databaseChecks"] = "Off";
  object["spec"]["walRetentionThreshold"] = "lots";
  parsed = parse_shard_set(object);
  EXPECT_THAT(paths(parsed.errors), ElementsAre("spec.databaseChecks", "spec.walRetentionThreshold"));
}

TEST(Validate, PortAndEnums) {
  ShardSet set = electric_test::sample_set();
  set.spec.service.port = 0;
  set.spec.service.type = "ExternalName";
  set.spec.image_pull_policy = "Sometimes";
  set.spec.storage.access_modes = {"ReadWriteEverywhere"};
  set.spec.image = "";
  EXPECT_THAT(paths(validate(set)),
              ElementsAre("spec.image", "spec.imagePullPolicy", "spec.service.port", "spec.service.type",
                          "spec.storage.accessModes[0]"));
  set = electric_test::sample_set();
  set.spec.service.port = 65536;
  EXPECT_THAT(paths(validate(set)), ElementsAre("spec.service.port"));
  set.spec.service.port = 65535;
  EXPECT_THAT(validate(set), IsEmpty());
}

TEST(Validate, RetentionPolicyUnknownValueIsAnErrorAndRetains) {
  json obj = electric_test::sample_object();
  obj["spec"]["persistentVolumeClaimRetentionPolicy"] = {{"whenDeleted", "Orphan"}};
  ParsedShardSet parsed = parse_shard_set(obj);
  EXPECT_THAT(paths(parsed.errors), ElementsAre("spec.persistentVolumeClaimRetentionPolicy.whenDeleted"));
  EXPECT_EQ(parsed.set.spec.pvc_retention.when_deleted, RetentionPolicy::Retain);
}

TEST(Validate, SecretRefsAndConfigMapName) {
  ShardSet set = electric_test::sample_set();
  set.spec.shards[0].database_url_secret_ref = {"", "url"};
  set.spec.api_secret_ref = SecretKeyRef{"api", ""};
  set.spec.routing_config_map_name = "Not_Valid";
  EXPECT_THAT(paths(validate(set)), ElementsAre("spec.shards[0].databaseURLSecretRef.name", "spec.apiSecretRef.key",
                                                "spec.routing.configMapName"));
}

TEST(ParsedShardSet, SplitsSetWideAndShardErrors) {
  json obj = electric_test::sample_object();
  obj["spec"]["shards"][1]["replicationStreamID"] = "bad-id";
  ParsedShardSet parsed = parse_shard_set(obj);
  EXPECT_FALSE(parsed.ok());
  EXPECT_FALSE(parsed.has_set_wide_errors());
  EXPECT_THAT(parsed.errors_for_shard("0"), IsEmpty());
  EXPECT_EQ(parsed.errors_for_shard("1").size(), 1u);
  obj["spec"]["service"] = {{"port", 70000}};
  parsed = parse_shard_set(obj);
  EXPECT_TRUE(parsed.has_set_wide_errors());
  EXPECT_THAT(paths(parsed.set_wide_errors()), ElementsAre("spec.service.port"));
}

TEST(ValidateTransition, ExplicitStreamIDIsImmutable) {
  ShardSet before = electric_test::sample_set();
  ShardSet after = before;
  EXPECT_THAT(validate_transition(before, after), IsEmpty());
  after.spec.shards[2].replication_stream_id = "changed";
  auto errors = validate_transition(before, after);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "spec.shards[2].replicationStreamID");
  EXPECT_EQ(errors[0].shard, "2");
  after.spec.shards[2].replication_stream_id.reset();  // removing it is a change too
  EXPECT_EQ(validate_transition(before, after).size(), 1u);
  // Setting one where none was set is allowed (as the CRD's rule allows).
  after = before;
  after.spec.shards[0].replication_stream_id = "now_explicit";
  EXPECT_THAT(validate_transition(before, after), IsEmpty());
  // Matched by name, not position.
  after = before;
  std::swap(after.spec.shards[0], after.spec.shards[2]);
  EXPECT_THAT(validate_transition(before, after), IsEmpty());
}

TEST(SecretSources, ApiSecretAndReferencedNames) {
  ShardSet set = electric_test::sample_set();
  EXPECT_EQ(api_secret_source(set), (SecretKeyRef{"myapp-api-secret", "secret"}));
  EXPECT_THAT(referenced_secret_names(set), ElementsAre("myapp-api-secret", "pg-shard-0", "pg-shard-1", "pg-shard-2"));
  set.spec.api_secret_ref = SecretKeyRef{"electric-api", "token"};
  EXPECT_EQ(api_secret_source(set), (SecretKeyRef{"electric-api", "token"}));
  EXPECT_THAT(referenced_secret_names(set), ElementsAre("electric-api", "pg-shard-0", "pg-shard-1", "pg-shard-2"));
}

TEST(Retention, WhenDeletedWhileInSpecWhenShardRemovedAfter) {
  ShardSet set = electric_test::sample_set();
  set.spec.pvc_retention = {RetentionPolicy::Delete, RetentionPolicy::Retain};
  EXPECT_EQ(applicable_retention(set, true), RetentionPolicy::Delete);
  EXPECT_EQ(applicable_retention(set, false), RetentionPolicy::Retain);
}

}  // namespace
}  // namespace electric
