// Issue 12 item 8: bad input at scale. A table of malformed sets, each
// either refused by the API server (naming the field) or accepted and shown
// in status with a reason, while one operator serves them all and a healthy
// set in the same namespace keeps reconciling: created before them, Ready
// throughout, and changed (a shard added) once they are all in.
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support.h"

namespace itest {
namespace {

class BadInputTest : public OperatorSuite {};

struct BadSet {
  const char* what;
  // Of a one-shard set whose shard "0" reads Secret pg-0 key url.
  std::function<void(json& set)> mutate;
  // Refused by the API server: text its message must hold (the field, or
  // the rule's message). nullptr: accepted, and then...
  const char* refused_with;
  // ...shard "0"'s status reason, or the Ready condition's reason when the
  // set as a whole is invalid.
  const char* reason = nullptr;
};

json& shard0(json& set) { return set["spec"]["shards"][0]; }
void use_secret(json& set, const char* name, const char* key = "url") {
  shard0(set)["databaseURLSecretRef"] = {{"name", name}, {"key", key}};
}
json nested(int depth) {
  json v = "leaf";
  for (int i = 0; i < depth; ++i) v = json{{"n", v}};
  return v;
}

// Secrets the handled cases read, by name: what a user may well put there.
const std::vector<std::pair<const char*, std::string>> kBadURLSecrets = {
    {"url-mysql", "mysql://electric:pw@db:3306/app"},
    {"url-no-host", "postgresql://electric:pw@/app"},
    {"url-no-user", "postgresql://db:5432/app"},
    {"url-replication", "postgresql://electric:pw@db/app?replication=database"},
    {"url-sslmode", "postgresql://electric:pw@db/app?sslmode=maybe"},
    {"url-hosts", "postgresql://electric:pw@db1,db2/app"},
    {"url-empty", ""},
    {"url-spaces", "   "},
    {"url-bad-port", "postgresql://electric:pw@db:99999/app"},
    {"url-no-at", "postgresql://electric:pw"},
};
// Odd, but Electric's own parser (Elixir's lenient URI.parse) takes them, so
// the operator does too: the shard runs, and nothing breaks on the way.
const std::vector<std::pair<const char*, std::string>> kOddURLSecrets = {
    {"url-binary", std::string("postgresql://e:\xff\xfe@db/app\0tail", 29)},
    {"url-huge", "postgresql://electric:pw@" + std::string(200000, 'h') + "/app"},
    {"url-unicode-host", "postgresql://electric:pw@d\xc3\xa9j\xc3\xa0.example/app"},
    {"url-options", "postgresql://electric:pw@db/app?foo=bar"},  // Electric 1.7 ignores what it does not know
};

std::vector<BadSet> bad_sets() {
  using S = json&;
  return {
      // --- refused by the API server ---
      {"shards not a list", [](S s) { s["spec"]["shards"] = "0,1"; }, "spec.shards"},
      {"shards null", [](S s) { s["spec"]["shards"] = nullptr; }, "spec.shards"},
      {"no shards", [](S s) { s["spec"]["shards"] = json::array(); }, "spec.shards"},
      {"513 shards", [](S s) {
         for (int i = 1; i < 513; ++i) s["spec"]["shards"].push_back({{"name", std::to_string(i)}, {"databaseURLSecretRef", {{"name", "pg-0"}, {"key", "url"}}}});
       }, "spec.shards"},
      {"no spec", [](S s) { s.erase("spec"); }, "spec"},
      {"spec a string", [](S s) { s["spec"] = "shards: 3"; }, "spec"},
      {"shard name upper case", [](S s) { shard0(s)["name"] = "Zero"; }, "spec.shards[0].name"},
      {"shard name not ASCII", [](S s) { shard0(s)["name"] = "\xd1\x88\xd0\xb0\xd1\x80\xd0\xb4"; }, "spec.shards[0].name"},
      {"shard name empty", [](S s) { shard0(s)["name"] = ""; }, "spec.shards[0].name"},
      {"shard name a number", [](S s) { shard0(s)["name"] = 0; }, "spec.shards[0].name"},
      {"shard name huge", [](S s) { shard0(s)["name"] = std::string(100000, 'a'); }, "spec.shards[0].name"},
      {"shard without a name", [](S s) { shard0(s).erase("name"); }, "spec.shards[0].name"},
      {"duplicate shard names", [](S s) { s["spec"]["shards"].push_back(shard0(s)); }, "spec.shards[1]"},
      {"set name plus shard name over 50", [](S s) { shard0(s)["name"] = std::string(49, 'a'); }, "50"},
      {"shard without its URL Secret", [](S s) { shard0(s).erase("databaseURLSecretRef"); }, "databaseURLSecretRef"},
      {"URL Secret reference null", [](S s) { shard0(s)["databaseURLSecretRef"] = nullptr; }, "databaseURLSecretRef"},
      {"URL Secret name a number", [](S s) { shard0(s)["databaseURLSecretRef"]["name"] = 7; }, "databaseURLSecretRef.name"},
      {"URL Secret reference a list", [](S s) { shard0(s)["databaseURLSecretRef"] = json::array({"pg-0", "url"}); }, "databaseURLSecretRef"},
      {"stream ID with a hyphen", [](S s) { shard0(s)["replicationStreamID"] = "my-stream"; }, "replicationStreamID"},
      {"stream ID of 43 characters", [](S s) { shard0(s)["replicationStreamID"] = std::string(43, 's'); }, "replicationStreamID"},
      {"stream ID not ASCII", [](S s) { shard0(s)["replicationStreamID"] = "str\xc3\xa9\x61m"; }, "replicationStreamID"},
      {"duplicate explicit stream IDs", [](S s) {
         shard0(s)["replicationStreamID"] = "same";
         s["spec"]["shards"].push_back({{"name", "1"}, {"replicationStreamID", "same"}, {"databaseURLSecretRef", {{"name", "pg-0"}, {"key", "url"}}}});
       }, "replicationStreamID"},
      {"managed env var in the template", [](S s) { s["spec"]["template"]["env"] = json::parse(R"([{"name":"DATABASE_URL","value":"x"}])"); }, "DATABASE_URL"},
      {"managed env var in a shard", [](S s) { shard0(s)["env"] = json::parse(R"([{"name":"ELECTRIC_SECRET","value":"x"}])"); }, "ELECTRIC_SECRET"},
      {"env not a list", [](S s) { s["spec"]["template"]["env"] = json{{"A", "b"}}; }, "spec.template.env"},
      {"env entry without a name", [](S s) { s["spec"]["template"]["env"] = json::parse(R"([{"value":"x"}])"); }, "spec.template.env[0].name"},
      {"storage size not a quantity", [](S s) { s["spec"]["storage"]["size"] = "ten gigs"; }, "spec.storage.size"},
      {"storage size zero", [](S s) { s["spec"]["storage"]["size"] = "0"; }, "spec.storage.size"},
      {"storage size a number", [](S s) { s["spec"]["storage"]["size"] = 10; }, "spec.storage.size"},
      {"shard storage size negative", [](S s) { shard0(s)["storage"] = {{"size", "-1Gi"}}; }, "spec.shards[0].storage.size"},
      {"service port 0", [](S s) { s["spec"]["service"]["port"] = 0; }, "spec.service.port"},
      {"service port 70000", [](S s) { s["spec"]["service"]["port"] = 70000; }, "spec.service.port"},
      {"service port a string", [](S s) { s["spec"]["service"]["port"] = "3000"; }, "spec.service.port"},
      {"service type unknown", [](S s) { s["spec"]["service"]["type"] = "Public"; }, "spec.service.type"},
      {"pull policy unknown", [](S s) { s["spec"]["imagePullPolicy"] = "Sometimes"; }, "spec.imagePullPolicy"},
      {"image a number", [](S s) { s["spec"]["image"] = 17; }, "spec.image"},
      {"image huge", [](S s) { s["spec"]["image"] = std::string(100000, 'i'); }, "spec.image"},
      {"paused a string", [](S s) { s["spec"]["paused"] = "yes"; }, "spec.paused"},
      {"volume retention unknown", [](S s) { s["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] = "Maybe"; }, "whenDeleted"},
      {"slot retention unknown", [](S s) { s["spec"]["replicationSlotRetentionPolicy"]["whenShardRemoved"] = "Later"; }, "whenShardRemoved"},
      {"database checks unknown", [](S s) { s["spec"]["databaseChecks"] = "On"; }, "spec.databaseChecks"},
      {"routing ConfigMap name invalid", [](S s) { s["spec"]["routing"]["configMapName"] = "Not_A_Name!"; }, "configMapName"},
      {"pull secrets a string", [](S s) { s["spec"]["imagePullSecrets"] = "regcred"; }, "spec.imagePullSecrets"},
      {"17 pull secrets", [](S s) {
         for (int i = 0; i < 17; ++i) s["spec"]["imagePullSecrets"].push_back({{"name", "r" + std::to_string(i)}});
       }, "spec.imagePullSecrets"},
      {"node selector value a number", [](S s) { s["spec"]["template"]["nodeSelector"] = {{"zone", 1}}; }, "spec.template.nodeSelector.zone"},
      {"pod annotations a list", [](S s) { s["spec"]["template"]["podAnnotations"] = json::array({"a"}); }, "spec.template.podAnnotations"},
      {"set name upper case", [](S s) { s["metadata"]["name"] = "Bad"; }, "metadata.name"},
      {"set name not ASCII", [](S s) { s["metadata"]["name"] = "b\xc3\xa4\x64"; }, "metadata.name"},
      {"set name starting with a digit", [](S s) { s["metadata"]["name"] = "1bad"; }, "metadata.name"},
      {"resources not quantities", [](S s) { s["spec"]["template"]["resources"] = json::parse(R"({"limits":{"memory":"lots"}})"); }, "spec.template.resources.limits.memory"},
      {"shard resources not quantities", [](S s) { shard0(s)["resources"] = json::parse(R"({"requests":{"cpu":"half"}})"); }, "spec.shards[0].resources.requests.cpu"},
      // --- accepted by the API server, handled by the operator ---
      // Pod fields the set's schema passes through: the API server refuses
      // the Deployment, and the shard says so.
      {"affinity nested 60 deep", [](S s) { s["spec"]["template"]["affinity"] = nested(60); }, nullptr, "RejectedByAPIServer"},
      {"toleration of an unknown shape", [](S s) { s["spec"]["template"]["tolerations"] = json::parse(R"([{"key":"a","operator":"Sometimes"}])"); }, nullptr, "RejectedByAPIServer"},
      {"security context user a string", [](S s) { s["spec"]["template"]["podSecurityContext"] = json::parse(R"({"runAsUser":"root"})"); }, nullptr, "RejectedByAPIServer"},
      {"URL Secret missing", [](S s) { use_secret(s, "no-such-secret"); }, nullptr, "SecretNotFound"},
      {"URL key missing", [](S s) { use_secret(s, "pg-0", "no-such-key"); }, nullptr, "SecretNotFound"},
      {"URL Secret name not a Secret name", [](S s) { use_secret(s, "Not/A/Name"); }, nullptr, "InvalidSpec"},
      {"API secret missing", [](S s) { s["spec"]["apiSecretRef"] = {{"name", "no-such-secret"}, {"key", "secret"}}; }, nullptr, "SecretNotFound"},
      {"API secret empty", [](S s) { s["spec"]["apiSecretRef"] = {{"name", "empty-api"}, {"key", "secret"}}; }, nullptr, "InvalidAPISecret"},
  };
}

// The handled cases whose shard reads one of kBadURLSecrets or kOddURLSecrets.
std::vector<BadSet> bad_url_sets() {
  std::vector<BadSet> out;
  for (const auto& [name, value] : kBadURLSecrets) {
    const char* secret = name;
    out.push_back({secret, [secret](json& s) { use_secret(s, secret); }, nullptr, "InvalidDatabaseURL"});
  }
  for (const auto& [name, value] : kOddURLSecrets) {
    const char* secret = name;
    out.push_back({secret, [secret](json& s) { use_secret(s, secret); }, nullptr, "Available"});
  }
  return out;
}

std::string observed_reason(const std::string& ns, const std::string& name) {
  json set = get_object(shard_sets(), ns, name);
  json ready = condition(set, "Ready");
  if (!ready.is_null() && ready.value("reason", "") == "InvalidSpec") return "InvalidSpec";
  return shard_status(ns, name, "0").value("reason", "");
}

TEST_F(BadInputTest, MalformedSetsAreRefusedOrReportedWhileAHealthySetReconciles) {
  TestNamespace ns("bad");
  put_secret(ns.name(), "pg-0", {{"url", pg_url(0)}});
  put_secret(ns.name(), "pg-1", {{"url", pg_url(1)}});
  put_secret(ns.name(), "empty-api", {{"secret", ""}});
  for (const auto& secrets : {kBadURLSecrets, kOddURLSecrets})
    for (const auto& [name, value] : secrets) put_secret(ns.name(), name, {{"url", value}});
  OperatorProcess op({"--namespace", ns.name()});
  apply_set(shard_set(ns.name(), "healthy", 1));
  ASSERT_TRUE(eventually([&] { return set_ready(ns.name(), "healthy", 1); }, 90s)) << op.log_tail();

  std::vector<BadSet> cases = bad_sets();
  for (BadSet& c : bad_url_sets()) cases.push_back(std::move(c));
  ASSERT_GE(cases.size(), 40u);
  std::vector<std::pair<std::string, const BadSet*>> accepted;
  for (size_t i = 0; i < cases.size(); ++i) {
    const BadSet& c = cases[i];
    SCOPED_TRACE(c.what);
    json set = shard_set(ns.name(), "bad-" + std::to_string(i), 1);
    c.mutate(set);
    auto created = client().create(shard_sets(), ns.name(), set);
    if (c.refused_with) {
      ASSERT_FALSE(created.ok()) << "accepted";
      EXPECT_TRUE(created.error().is_invalid() || created.error().http_code == 400) << created.error().describe();
      EXPECT_NE(created.error().message.find(c.refused_with), std::string::npos) << created.error().message;
    } else {
      ASSERT_TRUE(created.ok()) << created.error().describe();
      accepted.emplace_back(set["metadata"]["name"].get<std::string>(), &c);
    }
    EXPECT_TRUE(op.running()) << op.log_tail();
  }
  for (const auto& [name, c] : accepted) {
    SCOPED_TRACE(c->what);
    std::string reason;
    EXPECT_TRUE(eventually([&] { return (reason = observed_reason(ns.name(), name)) == c->reason; }, 30s))
        << "reason " << reason << "\n" << op.log_tail();
  }
  // Duplicate keys in YAML: which one was meant is anyone's guess. The API
  // server refuses the YAML under strict field validation (kubectl, whose
  // own YAML reader keeps the last, sends it JSON), and so does the
  // operator's own `render`.
  const std::string duplicated = "apiVersion: electric-operator.dev/v1alpha1\nkind: ElectricShardSet\n"
                                 "metadata: {name: dup}\nspec:\n  paused: true\n  shards: [{name: \"0\", "
                                 "databaseURLSecretRef: {name: pg-0, key: url}}]\n  paused: false\n";
  std::string out;
  const char* cluster_dir = std::getenv("EO_CLUSTER_DIR");
  const char* server = std::getenv("EO_APISERVER_URL");
  ASSERT_TRUE(cluster_dir && server) << "source build/cluster/env";
  const std::string pki = std::string(cluster_dir) + "/data/pki/";
  const std::string post = "curl -sS --cacert " + pki + "ca.crt --cert " + pki + "admin.crt --key " + pki +
                           "admin.key -H 'Content-Type: application/yaml' --data-binary @- '" +
                           server + "/apis/electric-operator.dev/v1alpha1/namespaces/" +
                           ns.name() + "/electricshardsets?fieldValidation=Strict'";
  ASSERT_EQ(run_with_input(post, duplicated, &out), 0) << out;
  EXPECT_NE(out.find("strict decoding error"), std::string::npos) << out;
  EXPECT_NE(out.find("\\\"paused\\\" already set in map"), std::string::npos) << out;
  EXPECT_TRUE(get_object(shard_sets(), ns.name(), "dup").is_null());
  const char* bin = std::getenv("EO_OPERATOR_BIN");
  EXPECT_EQ(run_with_input(std::string(bin ? bin : "build/bin/electric-operator") + " render -f -", duplicated, &out), 2) << out;
  EXPECT_NE(out.find("duplicate key \"paused\""), std::string::npos) << out;

  EXPECT_TRUE(set_ready(ns.name(), "healthy", 1)) << "Ready throughout";
  apply_set(shard_set(ns.name(), "healthy", 2));
  EXPECT_TRUE(eventually([&] { return set_ready(ns.name(), "healthy", 2); }, 90s)) << op.log_tail();
  EXPECT_TRUE(op.running()) << op.log_tail();
  for (const auto& secrets : {kBadURLSecrets, kOddURLSecrets})
    for (const auto& [name, value] : secrets)
      if (value.size() > 8) {
        EXPECT_EQ(op.log().find(value), std::string::npos) << "a URL in the log: " << name;
      }
}

}  // namespace
}  // namespace itest
