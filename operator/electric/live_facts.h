// What the domain reads of a live child, as small structs: the caches keep
// only these fields of each Deployment and PVC (see app/caches.cpp), and
// reconcile_plan and status decide from them.
//
//   electric::DeploymentFacts d = electric::deployment_facts(live_deployment_json);
//   electric::PvcFacts p = electric::pvc_facts(live_pvc_json);
//
// Both read a whole object or a projection of it keeping the same paths.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace electric {

// What the reconciler saw of the shard's Deployment.
struct DeploymentFacts {
  bool exists = false;
  int64_t generation = 0;           // metadata.generation
  int64_t observed_generation = 0;  // status.observedGeneration
  int64_t desired_replicas = 1;     // spec.replicas
  int64_t replicas = 0;             // status.replicas (old and new pods)
  int64_t updated_replicas = 0;
  int64_t available_replicas = 0;
  bool progress_deadline_exceeded = false;  // condition Progressing=False, ProgressDeadlineExceeded
  // The message of condition ReplicaFailure=True ("" = none): the pod could
  // not be created, e.g. the namespace's Pod Security admission or a quota
  // refused it. Without it such a shard would sit in Progressing unexplained.
  std::string replica_failure;
  std::string config_hash;  // the live pod template's config-hash annotation
  // ELECTRIC_REPLICATION_STREAM_ID of its Electric container: names a removed
  // shard's slot when the status no longer lists it.
  std::optional<std::string> replication_stream_id;
};
// Reads those facts from a Deployment object; null or non-object = missing.
DeploymentFacts deployment_facts(const nlohmann::json& deployment);
// The env entry `name` of the Deployment's Electric container; null when absent.
const nlohmann::json* electric_env_entry(const nlohmann::json& deployment, std::string_view name);

// What the reconciler saw of a shard's PVC.
struct PvcFacts {
  std::string storage_request;  // spec.resources.requests.storage; "" when absent
  std::vector<std::string> access_modes;
  std::optional<std::string> storage_class_name;
};
PvcFacts pvc_facts(const nlohmann::json& pvc);

}  // namespace electric
