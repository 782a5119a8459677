// Every name, label key and default of the ElectricShardSet API, written once.
//
// The contract is shared/design/api.md; anything that spells a group, label
// key, env name or default elsewhere should include this header instead.
//
//   labels[electric::kLabelShardSet] = set.name;
//   if (electric::is_managed_env_name(e["name"])) ...
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace electric {

// --- The resource -----------------------------------------------------------
inline constexpr std::string_view kGroup = "electric-operator.dev";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kApiVersion = "electric-operator.dev/v1alpha1";
inline constexpr std::string_view kKind = "ElectricShardSet";
inline constexpr std::string_view kPlural = "electricshardsets";
inline constexpr std::string_view kSingular = "electricshardset";
inline constexpr std::string_view kShortName = "ess";
inline constexpr std::string_view kCategory = "electric";

// Field manager of every write (the app hands it to kube::Client).
inline constexpr std::string_view kFieldManager = "electric-operator";

// --- Labels and annotations on children ----------------------------------------
inline constexpr std::string_view kLabelName = "app.kubernetes.io/name";
inline constexpr std::string_view kLabelNameValue = "electric";
inline constexpr std::string_view kLabelManagedBy = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kLabelManagedByValue = "electric-operator";
inline constexpr std::string_view kLabelComponent = "app.kubernetes.io/component";
inline constexpr std::string_view kComponentShard = "shard";
inline constexpr std::string_view kComponentRouting = "routing";
inline constexpr std::string_view kLabelShardSet = "electric-operator.dev/shard-set";
inline constexpr std::string_view kLabelShard = "electric-operator.dev/shard";
// Never put on a child: GitOps tools use it to track and prune their own
// objects, and children belong to the operator, not to the user's Git tree.
inline constexpr std::string_view kLabelInstanceForbidden = "app.kubernetes.io/instance";

// On a set whose slots are dropped when it is deleted (whenDeleted: Delete):
// the set stays until they are (api.md, "Replication slots").
inline constexpr std::string_view kFinalizerReplicationSlots = "electric-operator.dev/replication-slots";
// Set to "true" on a set, it releases that finalizer without dropping slots.
inline constexpr std::string_view kAnnotationSkipSlotCleanup = "electric-operator.dev/skip-replication-slot-cleanup";
// On a shard's Secret: host:port of the server its DATABASE_URL names, so a
// removed shard's slot can be listed by server without reading the Secret.
inline constexpr std::string_view kAnnotationDatabaseServer = "electric-operator.dev/database-server";

// Pod template annotation whose change rolls the pod (see config_hash.h).
inline constexpr std::string_view kAnnotationConfigHash = "electric-operator.dev/config-hash";

// --- The Electric container ---------------------------------------------------
inline constexpr std::string_view kContainerName = "electric";
inline constexpr std::string_view kPortName = "http";
// Electric listens here inside the pod (ELECTRIC_PORT); spec.service.port is
// only the Service's port.
inline constexpr int kContainerPort = 3000;
inline constexpr std::string_view kContainerPortString = "3000";
inline constexpr std::string_view kStorageDir = "/var/lib/electric/data";
inline constexpr std::string_view kDataVolumeName = "data";
inline constexpr std::string_view kHealthPath = "/v1/health";
// Electric may take a while to flush its shape log on SIGTERM.
inline constexpr int64_t kTerminationGracePeriodSeconds = 60;

// Env variables the operator sets; users may not set them (api.md).
inline constexpr std::string_view kEnvDatabaseURL = "DATABASE_URL";
inline constexpr std::string_view kEnvPooledDatabaseURL = "ELECTRIC_POOLED_DATABASE_URL";
inline constexpr std::string_view kEnvSecret = "ELECTRIC_SECRET";
inline constexpr std::string_view kEnvInsecure = "ELECTRIC_INSECURE";
inline constexpr std::string_view kEnvInstanceID = "ELECTRIC_INSTANCE_ID";
inline constexpr std::string_view kEnvReplicationStreamID = "ELECTRIC_REPLICATION_STREAM_ID";
inline constexpr std::string_view kEnvStorageDir = "ELECTRIC_STORAGE_DIR";
inline constexpr std::string_view kEnvPort = "ELECTRIC_PORT";
// Not set by the operator, but refused all the same: they would point
// Electric's queries at another database (runtime.exs reads it as a legacy
// ELECTRIC_POOLED_DATABASE_URL), or make the slot temporary, dropped on
// shutdown and, with a random name, unknown to the operator.
inline constexpr std::string_view kEnvQueryDatabaseURL = "ELECTRIC_QUERY_DATABASE_URL";
inline constexpr std::string_view kEnvCleanupSlotsOnShutdown = "CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN";
inline constexpr std::string_view kEnvRandomTemporarySlotName = "ELECTRIC_TEMPORARY_REPLICATION_SLOT_USE_RANDOM_NAME";

inline constexpr std::array<std::string_view, 11> kManagedEnvNames = {
    kEnvDatabaseURL,      kEnvPooledDatabaseURL,      kEnvSecret,
    kEnvInsecure,         kEnvInstanceID,             kEnvReplicationStreamID,
    kEnvStorageDir,       kEnvPort,                   kEnvQueryDatabaseURL,
    kEnvCleanupSlotsOnShutdown, kEnvRandomTemporarySlotName,
};

constexpr bool is_managed_env_name(std::string_view name) {
  for (auto managed : kManagedEnvNames)
    if (managed == name) return true;
  return false;
}

// --- Keys of the Secrets the operator writes -------------------------------------
// The per-shard Secret S-shard-X uses the env names as keys, so the
// Deployment's secretKeyRef reads like the variable it fills.
inline constexpr std::string_view kSecretKeyDatabaseURL = kEnvDatabaseURL;
inline constexpr std::string_view kSecretKeyElectricSecret = kEnvSecret;
inline constexpr std::string_view kSecretKeyPooledDatabaseURL = kEnvPooledDatabaseURL;
// Key of S-api-secret.
inline constexpr std::string_view kApiSecretKey = "secret";
// 32 random bytes, hex-encoded to 64 characters.
inline constexpr int kApiSecretRandomBytes = 32;

// --- Routing ConfigMap --------------------------------------------------------
inline constexpr std::string_view kRoutingShardsKey = "shards.json";
inline constexpr std::string_view kDefaultClusterDomain = "cluster.local";

// --- Defaults the CRD applies (and the parser re-applies for old objects) -----------
inline constexpr std::string_view kDefaultImage = "electricsql/electric:1.7.12";
inline constexpr std::string_view kDefaultImagePullPolicy = "IfNotPresent";
inline constexpr std::string_view kDefaultStorageSize = "10Gi";
inline constexpr std::string_view kDefaultAccessMode = "ReadWriteOnce";
inline constexpr std::string_view kDefaultServiceType = "ClusterIP";
inline constexpr int kDefaultServicePort = 3000;
inline constexpr std::string_view kRetentionRetain = "Retain";
inline constexpr std::string_view kRetentionDelete = "Delete";

// --- Limits -------------------------------------------------------------------
inline constexpr int kMinShards = 1;
inline constexpr int kMaxShards = 512;
// Longest child name is "S-shard-X-data" (11 extra characters); 50 keeps every
// child name a valid 63-character DNS label with room to spare.
inline constexpr int kMaxSetPlusShardNameLength = 50;
inline constexpr int kMaxStreamIDLength = 42;
// Derived IDs longer than kMaxStreamIDLength keep this many characters, then
// '_' and kStreamIDHashHexDigits hex digits of SHA-256 (33 + 1 + 8 = 42).
inline constexpr int kStreamIDPrefixLength = 33;
inline constexpr int kStreamIDHashHexDigits = 8;

// --- Child name parts -----------------------------------------------------------
inline constexpr std::string_view kShardInfix = "-shard-";
inline constexpr std::string_view kDataSuffix = "-data";
inline constexpr std::string_view kApiSecretSuffix = "-api-secret";
inline constexpr std::string_view kRoutingSuffix = "-routing";
inline constexpr std::string_view kNetworkPolicySuffix = "-network-policy";

}  // namespace electric
