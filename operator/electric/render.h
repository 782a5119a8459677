// The desired children of a set, as server-side-apply bodies: only the
// fields the operator owns (apiVersion, kind, metadata name/namespace/labels/
// owned annotations/ownerReferences, and spec or data). Anything another
// field manager adds to a child is left alone by such an apply.
//
// Secret values are inputs: these functions read no cluster and make no
// randomness, so the same input gives the same bytes.
//
//   auto hash = electric::compute_config_hash(set, shard, values);   // config_hash.h
//   client.apply(kSecrets, ns, name, electric::render_shard_secret(set, shard, values));
//   client.apply(kDeployments, ns, name, electric::render_deployment(set, shard, hash));
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "electric/live_facts.h"
#include "electric/shard_set.h"

namespace electric {

// The values copied into the shard's Secret S-shard-X, read by the caller
// from the referenced Secrets.
struct ShardSecretValues {
  std::string database_url;
  std::string electric_secret;
  std::optional<std::string> pooled_database_url;
};

// key -> plain value of S-shard-X's data: DATABASE_URL, ELECTRIC_SECRET and,
// when given, ELECTRIC_POOLED_DATABASE_URL.
std::map<std::string, std::string> shard_secret_data(const ShardSecretValues& values);

// {apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true}.
nlohmann::json owner_reference(const ShardSet& set);

// Secret S-shard-X (type Opaque, data base64-encoded).
nlohmann::json render_shard_secret(const ShardSet& set, const Shard& shard,
                                   const ShardSecretValues& values);

// Secret S-api-secret with key "secret" = `secret_value` (the caller makes
// it once from 32 CSPRNG bytes, hex_encode()d, and never changes it).
nlohmann::json render_api_secret(const ShardSet& set, const std::string& secret_value);

// Whether the shard's PVC carries an ownerReference: only when the applicable
// retention policy (applicable_retention) is Delete.
bool pvc_has_owner_reference(const ShardSet& set, bool shard_in_spec);

// PVC S-shard-X-data: access modes, storage request (the shard's size or
// spec.storage.size) and storageClassName when set. Apply it only when the
// size does not shrink (see storage_shrink_problem in status.h).
nlohmann::json render_pvc(const ShardSet& set, const Shard& shard, bool with_owner_reference);

// The PVC of a shard no longer in spec under whenShardRemoved: Retain, with
// the spec fields copied from the live PVC and no ownerReference, so an
// apply drops only the ownerReference (and nothing the PVC still needs).
nlohmann::json render_retained_pvc(const ShardSet& set, const std::string& shard_name,
                                   const PvcFacts& existing_pvc);

// The pod template of S-shard-X (labels, annotations, the electric container,
// probes, volume, scheduling fields; no service-account token unless
// template.automountServiceAccountToken says so). An empty `config_hash` leaves the
// config-hash annotation out, which is what config_hash.h hashes.
nlohmann::json render_pod_template(const ShardSet& set, const Shard& shard,
                                   const std::string& config_hash);

// The electric container's securityContext: allowPrivilegeEscalation
// false, capabilities.drop [ALL] and seccompProfile RuntimeDefault (unless
// podSecurityContext names a profile), with template.securityContext merged
// over them. Whether the result is allowed is pod_security.h's question.
nlohmann::json container_security_context(const PodTemplate& t);

// Where a field of render_pod_template's result comes from in the set, for
// messages: "spec.containers[0].securityContext.privileged" ->
// "spec.template.securityContext.privileged"; likewise the pod's
// securityContext (template.podSecurityContext) and annotations
// (template.podAnnotations). Other paths are the operator's own and come
// back as "the pod's <path>".
std::string set_field_path(const std::string& pod_template_path);

// The env list of the electric container in api.md's order: instance ID,
// stream ID, storage dir, port, DATABASE_URL, ELECTRIC_SECRET, the pooled URL
// when given (secretKeyRefs into S-shard-X), template.env, then the shard's
// env. A name set twice by the user keeps its last entry only (apply lists
// are keyed by name); managed names from the user are dropped.
nlohmann::json render_env(const ShardSet& set, const Shard& shard);

// Deployment S-shard-X: replicas 1, strategy Recreate, selector on
// shard-set and shard, the pod template with the config-hash annotation.
nlohmann::json render_deployment(const ShardSet& set, const Shard& shard,
                                 const std::string& config_hash);

// NetworkPolicy S-network-policy: selects every shard pod of the set and
// admits ingress to Electric's port only from spec.networkPolicy.from
// (policyTypes Ingress only: egress needs DNS and the databases, which the
// operator cannot know the addresses of).
nlohmann::json render_network_policy(const ShardSet& set);

// Service S-shard-X: spec.service.type, port spec.service.port named http,
// targetPort http.
nlohmann::json render_service(const ShardSet& set, const Shard& shard);

// The readiness probe's shell command: true only on HTTP 200 from
// /v1/health (Electric answers 202 while starting or waiting for its lock).
std::string readiness_command();

}  // namespace electric
