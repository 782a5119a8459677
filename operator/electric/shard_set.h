// The ElectricShardSet as the operator sees it: a typed model of the object,
// its parser (which re-applies the CRD's defaults, since objects written
// before a default existed lack it) and its validation (which re-checks
// every rule the API server enforces, because a CRD installed without its CEL
// rules, or an object written before a rule existed, must still be refused
// with a readable message rather than crash a child).
//
//   electric::ParsedShardSet parsed = electric::parse_shard_set(object);
//   if (parsed.has_set_wide_errors()) -> set Degraded, no child writes
//   for (const auto& shard : parsed.set.spec.shards)
//     if (auto errs = parsed.errors_for_shard(shard.name); !errs.empty())
//       -> that shard Failed (reason InvalidSpec), the others go on
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "electric/constants.h"

namespace electric {

struct SecretKeyRef {
  std::string name;  // Secret in the set's namespace
  std::string key;
  friend bool operator==(const SecretKeyRef& a, const SecretKeyRef& b) {
    return a.name == b.name && a.key == b.key;
  }
};

enum class RetentionPolicy { Retain, Delete };
const char* to_string(RetentionPolicy policy);

struct PersistentVolumeClaimRetentionPolicy {
  RetentionPolicy when_deleted = RetentionPolicy::Retain;
  RetentionPolicy when_shard_removed = RetentionPolicy::Retain;
};

// spec.replicationSlotRetentionPolicy. Delete by default, unlike volumes: a
// lost volume costs a resync, a forgotten slot holds WAL until the
// database's disk fills (api.md, "Replication slots").
struct ReplicationSlotRetentionPolicy {
  RetentionPolicy when_deleted = RetentionPolicy::Delete;
  RetentionPolicy when_shard_removed = RetentionPolicy::Delete;
};

struct StorageSpec {
  std::string size{kDefaultStorageSize};
  std::string storage_class_name;  // "" = the cluster's default class
  std::vector<std::string> access_modes{std::string(kDefaultAccessMode)};
};

struct ServiceSpec {
  std::string type{kDefaultServiceType};
  int64_t port = kDefaultServicePort;
};

// spec.template. corev1 pass-through fields stay JSON: the operator copies
// them into the pod unchanged and never interprets them.
struct PodTemplate {
  nlohmann::json resources = nlohmann::json::object();  // ResourceRequirements
  nlohmann::json env = nlohmann::json::array();         // []EnvVar
  std::map<std::string, std::string> pod_annotations;
  std::map<std::string, std::string> pod_labels;
  std::map<std::string, std::string> node_selector;
  nlohmann::json tolerations = nlohmann::json::array();         // []Toleration
  nlohmann::json affinity = nlohmann::json::object();           // Affinity
  std::string service_account_name;
  std::string priority_class_name;
  nlohmann::json pod_security_context = nlohmann::json::object();  // PodSecurityContext
  nlohmann::json security_context = nlohmann::json::object();      // the container's
  // Unset = false: Electric never calls the Kubernetes API, so a mounted
  // token would only be something to steal.
  std::optional<bool> automount_service_account_token;
};

struct Shard {
  std::string name;
  SecretKeyRef database_url_secret_ref;
  std::optional<SecretKeyRef> pooled_database_url_secret_ref;
  std::optional<std::string> replication_stream_id;  // explicit override
  nlohmann::json resources = nlohmann::json::object();  // {} = use template.resources
  std::optional<std::string> storage_size;             // overrides spec.storage.size
  nlohmann::json env = nlohmann::json::array();         // appended after template.env
};

// spec.networkPolicy: when enabled, a NetworkPolicy admits ingress to
// Electric's port from `from` only (corev1 NetworkPolicyPeer list, passed
// through; empty admits nothing). Egress is left alone.
struct NetworkPolicySpec {
  bool enabled = false;
  nlohmann::json from = nlohmann::json::array();
};

struct ShardSetSpec {
  std::string image{kDefaultImage};
  std::string image_pull_policy{kDefaultImagePullPolicy};
  nlohmann::json image_pull_secrets = nlohmann::json::array();  // []LocalObjectReference
  std::optional<SecretKeyRef> api_secret_ref;
  std::vector<Shard> shards;  // spec order matters (routing ConfigMap order)
  PodTemplate pod_template;   // spec.template
  StorageSpec storage;
  ServiceSpec service;
  PersistentVolumeClaimRetentionPolicy pvc_retention;
  ReplicationSlotRetentionPolicy slot_retention;
  std::string routing_config_map_name;  // defaulted to "<set>-routing"
  NetworkPolicySpec network_policy;
  // spec.databaseChecks: Enabled (true, the default) or Disabled.
  bool database_checks = true;
  // spec.walRetentionThreshold: a slot that keeps more WAL than this is
  // reported (WALRetentionHigh), in bytes.
  std::string wal_retention_threshold = "10Gi";
  int64_t wal_retention_threshold_bytes = int64_t{10} << 30;
  bool paused = false;
};

struct ShardSet {
  std::string name;
  std::string namespace_name;
  std::string uid;
  // RFC 3339 as the API server writes it ("2024-05-01T12:00:00Z"); compared
  // as text, which orders correctly for that fixed format.
  std::string creation_timestamp;
  int64_t generation = 0;
  bool being_deleted = false;  // metadata.deletionTimestamp is set
  // metadata.finalizers holds kFinalizerReplicationSlots.
  bool has_slot_finalizer = false;
  // metadata.annotations[kAnnotationSkipSlotCleanup] is "true": the user
  // releases the finalizer without the slots being dropped.
  bool skip_slot_cleanup = false;
  ShardSetSpec spec;

  const Shard* find_shard(const std::string& shard_name) const;
};

// One broken rule, with the field path a user would look at.
struct FieldError {
  std::string path;     // "spec.shards[2].replicationStreamID"
  std::string message;  // "must match ^[a-z_][a-z0-9_]{0,41}$ ..."
  // The shard the error is confined to ("" = it concerns the whole set). A
  // shard-confined error fails that shard only.
  std::string shard;

  std::string describe() const { return path + ": " + message; }
  friend bool operator==(const FieldError& a, const FieldError& b) {
    return a.path == b.path && a.message == b.message && a.shard == b.shard;
  }
};

// The parsed set (best effort: fields of the wrong type fall back to their
// defaults) plus every error found while parsing and validating.
struct ParsedShardSet {
  ShardSet set;
  std::vector<FieldError> errors;
  // Fields of spec, its shards and their sub-objects that the schema does
  // not define ("spec.shard: unknown field (did you mean spec.shards?)").
  // Not in `errors`: the API server prunes such fields (or refuses them
  // under strict field validation), so in a cluster they mean nothing; the
  // offline `render` reports them, since there a typo would vanish silently.
  std::vector<FieldError> unknown_fields;
  // Per shard name (its first entry), a digest of all of the object that
  // its children are rendered from: metadata name, namespace and uid, spec
  // but the other shards. Equal keys and equal Secret values, equal children
  // (RenderMemo); not a function of metadata.generation, so an edit to one
  // shard leaves the others' keys as they were.
  std::map<std::string, std::string> render_keys;

  bool ok() const { return errors.empty(); }
  // Any error not confined to one shard: the operator writes no child.
  bool has_set_wide_errors() const;
  std::vector<FieldError> set_wide_errors() const;
  std::vector<FieldError> errors_for_shard(const std::string& shard_name) const;
};

// Parses an ElectricShardSet object (as JSON from the API server or a YAML
// file), applies the CRD's defaults, and runs validate(). Never throws on
// bad input.
ParsedShardSet parse_shard_set(const nlohmann::json& object);

// Every rule of api.md's "Rejected by the API server" list that can be
// checked on one object, plus the enums of the schema. Shard-confined
// errors carry the shard's name.
std::vector<FieldError> validate(const ShardSet& set);

// The rules that need the previous object: an explicit replicationStreamID,
// once set, may not change or be removed (slot and publication names hang on
// it). Shards are matched by name, as the CRD's listType=map does.
std::vector<FieldError> validate_transition(const ShardSet& previous, const ShardSet& next);

// "spec.shards[1].name: ...; spec.storage.size: ..." for a condition message.
std::string describe_errors(const std::vector<FieldError>& errors);

// The resources of the shard's container: the shard's own when non-empty,
// else the template's.
const nlohmann::json& effective_resources(const ShardSet& set, const Shard& shard);
// The PVC size the shard asks for: the shard's override, else spec.storage.size.
const std::string& effective_storage_size(const ShardSet& set, const Shard& shard);
// Where ELECTRIC_SECRET comes from: spec.apiSecretRef, else the generated
// Secret S-api-secret, key "secret".
SecretKeyRef api_secret_source(const ShardSet& set);
// Names of the Secrets the set reads (database URLs, pooled URLs, the API
// secret), sorted and unique: what the operator's Secret watch maps back to
// this set.
std::vector<std::string> referenced_secret_names(const ShardSet& set);

// Retention policy that applies to a shard's PVC: whenDeleted while the shard
// is in spec (it decides the ownerReference), whenShardRemoved once it is not.
RetentionPolicy applicable_retention(const ShardSet& set, bool shard_in_spec);

}  // namespace electric
