#include "electric/render.h"

#include <set>

#include "electric/constants.h"
#include "electric/database_url.h"
#include "electric/digest.h"
#include "electric/labels.h"
#include "electric/naming.h"

namespace electric {

using nlohmann::json;

namespace {

std::string str(std::string_view s) { return std::string(s); }

json metadata(const ShardSet& set, const std::string& name, const Labels& labels,
              bool with_owner_reference) {
  json meta = {{"name", name}, {"namespace", set.namespace_name}, {"labels", labels}};
  if (with_owner_reference) meta["ownerReferences"] = json::array({owner_reference(set)});
  return meta;
}

bool non_empty(const json& j) { return !j.is_null() && !j.empty(); }

json env_value(std::string_view name, std::string value) {
  return {{"name", str(name)}, {"value", std::move(value)}};
}

json env_from_secret(std::string_view name, const std::string& secret_name, std::string_view key) {
  return {{"name", str(name)},
          {"valueFrom", {{"secretKeyRef", {{"name", secret_name}, {"key", str(key)}}}}}};
}

json http_health_probe(int period, int timeout, int failures) {
  return {{"httpGet", {{"path", str(kHealthPath)}, {"port", str(kPortName)}}},
          {"periodSeconds", period},
          {"timeoutSeconds", timeout},
          {"failureThreshold", failures}};
}

// Keeps the last entry of each name: server-side apply keys these lists by
// name and rejects duplicates, and the last entry is what Kubernetes would
// have used anyway.
json last_entry_per_name(const json& entries) {
  json out = json::array();
  std::set<std::string> seen;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (!it->is_object() || !it->contains("name") || !(*it)["name"].is_string()) continue;
    if (!seen.insert((*it)["name"].get<std::string>()).second) continue;
    out.insert(out.begin(), *it);
  }
  return out;
}

bool has_member(const json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && !obj[key].is_null();
}

// The Kubernetes API refuses allowPrivilegeEscalation: false next to
// privileged: true or an added CAP_SYS_ADMIN (both imply escalation), so the
// default gives way when the user asks for either.
bool user_implies_privilege_escalation(const json& user) {
  if (has_member(user, "privileged") && user["privileged"] == true) return true;
  if (!has_member(user, "capabilities") || !has_member(user["capabilities"], "add")) return false;
  for (const auto& cap : user["capabilities"]["add"])
    if (cap == "SYS_ADMIN" || cap == "CAP_SYS_ADMIN") return true;
  return false;
}

}  // namespace

json container_security_context(const PodTemplate& t) {
  json sc = json::object();
  if (!user_implies_privilege_escalation(t.security_context)) sc["allowPrivilegeEscalation"] = false;
  sc["capabilities"] = {{"drop", json::array({"ALL"})}};
  // A container profile overrides the pod's: defaulting it when the user
  // chose one for the pod would silently replace the user's choice.
  if (!has_member(t.pod_security_context, "seccompProfile"))
    sc["seccompProfile"] = {{"type", "RuntimeDefault"}};
  // Merge patch (RFC 7396): the user's fields win, nested objects such as
  // capabilities merge, lists replace.
  if (t.security_context.is_object()) sc.merge_patch(t.security_context);
  return sc;
}

std::string set_field_path(const std::string& pod_template_path) {
  // The electric container is the only one, at index 0.
  static const std::pair<std::string, std::string> kSources[] = {
      {"spec.containers[0].securityContext", "spec.template.securityContext"},
      {"spec.securityContext", "spec.template.podSecurityContext"},
      {"metadata.annotations", "spec.template.podAnnotations"},
  };
  for (const auto& [pod_prefix, set_prefix] : kSources) {
    if (pod_template_path.rfind(pod_prefix, 0) != 0) continue;
    const std::string rest = pod_template_path.substr(pod_prefix.size());
    if (rest.empty() || rest[0] == '.' || rest[0] == '[') return set_prefix + rest;
  }
  return "the pod's " + pod_template_path;
}

std::map<std::string, std::string> shard_secret_data(const ShardSecretValues& values) {
  std::map<std::string, std::string> data{
      {str(kSecretKeyDatabaseURL), values.database_url},
      {str(kSecretKeyElectricSecret), values.electric_secret},
  };
  if (values.pooled_database_url) data[str(kSecretKeyPooledDatabaseURL)] = *values.pooled_database_url;
  return data;
}

json owner_reference(const ShardSet& set) {
  return {{"apiVersion", str(kApiVersion)}, {"kind", str(kKind)}, {"name", set.name},
          {"uid", set.uid}, {"controller", true}, {"blockOwnerDeletion", true}};
}

json render_shard_secret(const ShardSet& set, const Shard& shard, const ShardSecretValues& values) {
  json data = json::object();
  for (const auto& [key, value] : shard_secret_data(values)) data[key] = base64_encode(value);
  json meta = metadata(set, shard_child_name(set.name, shard.name), shard_labels(set.name, shard.name), true);
  if (auto url = parse_database_url(values.database_url))
    meta["annotations"][str(kAnnotationDatabaseServer)] = url->server();
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", meta},
          {"type", "Opaque"},
          {"data", data}};
}

json render_api_secret(const ShardSet& set, const std::string& secret_value) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", metadata(set, api_secret_name(set.name), set_labels(set.name, kComponentShard), true)},
          {"type", "Opaque"},
          {"data", {{str(kApiSecretKey), base64_encode(secret_value)}}}};
}

bool pvc_has_owner_reference(const ShardSet& set, bool shard_in_spec) {
  return applicable_retention(set, shard_in_spec) == RetentionPolicy::Delete;
}

json render_pvc(const ShardSet& set, const Shard& shard, bool with_owner_reference) {
  json spec = {{"accessModes", set.spec.storage.access_modes},
               {"resources", {{"requests", {{"storage", effective_storage_size(set, shard)}}}}}};
  if (!set.spec.storage.storage_class_name.empty())
    spec["storageClassName"] = set.spec.storage.storage_class_name;
  return {{"apiVersion", "v1"},
          {"kind", "PersistentVolumeClaim"},
          {"metadata", metadata(set, shard_pvc_name(set.name, shard.name),
                                shard_labels(set.name, shard.name), with_owner_reference)},
          {"spec", spec}};
}

json render_retained_pvc(const ShardSet& set, const std::string& shard_name, const PvcFacts& existing_pvc) {
  json spec = json::object();
  if (!existing_pvc.access_modes.empty()) spec["accessModes"] = existing_pvc.access_modes;
  if (!existing_pvc.storage_request.empty())
    spec["resources"] = {{"requests", {{"storage", existing_pvc.storage_request}}}};
  if (existing_pvc.storage_class_name) spec["storageClassName"] = *existing_pvc.storage_class_name;
  return {{"apiVersion", "v1"},
          {"kind", "PersistentVolumeClaim"},
          {"metadata", metadata(set, shard_pvc_name(set.name, shard_name),
                                shard_labels(set.name, shard_name), false)},
          {"spec", spec}};
}

std::string readiness_command() {
  // curl prints the status code (000 when nothing answers); only 200 passes.
  // --max-time stays under the probe's timeoutSeconds.
  return "curl -s -o /dev/null --max-time 4 -w '%{http_code}' http://127.0.0.1:" +
         str(kContainerPortString) + str(kHealthPath) + " | grep -qx 200";
}

json render_env(const ShardSet& set, const Shard& shard) {
  const std::string secret = shard_child_name(set.name, shard.name);
  json env = json::array({
      env_value(kEnvInstanceID, instance_id(set.namespace_name, set.name, shard.name)),
      env_value(kEnvReplicationStreamID, effective_stream_id(set, shard)),
      env_value(kEnvStorageDir, str(kStorageDir)),
      env_value(kEnvPort, str(kContainerPortString)),
      env_from_secret(kEnvDatabaseURL, secret, kSecretKeyDatabaseURL),
      env_from_secret(kEnvSecret, secret, kSecretKeyElectricSecret),
  });
  if (shard.pooled_database_url_secret_ref)
    env.push_back(env_from_secret(kEnvPooledDatabaseURL, secret, kSecretKeyPooledDatabaseURL));

  json user = json::array();
  for (const json* list : {&set.spec.pod_template.env, &shard.env}) {
    if (!list->is_array()) continue;
    for (const auto& e : *list) {
      // Validation refuses these; dropping them here too means no render can
      // ever point Electric at another database or turn its secret off.
      if (e.is_object() && e.contains("name") && e["name"].is_string() &&
          is_managed_env_name(e["name"].get<std::string>()))
        continue;
      user.push_back(e);
    }
  }
  for (auto& e : last_entry_per_name(user)) env.push_back(std::move(e));
  return env;
}

json render_pod_template(const ShardSet& set, const Shard& shard, const std::string& config_hash) {
  const PodTemplate& t = set.spec.pod_template;

  json labels = t.pod_labels;
  for (const auto& [k, v] : shard_labels(set.name, shard.name)) labels[k] = v;  // ours win
  labels.erase(str(kLabelInstanceForbidden));
  json annotations = t.pod_annotations;
  if (config_hash.empty())
    annotations.erase(str(kAnnotationConfigHash));
  else
    annotations[str(kAnnotationConfigHash)] = config_hash;

  json container = {
      {"name", str(kContainerName)},
      {"image", set.spec.image},
      {"imagePullPolicy", set.spec.image_pull_policy},
      {"ports", json::array({{{"name", str(kPortName)}, {"containerPort", kContainerPort}, {"protocol", "TCP"}}})},
      {"env", render_env(set, shard)},
      {"volumeMounts", json::array({{{"name", str(kDataVolumeName)}, {"mountPath", str(kStorageDir)}}})},
      // Startup gives Electric up to 5 minutes to open its storage before
      // liveness may restart it; 202 (starting, waiting for the lock) is alive.
      {"startupProbe", http_health_probe(5, 5, 60)},
      {"livenessProbe", http_health_probe(10, 5, 3)},
      {"readinessProbe",
       {{"exec", {{"command", json::array({"sh", "-c", readiness_command()})}}},
        {"periodSeconds", 5},
        {"timeoutSeconds", 5},
        {"failureThreshold", 3}}},
  };
  const json& resources = effective_resources(set, shard);
  if (non_empty(resources)) container["resources"] = resources;
  container["securityContext"] = container_security_context(t);

  json pod_spec = {
      {"containers", json::array({container})},
      {"volumes",
       json::array({{{"name", str(kDataVolumeName)},
                     {"persistentVolumeClaim", {{"claimName", shard_pvc_name(set.name, shard.name)}}}}})},
      {"terminationGracePeriodSeconds", kTerminationGracePeriodSeconds},
      // Service links would inject variables such as ELECTRIC_PORT=tcp://...
      // for a Service named "electric"; Electric reads ELECTRIC_* settings.
      {"enableServiceLinks", false},
      // Electric never calls the Kubernetes API; a token would only be a
      // credential to steal.
      {"automountServiceAccountToken", t.automount_service_account_token.value_or(false)},
  };
  if (!t.node_selector.empty()) pod_spec["nodeSelector"] = t.node_selector;
  if (non_empty(t.tolerations)) pod_spec["tolerations"] = t.tolerations;
  if (non_empty(t.affinity)) pod_spec["affinity"] = t.affinity;
  if (!t.service_account_name.empty()) pod_spec["serviceAccountName"] = t.service_account_name;
  if (!t.priority_class_name.empty()) pod_spec["priorityClassName"] = t.priority_class_name;
  if (non_empty(t.pod_security_context)) pod_spec["securityContext"] = t.pod_security_context;
  if (non_empty(set.spec.image_pull_secrets))
    pod_spec["imagePullSecrets"] = last_entry_per_name(set.spec.image_pull_secrets);

  json meta = {{"labels", labels}};
  if (!annotations.empty()) meta["annotations"] = annotations;
  return {{"metadata", meta}, {"spec", pod_spec}};
}

json render_deployment(const ShardSet& set, const Shard& shard, const std::string& config_hash) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", metadata(set, shard_child_name(set.name, shard.name),
                                shard_labels(set.name, shard.name), true)},
          {"spec",
           {{"replicas", 1},
            // One writer per replication slot and volume: the old pod stops
            // before the new one starts.
            {"strategy", {{"type", "Recreate"}}},
            {"selector", {{"matchLabels", shard_selector(set.name, shard.name)}}},
            {"template", render_pod_template(set, shard, config_hash)}}}};
}

json render_network_policy(const ShardSet& set) {
  json spec = {{"podSelector", {{"matchLabels", {{str(kLabelShardSet), set.name}}}}},
               {"policyTypes", json::array({"Ingress"})}};
  const json& from = set.spec.network_policy.from;
  // A rule without peers would mean "from anywhere"; no peers means no rule,
  // so no ingress at all. (The API server drops an empty list, so sending one
  // would look like drift on every reconcile.)
  if (from.is_array() && !from.empty())
    spec["ingress"] = json::array(
        {{{"from", from}, {"ports", json::array({{{"protocol", "TCP"}, {"port", kContainerPort}}})}}});
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", metadata(set, network_policy_name(set.name), set_labels(set.name, kComponentShard), true)},
          {"spec", spec}};
}

json render_service(const ShardSet& set, const Shard& shard) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", metadata(set, shard_child_name(set.name, shard.name),
                                shard_labels(set.name, shard.name), true)},
          {"spec",
           {{"type", set.spec.service.type},
            {"selector", shard_selector(set.name, shard.name)},
            {"ports", json::array({{{"name", str(kPortName)},
                                    {"port", set.spec.service.port},
                                    {"targetPort", str(kPortName)},
                                    {"protocol", "TCP"}}})}}}};
}

}  // namespace electric
