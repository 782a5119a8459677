#include "electric/render.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "electric/constants.h"
#include "electric/digest.h"
#include "fixtures.h"

namespace electric {
namespace {

using nlohmann::json;

const ShardSecretValues kValues{"postgresql://u:pw@db:5432/app", "api-secret-value", std::nullopt};

json expected_labels(const std::string& shard) {
  return {{"app.kubernetes.io/name", "electric"},
          {"app.kubernetes.io/managed-by", "electric-operator"},
          {"app.kubernetes.io/component", "shard"},
          {"electric-operator.dev/shard-set", "myapp"},
          {"electric-operator.dev/shard", shard}};
}

json expected_owner() {
  return json::array({{{"apiVersion", "electric-operator.dev/v1alpha1"},
                       {"kind", "ElectricShardSet"},
                       {"name", "myapp"},
                       {"uid", "1111-2222"},
                       {"controller", true},
                       {"blockOwnerDeletion", true}}});
}

// Only what the operator owns: no status, no managedFields, no set labels.
void expect_owned_fields_only(const json& obj) {
  std::set<std::string> top;
  for (auto it = obj.begin(); it != obj.end(); ++it) top.insert(it.key());
  for (const auto& key : top)
    EXPECT_TRUE(key == "apiVersion" || key == "kind" || key == "metadata" || key == "spec" || key == "data" ||
                key == "type")
        << key;
  std::set<std::string> meta;
  for (auto it = obj["metadata"].begin(); it != obj["metadata"].end(); ++it) meta.insert(it.key());
  for (const auto& key : meta)
    EXPECT_TRUE(key == "name" || key == "namespace" || key == "labels" || key == "ownerReferences" ||
                (key == "annotations" && obj.value("kind", "") == "Secret"))
        << key;
  EXPECT_FALSE(obj["metadata"]["labels"].contains("team"));
  EXPECT_FALSE(obj["metadata"]["labels"].contains("app.kubernetes.io/instance"));
}

TEST(RenderShardSecret, KeysBase64AndOwner) {
  ShardSet set = electric_test::sample_set();
  json secret = render_shard_secret(set, set.spec.shards[0], kValues);
  expect_owned_fields_only(secret);
  EXPECT_EQ(secret["apiVersion"], "v1");
  EXPECT_EQ(secret["kind"], "Secret");
  EXPECT_EQ(secret["type"], "Opaque");
  EXPECT_EQ(secret["metadata"]["name"], "myapp-shard-0");
  EXPECT_EQ(secret["metadata"]["namespace"], "prod");
  EXPECT_EQ(secret["metadata"]["labels"], expected_labels("0"));
  EXPECT_EQ(secret["metadata"]["ownerReferences"], expected_owner());
  // The server, never the URL: a removed shard's slot is listed by it.
  EXPECT_EQ(secret["metadata"]["annotations"], json({{"electric-operator.dev/database-server", "db:5432"}}));
  EXPECT_EQ(secret["data"], json({{"DATABASE_URL", base64_encode(kValues.database_url)},
                                  {"ELECTRIC_SECRET", base64_encode("api-secret-value")}}));

  ShardSecretValues pooled = kValues;
  pooled.pooled_database_url = "postgresql://u:pw@bouncer:6432/app";
  secret = render_shard_secret(set, set.spec.shards[1], pooled);
  EXPECT_EQ(secret["data"]["ELECTRIC_POOLED_DATABASE_URL"], base64_encode(*pooled.pooled_database_url));
  EXPECT_EQ(secret["data"].size(), 3u);
}

TEST(RenderApiSecret, NameKeyAndLabels) {
  ShardSet set = electric_test::sample_set();
  json secret = render_api_secret(set, std::string(64, 'a'));
  expect_owned_fields_only(secret);
  EXPECT_EQ(secret["metadata"]["name"], "myapp-api-secret");
  EXPECT_EQ(secret["data"], json({{"secret", base64_encode(std::string(64, 'a'))}}));
  EXPECT_EQ(secret["metadata"]["labels"]["app.kubernetes.io/component"], "shard");
  EXPECT_EQ(secret["metadata"]["labels"]["electric-operator.dev/shard-set"], "myapp");
  EXPECT_FALSE(secret["metadata"]["labels"].contains("electric-operator.dev/shard"));
  EXPECT_EQ(secret["metadata"]["ownerReferences"], expected_owner());
}

TEST(HexEncode, ThirtyTwoBytesGiveSixtyFourHexCharacters) {
  std::string bytes(32, '\0');
  for (int i = 0; i < 32; ++i) bytes[i] = static_cast<char>(i * 8);
  std::string hex = hex_encode(bytes);
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(hex.substr(0, 8), "00081018");
}

TEST(RenderPvc, SizeClassModesAndOwnerByPolicy) {
  ShardSet set = electric_test::sample_set();
  json pvc = render_pvc(set, set.spec.shards[0], false);
  expect_owned_fields_only(pvc);
  EXPECT_EQ(pvc["kind"], "PersistentVolumeClaim");
  EXPECT_EQ(pvc["metadata"]["name"], "myapp-shard-0-data");
  EXPECT_EQ(pvc["metadata"]["labels"], expected_labels("0"));
  EXPECT_FALSE(pvc["metadata"].contains("ownerReferences"));
  EXPECT_EQ(pvc["spec"], json::parse(R"({"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"10Gi"}}})"));

  set.spec.storage.storage_class_name = "fast";
  set.spec.shards[0].storage_size = "50Gi";
  pvc = render_pvc(set, set.spec.shards[0], true);
  EXPECT_EQ(pvc["spec"]["storageClassName"], "fast");
  EXPECT_EQ(pvc["spec"]["resources"]["requests"]["storage"], "50Gi");
  EXPECT_EQ(pvc["metadata"]["ownerReferences"], expected_owner());
}

TEST(RenderPvc, OwnerReferenceFollowsApplicableRetentionPolicy) {
  ShardSet set = electric_test::sample_set();
  EXPECT_FALSE(pvc_has_owner_reference(set, true));  // defaults: Retain, Retain
  EXPECT_FALSE(pvc_has_owner_reference(set, false));
  set.spec.pvc_retention.when_deleted = RetentionPolicy::Delete;
  EXPECT_TRUE(pvc_has_owner_reference(set, true));
  EXPECT_FALSE(pvc_has_owner_reference(set, false));
  set.spec.pvc_retention = {RetentionPolicy::Retain, RetentionPolicy::Delete};
  EXPECT_FALSE(pvc_has_owner_reference(set, true));
  EXPECT_TRUE(pvc_has_owner_reference(set, false));
}

TEST(RenderRetainedPvc, KeepsLiveSpecAndDropsOwner) {
  ShardSet set = electric_test::sample_set();
  json live = json::parse(R"({"metadata": {"name": "myapp-shard-9-data", "ownerReferences": [{"uid": "1111-2222"}]},
     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}},
              "storageClassName": "standard", "volumeName": "pv-123"}})");
  json pvc = render_retained_pvc(set, "9", pvc_facts(live));
  expect_owned_fields_only(pvc);
  EXPECT_FALSE(pvc["metadata"].contains("ownerReferences"));
  EXPECT_EQ(pvc["metadata"]["name"], "myapp-shard-9-data");
  EXPECT_EQ(pvc["metadata"]["labels"], expected_labels("9"));
  EXPECT_EQ(pvc["spec"], json::parse(R"({"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"20Gi"}},
                                          "storageClassName":"standard"})"));
}

TEST(RenderEnv, ExactOrderAndSecretRefs) {
  ShardSet set = electric_test::sample_set();
  set.spec.pod_template.env = json::parse(R"([{"name":"ELECTRIC_LOG_LEVEL","value":"info"},{"name":"A","value":"t"}])");
  set.spec.shards[1].env = json::parse(R"([{"name":"B","valueFrom":{"configMapKeyRef":{"name":"c","key":"k"}}}])");
  json env = render_env(set, set.spec.shards[1]);
  std::vector<std::string> names;
  for (const auto& e : env) names.push_back(e["name"]);
  EXPECT_THAT(names, ::testing::ElementsAre("ELECTRIC_INSTANCE_ID", "ELECTRIC_REPLICATION_STREAM_ID", "ELECTRIC_STORAGE_DIR",
                                            "ELECTRIC_PORT", "DATABASE_URL", "ELECTRIC_SECRET",
                                            "ELECTRIC_POOLED_DATABASE_URL", "ELECTRIC_LOG_LEVEL", "A", "B"));
  EXPECT_EQ(env[0], json({{"name", "ELECTRIC_INSTANCE_ID"}, {"value", "prod/myapp-shard-1"}}));
  EXPECT_EQ(env[1], json({{"name", "ELECTRIC_REPLICATION_STREAM_ID"}, {"value", "prod_myapp_1"}}));
  EXPECT_EQ(env[2], json({{"name", "ELECTRIC_STORAGE_DIR"}, {"value", "/var/lib/electric/data"}}));
  EXPECT_EQ(env[3], json({{"name", "ELECTRIC_PORT"}, {"value", "3000"}}));
  EXPECT_EQ(env[4], json::parse(R"({"name":"DATABASE_URL","valueFrom":{"secretKeyRef":{"name":"myapp-shard-1","key":"DATABASE_URL"}}})"));
  EXPECT_EQ(env[5], json::parse(R"({"name":"ELECTRIC_SECRET","valueFrom":{"secretKeyRef":{"name":"myapp-shard-1","key":"ELECTRIC_SECRET"}}})"));
  EXPECT_EQ(env[6], json::parse(R"({"name":"ELECTRIC_POOLED_DATABASE_URL","valueFrom":{"secretKeyRef":{"name":"myapp-shard-1","key":"ELECTRIC_POOLED_DATABASE_URL"}}})"));
  EXPECT_EQ(env[9]["valueFrom"]["configMapKeyRef"]["name"], "c");
  // No secret value is ever literal.
  for (const auto& e : env) EXPECT_EQ(e.dump().find("pw@"), std::string::npos);
  // Shard 0 has no pooled URL, and the explicit stream ID of shard 2 is used.
  EXPECT_EQ(render_env(set, set.spec.shards[0]).size(), 8u);
  EXPECT_EQ(render_env(set, set.spec.shards[2])[1]["value"], "custom_two");
}

TEST(RenderEnv, ShardEnvOverridesTemplateAndManagedNamesAreDropped) {
  ShardSet set = electric_test::sample_set();
  set.spec.pod_template.env = json::parse(R"([{"name":"X","value":"template"},{"name":"Y","value":"y"},
                                              {"name":"DATABASE_URL","value":"postgres://evil"}])");
  set.spec.shards[0].env = json::parse(R"([{"name":"X","value":"shard"},{"name":"ELECTRIC_INSECURE","value":"true"}])");
  json env = render_env(set, set.spec.shards[0]);
  ASSERT_EQ(env.size(), 8u);
  EXPECT_EQ(env[6], json({{"name", "Y"}, {"value", "y"}}));
  EXPECT_EQ(env[7], json({{"name", "X"}, {"value", "shard"}}));
  int database_urls = 0;
  for (const auto& e : env) database_urls += e["name"] == "DATABASE_URL";
  EXPECT_EQ(database_urls, 1);
  EXPECT_EQ(env.dump().find("evil"), std::string::npos);
  EXPECT_EQ(env.dump().find("ELECTRIC_INSECURE"), std::string::npos);
}

TEST(RenderDeployment, ShapeLabelsSelectorStrategy) {
  ShardSet set = electric_test::sample_set();
  json d = render_deployment(set, set.spec.shards[0], "abc123");
  expect_owned_fields_only(d);
  EXPECT_EQ(d["apiVersion"], "apps/v1");
  EXPECT_EQ(d["kind"], "Deployment");
  EXPECT_EQ(d["metadata"]["name"], "myapp-shard-0");
  EXPECT_EQ(d["metadata"]["labels"], expected_labels("0"));
  EXPECT_EQ(d["metadata"]["ownerReferences"], expected_owner());
  EXPECT_EQ(d["spec"]["replicas"], 1);
  EXPECT_EQ(d["spec"]["strategy"], json({{"type", "Recreate"}}));
  EXPECT_EQ(d["spec"]["selector"], json({{"matchLabels", {{"electric-operator.dev/shard-set", "myapp"},
                                                           {"electric-operator.dev/shard", "0"}}}}));
  const json& tpl = d["spec"]["template"];
  EXPECT_EQ(tpl["metadata"]["labels"], expected_labels("0"));
  EXPECT_EQ(tpl["metadata"]["annotations"], json({{"electric-operator.dev/config-hash", "abc123"}}));
  const json& pod = tpl["spec"];
  EXPECT_EQ(pod["terminationGracePeriodSeconds"], 60);
  EXPECT_EQ(pod["volumes"], json::parse(R"([{"name":"data","persistentVolumeClaim":{"claimName":"myapp-shard-0-data"}}])"));
  ASSERT_EQ(pod["containers"].size(), 1u);
  const json& c = pod["containers"][0];
  EXPECT_EQ(c["name"], "electric");
  EXPECT_EQ(c["image"], "electricsql/electric:1.7.12");
  EXPECT_EQ(c["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(c["ports"], json::parse(R"([{"name":"http","containerPort":3000,"protocol":"TCP"}])"));
  EXPECT_EQ(c["volumeMounts"], json::parse(R"([{"name":"data","mountPath":"/var/lib/electric/data"}])"));
  // Empty optional fields are left out, not sent empty.
  for (const char* key : {"nodeSelector", "tolerations", "affinity", "serviceAccountName", "priorityClassName",
                          "securityContext", "imagePullSecrets"})
    EXPECT_FALSE(pod.contains(key)) << key;
  EXPECT_FALSE(c.contains("resources"));
  // Locked down by default (issue 15): no token, no escalation, no
  // capabilities, the runtime's seccomp profile.
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  EXPECT_EQ(c["securityContext"], json::parse(R"({"allowPrivilegeEscalation": false,
      "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}})"));
}

TEST(RenderPodTemplate, AutomountTokenWhenAskedFor) {
  json obj = electric_test::sample_object();
  obj["spec"]["template"] = {{"automountServiceAccountToken", true}};
  ShardSet set = electric_test::parse_ok(obj);
  EXPECT_EQ(render_pod_template(set, set.spec.shards[0], "")["spec"]["automountServiceAccountToken"], true);
}

json container_sc_for(const json& tpl) {
  json obj = electric_test::sample_object();
  obj["spec"]["template"] = tpl;
  ShardSet set = electric_test::parse_ok(obj);
  return render_pod_template(set, set.spec.shards[0], "")["spec"]["containers"][0]["securityContext"];
}

TEST(RenderPodTemplate, UserSecurityContextMergesOverTheDefaults) {
  EXPECT_EQ(container_sc_for(json::parse(R"({"securityContext": {
                "runAsUser": 65534, "capabilities": {"add": ["NET_BIND_SERVICE"]},
                "seccompProfile": {"type": "Localhost", "localhostProfile": "electric.json"}}})")),
            json::parse(R"({"allowPrivilegeEscalation": false, "runAsUser": 65534,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                "seccompProfile": {"type": "Localhost", "localhostProfile": "electric.json"}})"));
  // The user's own values win, lists replace.
  EXPECT_EQ(container_sc_for(json::parse(R"({"securityContext": {
                "allowPrivilegeEscalation": true, "capabilities": {"drop": ["NET_RAW"]}}})")),
            json::parse(R"({"allowPrivilegeEscalation": true, "capabilities": {"drop": ["NET_RAW"]},
                "seccompProfile": {"type": "RuntimeDefault"}})"));
}

TEST(RenderPodTemplate, APodSeccompProfileIsNotOverriddenByTheContainerDefault) {
  EXPECT_EQ(container_sc_for(json::parse(R"({"podSecurityContext": {
                "seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}})")),
            json::parse(R"({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}})"));
}

TEST(RenderPodTemplate, NoEscalationDefaultNextToWhatImpliesIt) {
  // The API server refuses allowPrivilegeEscalation: false with either.
  EXPECT_FALSE(container_sc_for(json::parse(R"({"securityContext": {"privileged": true}})"))
                   .contains("allowPrivilegeEscalation"));
  for (const char* cap : {"SYS_ADMIN", "CAP_SYS_ADMIN"})
    EXPECT_FALSE(container_sc_for({{"securityContext", {{"capabilities", {{"add", json::array({cap})}}}}}})
                     .contains("allowPrivilegeEscalation"))
        << cap;
  EXPECT_EQ(container_sc_for(json::parse(R"({"securityContext": {"privileged": false}})"))["allowPrivilegeEscalation"],
            false);
  // A wrong type is the API server's to refuse, not a reason to throw.
  EXPECT_EQ(container_sc_for(json::parse(R"({"securityContext": {"privileged": "yes",
                "capabilities": {"add": "SYS_ADMIN"}}})"))["privileged"], "yes");
}

TEST(RenderDeployment, Probes) {
  ShardSet set = electric_test::sample_set();
  const json c = render_deployment(set, set.spec.shards[0], "h")["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["livenessProbe"]["httpGet"], json({{"path", "/v1/health"}, {"port", "http"}}));
  const json& command = c["readinessProbe"]["exec"]["command"];
  ASSERT_EQ(command.size(), 3u);
  EXPECT_EQ(command[0], "sh");
  EXPECT_EQ(command[1], "-c");
  EXPECT_EQ(command[2], readiness_command());
  EXPECT_EQ(readiness_command(),
            "curl -s -o /dev/null --max-time 4 -w '%{http_code}' http://127.0.0.1:3000/v1/health | grep -qx 200");
  EXPECT_GT(c["readinessProbe"]["timeoutSeconds"].get<int>(), 4);  // curl --max-time 4 fits
  EXPECT_EQ(c["startupProbe"]["httpGet"]["path"], "/v1/health");
}

TEST(RenderDeployment, TemplateFieldsWhenSet) {
  json obj = electric_test::sample_object();
  obj["spec"]["imagePullSecrets"] = json::parse(R"([{"name":"regcred"}])");
  obj["spec"]["template"] = json::parse(R"({
    "resources": {"limits": {"memory": "2Gi"}},
    "podAnnotations": {"prometheus.io/scrape": "true", "electric-operator.dev/config-hash": "user-tries"},
    "podLabels": {"team": "sync", "electric-operator.dev/shard": "hijack", "app.kubernetes.io/instance": "x"},
    "nodeSelector": {"disk": "ssd"}, "tolerations": [{"key": "k", "operator": "Exists"}],
    "affinity": {"podAntiAffinity": {}}, "serviceAccountName": "electric", "priorityClassName": "high",
    "podSecurityContext": {"fsGroup": 1000}, "securityContext": {"runAsNonRoot": true}})");
  obj["spec"]["shards"][1]["resources"] = {{"limits", {{"memory", "8Gi"}}}};
  ShardSet set = electric_test::parse_ok(obj);
  json tpl = render_pod_template(set, set.spec.shards[0], "hash0");
  json labels = expected_labels("0");
  labels["team"] = "sync";
  EXPECT_EQ(tpl["metadata"]["labels"], labels);
  EXPECT_EQ(tpl["metadata"]["annotations"], json({{"prometheus.io/scrape", "true"},
                                                   {"electric-operator.dev/config-hash", "hash0"}}));
  const json& pod = tpl["spec"];
  EXPECT_EQ(pod["nodeSelector"], json({{"disk", "ssd"}}));
  EXPECT_EQ(pod["tolerations"][0]["key"], "k");
  EXPECT_TRUE(pod["affinity"].contains("podAntiAffinity"));
  EXPECT_EQ(pod["serviceAccountName"], "electric");
  EXPECT_EQ(pod["priorityClassName"], "high");
  EXPECT_EQ(pod["securityContext"], json({{"fsGroup", 1000}}));
  EXPECT_EQ(pod["imagePullSecrets"], json::parse(R"([{"name":"regcred"}])"));
  EXPECT_EQ(pod["containers"][0]["securityContext"],
            json::parse(R"({"runAsNonRoot": true, "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}})"));
  EXPECT_EQ(pod["containers"][0]["resources"], json({{"limits", {{"memory", "2Gi"}}}}));
  EXPECT_EQ(render_pod_template(set, set.spec.shards[1], "h")["spec"]["containers"][0]["resources"],
            json({{"limits", {{"memory", "8Gi"}}}}));
  // An empty hash leaves the annotation out entirely.
  EXPECT_EQ(render_pod_template(set, set.spec.shards[0], "")["metadata"]["annotations"],
            json({{"prometheus.io/scrape", "true"}}));
}

TEST(RenderNetworkPolicy, AdmitsOnlyTheListedPeersToElectricsPort) {
  json obj = electric_test::sample_object();
  obj["spec"]["networkPolicy"] = json::parse(R"({"enabled": true, "from": [
      {"podSelector": {"matchLabels": {"app": "api"}}},
      {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "edge"}}}]})");
  ShardSet set = electric_test::parse_ok(obj);
  json np = render_network_policy(set);
  EXPECT_EQ(np["apiVersion"], "networking.k8s.io/v1");
  EXPECT_EQ(np["kind"], "NetworkPolicy");
  EXPECT_EQ(np["metadata"]["name"], "myapp-network-policy");
  EXPECT_EQ(np["metadata"]["ownerReferences"], expected_owner());
  EXPECT_EQ(np["metadata"]["labels"]["electric-operator.dev/shard-set"], "myapp");
  // Selects every shard pod of the set, whatever the shard.
  const json& selector = np["spec"]["podSelector"]["matchLabels"];
  EXPECT_EQ(selector, json({{"electric-operator.dev/shard-set", "myapp"}}));
  for (const auto& [k, v] : selector.items())
    EXPECT_EQ(render_pod_template(set, set.spec.shards[1], "")["metadata"]["labels"][k], v);
  EXPECT_EQ(np["spec"]["policyTypes"], json::array({"Ingress"}));
  EXPECT_EQ(np["spec"]["ingress"], json::parse(R"([{"ports": [{"protocol": "TCP", "port": 3000}], "from": [
      {"podSelector": {"matchLabels": {"app": "api"}}},
      {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "edge"}}}]}])"));
}

TEST(RenderNetworkPolicy, NoPeersAdmitsNoOne) {
  json obj = electric_test::sample_object();
  obj["spec"]["networkPolicy"] = {{"enabled", true}};
  ShardSet set = electric_test::parse_ok(obj);
  // Not one rule without "from", which Kubernetes reads as "from anywhere".
  const json spec = render_network_policy(set)["spec"];
  EXPECT_FALSE(spec.contains("ingress"));
  EXPECT_EQ(spec["policyTypes"], json::array({"Ingress"}));
}

TEST(RenderService, TypePortSelector) {
  ShardSet set = electric_test::sample_set();
  json svc = render_service(set, set.spec.shards[2]);
  expect_owned_fields_only(svc);
  EXPECT_EQ(svc["metadata"]["name"], "myapp-shard-2");
  EXPECT_EQ(svc["metadata"]["labels"], expected_labels("2"));
  EXPECT_EQ(svc["metadata"]["ownerReferences"], expected_owner());
  EXPECT_EQ(svc["spec"], json::parse(R"({"type":"ClusterIP",
      "selector":{"electric-operator.dev/shard-set":"myapp","electric-operator.dev/shard":"2"},
      "ports":[{"name":"http","port":3000,"targetPort":"http","protocol":"TCP"}]})"));
  set.spec.service = {"LoadBalancer", 80};
  svc = render_service(set, set.spec.shards[2]);
  EXPECT_EQ(svc["spec"]["type"], "LoadBalancer");
  EXPECT_EQ(svc["spec"]["ports"][0]["port"], 80);
}

TEST(Render, DeterministicBytes) {
  ShardSet a = electric_test::sample_set();
  ShardSet b = electric_test::sample_set();
  for (std::size_t i = 0; i < a.spec.shards.size(); ++i) {
    EXPECT_EQ(render_deployment(a, a.spec.shards[i], "h").dump(), render_deployment(b, b.spec.shards[i], "h").dump());
    EXPECT_EQ(render_service(a, a.spec.shards[i]).dump(), render_service(b, b.spec.shards[i]).dump());
    EXPECT_EQ(render_pvc(a, a.spec.shards[i], true).dump(), render_pvc(b, b.spec.shards[i], true).dump());
    EXPECT_EQ(render_shard_secret(a, a.spec.shards[i], kValues).dump(),
              render_shard_secret(b, b.spec.shards[i], kValues).dump());
  }
}

TEST(Render, NeverCopiesTheSetsLabelsOrAnnotations) {
  ShardSet set = electric_test::sample_set();  // the fixture's set has team=data and an instance label
  const Shard& shard = set.spec.shards[0];
  for (const json& obj : {render_deployment(set, shard, "h"), render_service(set, shard), render_pvc(set, shard, true),
                          render_shard_secret(set, shard, kValues), render_api_secret(set, "x")}) {
    std::string text = obj.dump();
    EXPECT_EQ(text.find("app.kubernetes.io/instance"), std::string::npos) << text;
    EXPECT_EQ(text.find("do not copy"), std::string::npos);
    EXPECT_EQ(text.find("\"team\""), std::string::npos);
  }
}

}  // namespace
}  // namespace electric
