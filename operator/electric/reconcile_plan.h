// One reconcile of one set, as a pure function: from what the operator's
// caches hold (the set, the Secrets it references, its live children, the
// stream IDs every other set uses) to what should be applied, deleted and
// reported. The reconciler in operator/app does the reading and the writing;
// every decision is here, so it is unit-tested without a cluster.
//
//   electric::Observed seen = ...;                 // from the caches
//   electric::Plan plan = electric::plan_reconcile(parsed, seen, live_status);
//   for (auto& obj : plan.apply) apply unless the cache already matches;
//   for (auto& child : plan.remove) delete;
//   if (plan.status != live status) write status;
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "electric/database_check.h"
#include "electric/live_facts.h"
#include "electric/pod_security.h"
#include "electric/render_memo.h"
#include "electric/secret_values.h"
#include "electric/shard_set.h"
#include "electric/status.h"
#include "electric/stream_conflict.h"

namespace electric {

// A child of the set that exists now (found by its shard-set label).
struct LiveChild {
  std::string kind;   // "Secret", "PersistentVolumeClaim", "Deployment", "Service", "ConfigMap", "NetworkPolicy"
  std::string name;
  std::string shard;  // its electric-operator.dev/shard label; "" for per-set children
  std::string uid;
  // Carries an ownerReference to this set's uid. Only owned children are
  // ever deleted, except a removed shard's PVC under whenShardRemoved:
  // Delete, which lost its ownerReference under whenDeleted: Retain.
  bool owned_by_set = false;
  bool being_deleted = false;  // metadata.deletionTimestamp is set
  // A shard Secret's kAnnotationDatabaseServer ("" for other children).
  std::string database_server;
};

struct Observed {
  SecretReader read_secret;
  // Value of S-api-secret's key when the set has no apiSecretRef and that
  // Secret exists; the reconciler creates it (once, from CSPRNG bytes) first.
  std::optional<std::string> generated_api_secret;
  std::map<std::string, DeploymentFacts> deployments;  // live, by name (phase, config hash)
  std::map<std::string, PvcFacts> pvcs;                // live, by name (size, retained spec)
  std::vector<LiveChild> children;
  // Losers of find_stream_conflicts over every set the operator sees.
  std::map<ShardKey, std::string> stream_conflicts;
  // Whether the operator runs database checks at all (off in `render`, and
  // with --database-checks=Disabled); a set's spec.databaseChecks can turn
  // them off for that set. When on, the outcomes known for the set's
  // shards; a shard with none is still being checked.
  bool database_checks_on = false;
  std::map<ShardKey, DatabaseCheck> database_checks;
  // Whether the operator may connect to databases to drop slots (it runs
  // database checks: --database-check-interval above 0), and what its
  // drops of this set's slots came to so far, by shard.
  bool slot_cleanup_on = false;
  std::map<std::string, SlotCleanupOutcome> slot_cleanups;
  std::string cluster_domain = "cluster.local";
  // The Pod Security level every shard's pod must meet (the operator flag
  // --max-pod-security-level); a pod that does not is refused.
  PodSecurityLevel max_pod_security_level = kDefaultMaxPodSecurityLevel;
  std::string now;  // RFC 3339, for lastTransitionTime
  // Whether the live child KIND/NAME already carries what a body of this
  // RenderMemo digest applies. With a memo, a shard whose inputs did not
  // change and whose children are current is not rendered, and its children
  // are left out of Plan.apply; unset, every child is rendered.
  std::function<bool(const std::string& kind, const std::string& name, const std::string& digest)> child_current;
};

struct Removal {
  std::string kind;
  std::string name;
  std::string uid;  // delete precondition: never delete a recreated namesake
  // Foreground propagation: the object goes only after its dependents (a
  // Deployment after its pods), so its absence proves no Electric runs.
  bool foreground = false;
};

// A slot and publication to drop now: the shard's pods are gone.
struct SlotCleanupRequest {
  std::string shard;
  std::string slot;
  std::string publication;
  // Its database URL: the user's Secret for a shard in spec, the kept shard
  // Secret for a removed one (read with a GET: the cache holds no data of
  // operator Secrets).
  SecretKeyRef database_url;
};

struct EventNote {
  std::string type;  // "Normal" | "Warning"
  std::string reason;
  std::string message;  // never a secret value
};

struct Plan {
  // Server-side-apply bodies in a safe order (what a pod mounts and reads
  // exists before its Deployment): Secrets, PVCs, retained PVCs losing their
  // ownerReference, the NetworkPolicy (when enabled), Services, Deployments,
  // then the routing ConfigMap. With a RenderMemo, a shard's child whose
  // live object is current for unchanged inputs is left out. Only
  // shards that can run get children (not one whose pod breaks the Pod
  // Security level: it keeps what it has). Empty when paused, when the spec as a
  // whole is invalid, or when the set is being deleted.
  std::vector<nlohmann::json> apply;
  // Children of shards no longer in spec, a losing shard's Deployment
  // (ReplicationStreamConflict), routing ConfigMaps under an old name, the
  // NetworkPolicy once spec.networkPolicy.enabled is false.
  // Empty when no writes are allowed (paused, invalid spec, being deleted).
  std::vector<Removal> remove;
  nlohmann::json status;  // the whole status subresource body
  std::vector<EventNote> events;
  std::vector<ShardStatus> shards;  // for metrics
  // Removed shards' slots to drop now (whenShardRemoved: Delete), and those
  // already dropped (so their outcome is kept).
  std::vector<SlotCleanupRequest> slot_cleanups;
  // Whether the set should carry kFinalizerReplicationSlots: under
  // whenDeleted: Delete with database access. Unset when no writes are
  // allowed (the finalizer stays as it is).
  std::optional<bool> slot_finalizer;
};

// A set being deleted that carries kFinalizerReplicationSlots: stop every
// shard's Electric, drop its slot, then let the set go.
struct DeletionPlan {
  std::vector<Removal> remove;  // shard Deployments, foreground
  std::vector<SlotCleanupRequest> slot_cleanups;
  // The slots still waited for, with why (written to status).
  std::vector<RetainedReplicationSlot> waiting;
  std::vector<EventNote> events;
  bool release_finalizer = false;
};
DeletionPlan plan_set_deletion(const ParsedShardSet& parsed, const Observed& observed,
                               const nlohmann::json& previous_status);

// The shards of `parsed` that hold, or may claim, a replication stream, for
// find_stream_conflicts: every shard whose name and stream ID are usable and
// whose database URL is readable and parses. Shards of paused, invalid or
// deleting sets count too: their Deployments may still run, and a newer set
// must not start a second Electric on the same slot meanwhile.
std::vector<ShardIdentity> shard_identities(const ParsedShardSet& parsed,
                                            const SecretReader& read_secret);

// The shards of `parsed` the database checks connect for, with what they
// connect with (database_url.h's parts, password included: for the checker
// only). Only shards whose URL is readable and parses; none when the set has
// spec.databaseChecks: Disabled or is being deleted.
std::vector<DatabaseTarget> database_targets(const ParsedShardSet& parsed, const SecretReader& read_secret);

// A shard's claim before its database URL is read: what an index keeps per
// set, so a changed Secret re-derives the claims without re-parsing the set.
struct ClaimSource {
  ShardKey key;
  std::string set_creation_timestamp;
  std::string stream_id;
  SecretKeyRef database_url;  // in the set's namespace
};
// The shards shard_identities considers (same rules, no Secret read).
std::vector<ClaimSource> claim_sources(const ParsedShardSet& parsed);
// The identity of `source` once its URL is read; none when the URL is
// unreadable or does not parse (such a shard claims nothing).
std::optional<ShardIdentity> resolve_claim(const ClaimSource& source, const SecretReader& read_secret);

// `previous_status` is the set's live status (null when none): conditions
// keep their lastTransitionTime when their status is unchanged.
// `memo` (optional, one per set) keeps each shard's checks and children's
// digests for the next reconcile of the same set.
Plan plan_reconcile(const ParsedShardSet& parsed, const Observed& observed,
                    const nlohmann::json& previous_status, RenderMemo* memo = nullptr);

}  // namespace electric
