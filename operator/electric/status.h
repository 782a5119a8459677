// Shard phases and set conditions from observed facts, and the status
// object the operator writes. Pure: facts and the current time come in as
// values, and the JSON is deterministic, so "did the status change?" is a
// plain comparison with what the API server has.
//
//   electric::ShardFacts facts;   // filled by the reconciler from its cache
//   facts.deployment = electric::deployment_facts(live_deployment_json);
//   shards.push_back(electric::compute_shard_status(set, shard, facts, cluster_domain));
//   json status = electric::status_to_json(electric::compute_status(
//       set, shards, retained, slots, set_wide_errors, pending_shards, live["status"], now_rfc3339));
//   if (status != live["status"]) client.update_status(...);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "electric/database_check.h"
#include "electric/live_facts.h"
#include "electric/shard_set.h"

namespace electric {

// --- Reasons (CamelCase, as Events and conditions spell them) -----------------
// Shard level.
inline constexpr std::string_view kReasonInvalidSpec = "InvalidSpec";
inline constexpr std::string_view kReasonSecretNotFound = "SecretNotFound";
inline constexpr std::string_view kReasonInvalidDatabaseURL = "InvalidDatabaseURL";
inline constexpr std::string_view kReasonInvalidAPISecret = "InvalidAPISecret";
inline constexpr std::string_view kReasonReplicationStreamConflict = "ReplicationStreamConflict";
inline constexpr std::string_view kReasonStreamIDChangeNotSupported = "StreamIDChangeNotSupported";
inline constexpr std::string_view kReasonStorageShrinkNotSupported = "StorageShrinkNotSupported";
inline constexpr std::string_view kReasonPodSecurityViolation = "PodSecurityViolation";
inline constexpr std::string_view kReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded";
inline constexpr std::string_view kReasonPodCreationFailed = "PodCreationFailed";
inline constexpr std::string_view kReasonRejectedByAPIServer = "RejectedByAPIServer";
inline constexpr std::string_view kReasonPaused = "Paused";
inline constexpr std::string_view kReasonCreating = "Creating";
inline constexpr std::string_view kReasonRollingOut = "RollingOut";
inline constexpr std::string_view kReasonStarting = "Starting";
inline constexpr std::string_view kReasonAvailable = "Available";
// Set level.
inline constexpr std::string_view kConditionReady = "Ready";
inline constexpr std::string_view kConditionProgressing = "Progressing";
inline constexpr std::string_view kConditionDegraded = "Degraded";
inline constexpr std::string_view kConditionPaused = "Paused";
inline constexpr std::string_view kReasonAllShardsReady = "AllShardsReady";
inline constexpr std::string_view kReasonShardsNotReady = "ShardsNotReady";
inline constexpr std::string_view kReasonStable = "Stable";
inline constexpr std::string_view kReasonAsExpected = "AsExpected";
inline constexpr std::string_view kReasonShardsFailing = "ShardsFailing";
inline constexpr std::string_view kReasonPausedByUser = "PausedByUser";
inline constexpr std::string_view kReasonPausedWithPendingChanges = "PausedWithPendingChanges";
inline constexpr std::string_view kReasonReconciling = "Reconciling";

enum class ShardPhase { Pending, Progressing, Ready, Failed };
const char* to_string(ShardPhase phase);


// Everything that decides one shard's phase. Problems are messages without
// secret values; the first present one (in this order) decides.
struct ShardFacts {
  std::vector<FieldError> spec_errors;                // Failed, InvalidSpec
  std::optional<std::string> pod_security_problem;    // Failed, PodSecurityViolation
  std::optional<std::string> secret_problem;          // Pending, SecretNotFound
  std::optional<std::string> database_url_problem;    // Failed, InvalidDatabaseURL
  std::optional<std::string> api_secret_problem;      // Failed, InvalidAPISecret
  std::optional<std::string> stream_conflict;         // Failed, ReplicationStreamConflict
  std::optional<std::string> stream_id_change;        // Failed, StreamIDChangeNotSupported
  // Reported (reason StorageShrinkNotSupported) while the phase still
  // follows the Deployment, which keeps running on the unchanged PVC.
  std::optional<std::string> storage_shrink;
  // The database checks' latest outcome (database_check.h), when the set
  // has them on. A shard without a Deployment waits for its first outcome
  // (Pending, CheckingDatabase) and gets none on a definitive failure
  // (Failed); a running shard is only reported, its phase still following
  // the Deployment.
  std::optional<DatabaseCheck> database_check;
  bool awaiting_database_check = false;
  DeploymentFacts deployment;
  // The config hash the operator wants on the pod template (config_hash.h);
  // when given and different from the live one, the shard is not "updated"
  // yet (or, while paused, runs an older template).
  std::optional<std::string> desired_config_hash;

  // A shard not running yet that the database checks hold back: its first
  // outcome is still to come, or it is a definitive failure.
  bool database_holds_new_shard() const {
    return !deployment.exists &&
           (awaiting_database_check || (database_check && database_check->blocks_new_shard()));
  }
};

// "Secret \"pg-0\" not found" / "Secret \"pg-0\" has no key \"url\"" (names only).
std::string secret_not_found_message(const SecretKeyRef& ref);
std::string secret_key_missing_message(const SecretKeyRef& ref);
// "Secret \"pg-0\" key \"url\" is not valid base64" (the value is never shown).
std::string secret_not_base64_message(const SecretKeyRef& ref);
// A message when the running Electric's stream ID (`live`, from its
// Deployment) differs from the one spec gives (`desired`); none otherwise.
std::optional<std::string> stream_id_change_problem(const std::string& desired, const std::optional<std::string>& live);
// Why an empty API secret (apiSecretRef's key) is refused, and what to do.
std::string empty_api_secret_message(const SecretKeyRef& ref);
// A message when `desired` is smaller than the PVC's `current` request; none
// when it grows, stays or either side is not a quantity.
std::optional<std::string> storage_shrink_problem(const std::string& desired, const std::string& current);

struct ShardStatus {
  std::string name;
  ShardPhase phase = ShardPhase::Pending;
  bool ready = false;
  std::string reason;
  std::string message;
  std::string instance_id;
  std::string replication_stream_id;
  std::string url;

  // Counts toward Degraded=True: a problem a user has to fix or look at.
  bool failing() const;
  friend bool operator==(const ShardStatus& a, const ShardStatus& b);
};

ShardStatus compute_shard_status(const ShardSet& set, const Shard& shard, const ShardFacts& facts,
                                 std::string_view cluster_domain);

// metav1.Condition.
struct Condition {
  std::string type;
  std::string status;  // "True" | "False" | "Unknown"
  std::string reason;
  std::string message;
  int64_t observed_generation = 0;
  std::string last_transition_time;  // RFC 3339

  friend bool operator==(const Condition& a, const Condition& b);
};

// Ready, Progressing, Degraded and Paused, in that order, with
// observedGeneration = set.generation and no lastTransitionTime (see
// merge_conditions). `set_wide_errors` non-empty means the spec as a whole
// is refused: Ready=False and Degraded=True with reason InvalidSpec.
// `pending_shards` names the shards whose children would be written if the
// set were not paused (spec order, then removed shards); while paused and
// non-empty, Ready=False with reason PausedWithPendingChanges, since Ready
// means every shard runs the current spec.
std::vector<Condition> compute_set_conditions(const ShardSet& set,
                                              const std::vector<ShardStatus>& shards,
                                              const std::vector<FieldError>& set_wide_errors,
                                              const std::vector<std::string>& pending_shards);

// `next` with each condition's lastTransitionTime taken from `previous` when
// a condition of that type had the same status there, else `now`.
std::vector<Condition> merge_conditions(const std::vector<Condition>& previous,
                                        std::vector<Condition> next, std::string_view now);

struct RetainedVolume {
  std::string shard;
  std::string persistent_volume_claim;
  friend bool operator==(const RetainedVolume& a, const RetainedVolume& b) {
    return a.shard == b.shard && a.persistent_volume_claim == b.persistent_volume_claim;
  }
};

// A replication slot and publication that a removed shard's Electric left
// in its database, listed until the operator drops them (whenShardRemoved:
// Delete) or for the user to drop (Retain, or no database access).
struct RetainedReplicationSlot {
  std::string shard;
  std::string slot;
  std::string publication;
  std::string server;   // host:port; "" when unknown
  std::string message;  // why it is still there, and what happens next
  friend bool operator==(const RetainedReplicationSlot& a, const RetainedReplicationSlot& b) {
    return a.shard == b.shard && a.slot == b.slot && a.publication == b.publication && a.server == b.server &&
           a.message == b.message;
  }
};
// The entries of a status JSON's retainedReplicationSlots (none when absent):
// nothing else remembers a removed shard's stream ID once its children are gone.
std::vector<RetainedReplicationSlot> retained_replication_slots_from_json(const nlohmann::json& status);

struct ShardSetStatus {
  int64_t observed_generation = 0;
  int64_t shard_count = 0;
  int64_t ready_shards = 0;
  std::string routing_config_map;
  std::vector<Condition> conditions;
  std::vector<ShardStatus> shards;              // spec order
  std::vector<RetainedVolume> retained_volumes;  // sorted by shard name
  std::vector<RetainedReplicationSlot> retained_replication_slots;  // sorted by shard name
};

// The whole status: counts, conditions merged with `previous_status`'s (a
// status JSON as read from the API server; null when there is none), shard
// statuses in the order given, retained volumes and slots sorted.
ShardSetStatus compute_status(const ShardSet& set, std::vector<ShardStatus> shards,
                              std::vector<RetainedVolume> retained_volumes,
                              std::vector<RetainedReplicationSlot> retained_slots,
                              const std::vector<FieldError>& set_wide_errors,
                              const std::vector<std::string>& pending_shards,
                              const nlohmann::json& previous_status, std::string_view now);

// `status` (status_to_json's, for a set whose children were just applied)
// with the shards of `refused` (shard name -> "Deployment s-shard-0: the API
// server's message") reported RejectedByAPIServer, and the conditions and
// counts that follow: input the schema could not catch (a pod field that no
// Kubernetes accepts), a quota, an admission webhook. A shard not running
// yet is Failed; a running one keeps its phase (it runs what it had).
// `shards` is updated alike.
nlohmann::json with_refused_children(const ShardSet& set, std::vector<ShardStatus>& shards,
                                     const std::map<std::string, std::string>& refused,
                                     const nlohmann::json& status, std::string_view now);

// The status subresource body. Every field is always present (arrays may be
// empty), so equal statuses give equal JSON.
nlohmann::json status_to_json(const ShardSetStatus& status);
// status.retainedReplicationSlots, as status_to_json writes it.
nlohmann::json retained_replication_slots_to_json(const std::vector<RetainedReplicationSlot>& slots);
std::vector<Condition> conditions_from_json(const nlohmann::json& status);
nlohmann::json condition_to_json(const Condition& condition);

}  // namespace electric
