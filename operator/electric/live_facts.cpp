#include "electric/live_facts.h"

#include "electric/constants.h"

namespace electric {

using nlohmann::json;

namespace {

int64_t int_at(const json& obj, const char* a, const char* b = nullptr) {
  if (!obj.is_object() || !obj.contains(a)) return 0;
  const json* v = &obj[a];
  if (b) {
    if (!v->is_object() || !v->contains(b)) return 0;
    v = &(*v)[b];
  }
  return v->is_number_integer() ? v->get<int64_t>() : 0;
}

}  // namespace

const json* electric_env_entry(const json& deployment, std::string_view name) {
  const json::json_pointer containers("/spec/template/spec/containers");
  if (!deployment.is_object() || !deployment.contains(containers) || !deployment[containers].is_array())
    return nullptr;
  for (const auto& c : deployment[containers]) {
    if (!c.is_object() || c.value("name", "") != kContainerName || !c.contains("env") || !c["env"].is_array())
      continue;
    for (const auto& e : c["env"]) {
      if (e.is_object() && e.value("name", "") == name) return &e;
    }
  }
  return nullptr;
}

DeploymentFacts deployment_facts(const json& deployment) {
  DeploymentFacts facts;
  if (!deployment.is_object()) return facts;
  facts.exists = true;
  facts.generation = int_at(deployment, "metadata", "generation");
  static const json kNone = json::object();
  const json& status = deployment.contains("status") ? deployment["status"] : kNone;
  facts.observed_generation = int_at(status, "observedGeneration");
  const json& spec = deployment.contains("spec") ? deployment["spec"] : kNone;
  facts.desired_replicas = spec.is_object() && spec.contains("replicas") ? int_at(spec, "replicas") : 1;
  facts.replicas = int_at(status, "replicas");
  facts.updated_replicas = int_at(status, "updatedReplicas");
  facts.available_replicas = int_at(status, "availableReplicas");
  const json* hash = &deployment;
  for (const char* key : {"spec", "template", "metadata", "annotations", ""}) {
    const std::string k = *key ? key : std::string(kAnnotationConfigHash);
    hash = hash && hash->is_object() && hash->contains(k) ? &(*hash)[k] : nullptr;
  }
  if (hash && hash->is_string()) facts.config_hash = hash->get<std::string>();
  if (status.is_object() && status.contains("conditions") && status["conditions"].is_array()) {
    for (const auto& c : status["conditions"]) {
      if (!c.is_object()) continue;
      const auto text = [&c](const char* key) {
        return c.contains(key) && c[key].is_string() ? c[key].get<std::string>() : std::string();
      };
      if (text("type") == "Progressing" && text("status") == "False" && text("reason") == "ProgressDeadlineExceeded")
        facts.progress_deadline_exceeded = true;
      if (text("type") == "ReplicaFailure" && text("status") == "True")
        facts.replica_failure = text("message").empty() ? text("reason") : text("message");
    }
  }
  const json* stream_id = electric_env_entry(deployment, kEnvReplicationStreamID);
  if (stream_id && stream_id->contains("value") && (*stream_id)["value"].is_string())
    facts.replication_stream_id = (*stream_id)["value"].get<std::string>();
  return facts;
}

PvcFacts pvc_facts(const json& pvc) {
  PvcFacts facts;
  const json::json_pointer storage("/spec/resources/requests/storage"), modes("/spec/accessModes"),
      storage_class("/spec/storageClassName");
  if (!pvc.is_object()) return facts;
  if (pvc.contains(storage) && pvc[storage].is_string()) facts.storage_request = pvc[storage].get<std::string>();
  if (pvc.contains(modes) && pvc[modes].is_array()) {
    for (const auto& m : pvc[modes])
      if (m.is_string()) facts.access_modes.push_back(m.get<std::string>());
  }
  if (pvc.contains(storage_class) && pvc[storage_class].is_string())
    facts.storage_class_name = pvc[storage_class].get<std::string>();
  return facts;
}

}  // namespace electric
