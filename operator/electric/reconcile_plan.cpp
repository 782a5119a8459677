#include "electric/reconcile_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "electric/config_hash.h"
#include "electric/constants.h"
#include "electric/database_url.h"
#include "electric/digest.h"
#include "electric/naming.h"
#include "electric/quantity.h"
#include "electric/render.h"
#include "electric/routing.h"

namespace electric {

using nlohmann::json;

namespace {

const std::string kKindSecret = "Secret";
const std::string kKindService = "Service";
const std::string kKindDeployment = "Deployment";
const std::string kKindPvc = "PersistentVolumeClaim";
const std::string kKindConfigMap = "ConfigMap";
const std::string kKindNetworkPolicy = "NetworkPolicy";

// The facts of a child by name; "not there" (exists false, empty) when absent.
template <typename Facts>
const Facts& find_or_missing(const std::map<std::string, Facts>& by_name, const std::string& name) {
  static const Facts missing;
  auto it = by_name.find(name);
  return it == by_name.end() ? missing : it->second;
}

// The first URL that does not parse, named by where it came from. The parse
// error never quotes the URL, so the message is safe for status and Events.
std::optional<std::string> database_url_problem(const Shard& shard, const ShardSecretValues& values) {
  auto check = [](const char* what, const SecretKeyRef& ref,
                  const std::string& url) -> std::optional<std::string> {
    auto parsed = parse_database_url(url);
    if (parsed) return std::nullopt;
    return std::string(what) + " in Secret \"" + ref.name + "\" key \"" + ref.key +
           "\" is not valid: " + parsed.error();
  };
  if (auto problem = check("the database URL", shard.database_url_secret_ref, values.database_url))
    return problem;
  if (values.pooled_database_url && shard.pooled_database_url_secret_ref)
    return check("the pooled database URL", *shard.pooled_database_url_secret_ref,
                 *values.pooled_database_url);
  return std::nullopt;
}

// Would applying this runnable shard's children change what runs? The
// Deployment's config hash covers every pod input, so a missing or other
// hash is a change; so is a volume still to be created or grown.
bool has_unapplied_changes(const ShardFacts& facts, const PvcFacts* live_pvc, const std::string& desired_size) {
  const DeploymentFacts& d = facts.deployment;
  if (!d.exists || !facts.desired_config_hash || *facts.desired_config_hash != d.config_hash) return true;
  if (!live_pvc) return true;
  auto want = parse_quantity(desired_size);
  auto have = parse_quantity(live_pvc->storage_request);
  return want && have && *want > *have;
}

// Every shard the last status lists, with its replicationStreamID (the
// status keeps each shard's ID, so a removed shard's slot can still be named).
std::map<std::string, std::string> stream_ids_in_status(const json& previous_status) {
  std::map<std::string, std::string> ids;
  if (!previous_status.is_object() || !previous_status.contains("shards") || !previous_status["shards"].is_array())
    return ids;
  for (const auto& s : previous_status["shards"]) {
    if (!s.is_object()) continue;
    const std::string shard = s.value("name", ""), id = s.value("replicationStreamID", "");
    if (!shard.empty() && !id.empty()) ids.emplace(shard, id);
  }
  return ids;
}

// A removed shard's stream ID: what the last status said, else what its live
// Deployment runs with.
std::optional<std::string> removed_shard_stream_id(const std::string& shard,
                                                   const std::map<std::string, std::string>& listed,
                                                   const DeploymentFacts& live_deployment) {
  auto it = listed.find(shard);
  if (it != listed.end()) return it->second;
  return live_deployment.replication_stream_id;
}

// What becomes of a removed shard's slot.
enum class RemovedSlotPolicy {
  Drop,      // whenShardRemoved: Delete, and the operator can connect
  Retain,    // whenShardRemoved: Retain
  NoAccess,  // Delete, but the operator runs without database access
};
RemovedSlotPolicy removed_slot_policy(const ShardSet& set, const Observed& observed) {
  if (set.spec.slot_retention.when_shard_removed == RetentionPolicy::Retain) return RemovedSlotPolicy::Retain;
  return observed.slot_cleanup_on ? RemovedSlotPolicy::Drop : RemovedSlotPolicy::NoAccess;
}

const char* const kSlotRetainedMessage =
    "kept (replicationSlotRetentionPolicy.whenShardRemoved: Retain): an inactive slot holds WAL until the "
    "database's disk fills, so drop the slot and publication once the shard is gone for good";
const char* const kSlotNoAccessMessage =
    "not dropped: the operator runs without database access (--database-check-interval 0); an inactive slot "
    "holds WAL until the database's disk fills, so drop the slot and publication by hand";
const char* const kSlotWaitingForPodsMessage = "waiting for the shard's pods to stop before dropping the slot";
const char* const kSlotSecretGoneMessage =
    "the shard's Secret with its database URL is gone, so the operator cannot connect: drop the slot and "
    "publication by hand";
const char* const kSlotNameReusedMessage =
    "a shard of this name is in spec again with another replication stream: drop this slot and publication by hand";

// Where a removed shard's cleanup reads its URL: the shard Secret kept for it.
SecretKeyRef kept_database_url(const ShardSet& set, const std::string& shard) {
  return {shard_child_name(set.name, shard), std::string(kSecretKeyDatabaseURL)};
}

// "replication slot \"S\" and publication \"P\"", as Events name them.
std::string slot_and_publication(const std::string& slot, const std::string& publication) {
  return "replication slot \"" + slot + "\" and publication \"" + publication + "\"";
}

const LiveChild* find_child(const Observed& observed, const std::string& kind, const std::string& name) {
  for (const LiveChild& c : observed.children)
    if (c.kind == kind && c.name == name) return &c;
  return nullptr;
}

bool has_deployment_of(const Observed& observed, const std::string& shard) {
  for (const LiveChild& c : observed.children)
    if (c.kind == kKindDeployment && c.shard == shard) return true;
  return false;
}

// The outcome of dropping `slot` of `shard`, when there is one.
const SlotCleanupOutcome* cleanup_outcome(const Observed& observed, const std::string& shard,
                                          const std::string& slot) {
  auto it = observed.slot_cleanups.find(shard);
  return it != observed.slot_cleanups.end() && it->second.slot == slot ? &it->second : nullptr;
}

// One entry per removed shard; a shard removed again (after being re-added)
// replaces its old entry.
void remember_slot(std::vector<RetainedReplicationSlot>& slots, const std::string& shard,
                   const std::string& stream_id, const std::string& server) {
  slots.erase(std::remove_if(slots.begin(), slots.end(),
                             [&](const RetainedReplicationSlot& r) { return r.shard == shard; }),
              slots.end());
  slots.push_back({shard, replication_slot_name(stream_id), publication_name(stream_id), server, ""});
}

// Shards the previous status lists that spec no longer has. The reconcile
// that deleted such a shard's Deployment wrote its slot into status, but the
// cache may still hold the status from before: the slot is then taken from
// that status's shard entry, or the next status write would forget it.
void remember_slots_of_listed_removed_shards(const std::map<std::string, std::string>& listed,
                                             const std::set<std::string>& in_spec,
                                             std::vector<RetainedReplicationSlot>& slots) {
  for (const auto& [shard, id] : listed) {
    if (in_spec.count(shard)) continue;
    // A named copy: C++17 lambdas cannot capture a structured binding (clang refuses).
    const std::string& name = shard;
    auto known = std::find_if(slots.begin(), slots.end(), [&](const RetainedReplicationSlot& r) { return r.shard == name; });
    if (known == slots.end()) remember_slot(slots, shard, id, "");
  }
}

// A slot that a shard in spec uses again (the shard came back, or another
// took its stream ID) is no longer left over.
void forget_slots_in_use(std::vector<RetainedReplicationSlot>& slots, const std::vector<ShardStatus>& in_spec) {
  std::set<std::string> used;
  for (const ShardStatus& s : in_spec) used.insert(replication_slot_name(s.replication_stream_id));
  slots.erase(std::remove_if(slots.begin(), slots.end(),
                             [&](const RetainedReplicationSlot& r) { return used.count(r.slot) > 0; }),
              slots.end());
}

// The ShardRemoved Event: what went, what stays, and what becomes of its slot.
std::string shard_removed_message(const std::string& shard, const std::optional<std::string>& kept_pvc,
                                  const std::optional<std::string>& stream_id, RemovedSlotPolicy policy) {
  const bool dropping = stream_id && policy == RemovedSlotPolicy::Drop;
  std::string m = "shard \"" + shard + "\" is no longer in spec; its Deployment, Service" +
                  (dropping ? " are deleted" : " and Secret are deleted");
  if (kept_pvc)
    m += "; PersistentVolumeClaim \"" + *kept_pvc + "\" is kept (whenShardRemoved: Retain)";
  if (!stream_id)
    return m + "; its replication stream ID is unknown: look for its electric_slot_* slot in its database";
  m += "; its " + slot_and_publication(replication_slot_name(*stream_id), publication_name(*stream_id));
  if (dropping) return m + " are dropped once its pods are gone, then its Secret is deleted";
  return m + " stay in its database (status.retainedReplicationSlots)";
}

// The moment a removed shard's Electric goes (its Deployment is deleted):
// tell the user what stays behind, and remember its slot in status.
void note_shard_removed(const ShardSet& set, const LiveChild& deployment, const Observed& observed,
                        const std::map<std::string, std::string>& listed_stream_ids,
                        std::vector<EventNote>& events, std::vector<RetainedReplicationSlot>& slots) {
  const std::string& shard = deployment.shard;
  const auto stream_id =
      removed_shard_stream_id(shard, listed_stream_ids, find_or_missing(observed.deployments, deployment.name));
  std::optional<std::string> kept_pvc;
  if (applicable_retention(set, false) == RetentionPolicy::Retain) {
    for (const LiveChild& c : observed.children)
      if (c.kind == kKindPvc && c.shard == shard) kept_pvc = c.name;
  }
  const RemovedSlotPolicy policy = removed_slot_policy(set, observed);
  events.push_back({"Normal", "ShardRemoved", shard_removed_message(shard, kept_pvc, stream_id, policy)});
  if (!stream_id) return;
  const LiveChild* secret = find_child(observed, kKindSecret, shard_child_name(set.name, shard));
  const std::string server = secret ? secret->database_server : "";
  remember_slot(slots, shard, *stream_id, server);
  if (policy == RemovedSlotPolicy::Drop) return;
  events.push_back({"Warning", "ReplicationSlotRetained",
                    "shard \"" + shard + "\": " +
                        slot_and_publication(replication_slot_name(*stream_id), publication_name(*stream_id)) +
                        (server.empty() ? "" : " on " + server) + " are " +
                        (policy == RemovedSlotPolicy::Retain ? kSlotRetainedMessage : kSlotNoAccessMessage)});
}

// Each removed shard's slot entry gets its message and, under Drop, its
// cleanup: requested once its pods are gone, with the URL its kept Secret
// holds. An entry whose slot is dropped goes, and so may its Secret;
// `secrets_kept` names the shards whose Secret a cleanup still needs.
void settle_removed_slots(const ShardSet& set, const Observed& observed, const std::set<std::string>& in_spec,
                          bool may_write, std::vector<RetainedReplicationSlot>& slots, Plan& plan,
                          std::set<std::string>& secrets_kept) {
  const RemovedSlotPolicy policy = removed_slot_policy(set, observed);
  std::vector<RetainedReplicationSlot> left;
  for (RetainedReplicationSlot& entry : slots) {
    const LiveChild* secret = find_child(observed, kKindSecret, shard_child_name(set.name, entry.shard));
    if (secret && !secret->database_server.empty() && !in_spec.count(entry.shard))
      entry.server = secret->database_server;
    const SlotCleanupOutcome* outcome = cleanup_outcome(observed, entry.shard, entry.slot);
    if (in_spec.count(entry.shard)) {
      entry.message = kSlotNameReusedMessage;
    } else if (policy != RemovedSlotPolicy::Drop) {
      entry.message = policy == RemovedSlotPolicy::Retain ? kSlotRetainedMessage : kSlotNoAccessMessage;
    } else if (outcome && outcome->state == SlotCleanupState::Dropped) {
      plan.events.push_back({"Normal", "ReplicationSlotDropped",
                             "shard \"" + entry.shard + "\": dropped " +
                                 slot_and_publication(entry.slot, entry.publication)});
      // Still asked for, so the checker keeps the outcome while a stale
      // status may list the entry again.
      plan.slot_cleanups.push_back({entry.shard, entry.slot, entry.publication, kept_database_url(set, entry.shard)});
      continue;
    } else if (has_deployment_of(observed, entry.shard)) {
      entry.message = kSlotWaitingForPodsMessage;
      secrets_kept.insert(entry.shard);
    } else if (!secret) {
      entry.message = kSlotSecretGoneMessage;
    } else {
      entry.message = outcome ? outcome->message : kSlotDroppingMessage;
      secrets_kept.insert(entry.shard);
      // An Unresolvable one too: its Secret is read again each time, and may be fixed.
      if (may_write)
        plan.slot_cleanups.push_back({entry.shard, entry.slot, entry.publication, kept_database_url(set, entry.shard)});
    }
    left.push_back(std::move(entry));
  }
  slots = std::move(left);
}

// The shard's pod checked against the level the operator allows, named by
// the set's fields so the user knows what to change.
std::optional<std::string> pod_security_problem(const ShardSet& set, const Shard& shard,
                                                PodSecurityLevel allowed) {
  auto violation = check_pod_security(render_pod_template(set, shard, ""), allowed);
  if (!violation) return std::nullopt;
  return set_field_path(violation->path) + ": " + violation->message +
         "; this operator runs only pods that meet the Pod Security \"" + to_string(allowed) +
         "\" profile (--max-pod-security-level)";
}

// Everything a shard's checks and children are derived from, as one digest:
// its render key (the set and its entry), the level its pod must meet, and
// its Secret values when they were read. Empty (never kept) without a key.
std::string render_inputs(const ParsedShardSet& parsed, const Shard& shard, const ShardSecretValues* values,
                          PodSecurityLevel level) {
  auto key = parsed.render_keys.find(shard.name);
  if (key == parsed.render_keys.end()) return "";
  const std::string level_name = to_string(level);
  std::vector<std::string_view> parts = {key->second, level_name};
  if (values) {
    parts.push_back(values->database_url);
    parts.push_back(values->electric_secret);
    if (values->pooled_database_url) parts.push_back(*values->pooled_database_url);
  }
  return sha256_hex_of_parts(parts);
}

// The shard's checks, from the memo when its inputs are unchanged.
const ShardRender& shard_render(RenderMemo& memo, const ParsedShardSet& parsed, const Shard& shard,
                                const ShardSecretValues* values, PodSecurityLevel level) {
  const std::string inputs = render_inputs(parsed, shard, values, level);
  if (const ShardRender* kept = memo.find(shard.name, inputs)) return *kept;
  ShardRender render;
  render.inputs = inputs;
  render.pod_security_problem = pod_security_problem(parsed.set, shard, level);
  if (values) {
    render.database_url_problem = database_url_problem(shard, *values);
    render.config_hash = compute_config_hash(parsed.set, shard, *values);
  }
  return memo.keep(shard.name, render);
}

// Appends the shard's child KIND/NAME, rendered, to `out`, unless the memo
// holds the digest of its last render for these inputs and the live child
// carries it.
template <typename Render>
void render_unless_current(RenderMemo& memo, const Observed& observed, const std::string& shard,
                           const std::string& kind, const std::string& name, std::vector<json>& out,
                           const Render& render) {
  const std::string* digest = memo.digest(shard, kind);
  if (digest && observed.child_current && observed.child_current(kind, name, *digest)) return;
  json body = render();
  if (!digest) memo.remember(shard, kind, body);
  out.push_back(std::move(body));
}

}  // namespace

std::vector<ClaimSource> claim_sources(const ParsedShardSet& parsed) {
  std::vector<ClaimSource> out;
  const ShardSet& set = parsed.set;
  std::set<std::string> seen;
  for (const Shard& shard : set.spec.shards) {
    // A duplicated name is a set-wide error; its first entry speaks for it,
    // so one key never has two identities.
    if (!seen.insert(shard.name).second) continue;
    if (!is_valid_shard_name(shard.name)) continue;
    if (shard.replication_stream_id && !is_valid_stream_id(*shard.replication_stream_id)) continue;
    out.push_back({{set.namespace_name, set.name, shard.name}, set.creation_timestamp,
                   effective_stream_id(set, shard), shard.database_url_secret_ref});
  }
  return out;
}

namespace {
// The source's database URL, when its Secret holds one that parses.
std::optional<DatabaseURL> source_database_url(const ClaimSource& source, const SecretReader& read_secret) {
  auto text = read_secret_key(source.database_url, read_secret);
  if (!text) return std::nullopt;
  auto url = parse_database_url(*text);
  if (!url) return std::nullopt;
  return std::move(url).value();
}
}  // namespace

std::optional<ShardIdentity> resolve_claim(const ClaimSource& source, const SecretReader& read_secret) {
  auto url = source_database_url(source, read_secret);
  if (!url) return std::nullopt;
  return ShardIdentity{source.key, source.set_creation_timestamp, source.stream_id, url->location()};
}

std::vector<ShardIdentity> shard_identities(const ParsedShardSet& parsed,
                                            const SecretReader& read_secret) {
  std::vector<ShardIdentity> out;
  for (const ClaimSource& source : claim_sources(parsed)) {
    if (auto identity = resolve_claim(source, read_secret)) out.push_back(std::move(*identity));
  }
  return out;
}

std::vector<DatabaseTarget> database_targets(const ParsedShardSet& parsed, const SecretReader& read_secret) {
  std::vector<DatabaseTarget> out;
  if (!parsed.set.spec.database_checks || parsed.set.being_deleted) return out;
  for (const ClaimSource& source : claim_sources(parsed)) {
    if (auto url = source_database_url(source, read_secret))
      out.push_back(database_target(source.key, source.stream_id, *url, parsed.set.spec.wal_retention_threshold_bytes));
  }
  return out;
}

Plan plan_reconcile(const ParsedShardSet& parsed, const Observed& observed,
                    const json& previous_status, RenderMemo* kept) {
  RenderMemo scratch;
  RenderMemo& memo = kept ? *kept : scratch;
  const ShardSet& set = parsed.set;
  const std::vector<FieldError> set_wide = parsed.set_wide_errors();
  // A deleting set's children go by garbage collection; writing them would
  // race it (the reconciler does not call us then, but the rule lives here).
  const bool may_write = set_wide.empty() && !set.spec.paused && !set.being_deleted;
  Plan plan;

  const auto api_secret = resolve_api_secret(set, observed.read_secret, observed.generated_api_secret);

  std::vector<json> secrets, pvcs, retained_pvcs, services, deployments;
  std::set<std::string> in_spec;
  // Shards whose children would be written but are not (paused): in spec
  // order, then removed shards with children still to delete or release.
  std::vector<std::string> pending;
  std::set<std::string> pending_removed;
  for (const Shard& shard : set.spec.shards) {
    in_spec.insert(shard.name);
    const std::string child = shard_child_name(set.name, shard.name);
    const std::string pvc_name = shard_pvc_name(set.name, shard.name);

    ShardFacts facts;
    facts.spec_errors = parsed.errors_for_shard(shard.name);
    std::optional<ShardSecretValues> values;
    if (facts.spec_errors.empty()) {
      auto resolved = resolve_shard_secret_values(shard, observed.read_secret, api_secret);
      if (!resolved) facts.secret_problem = resolved.error();
      else values = std::move(resolved).value();
      const ShardRender& render =
          shard_render(memo, parsed, shard, values ? &*values : nullptr, observed.max_pod_security_level);
      facts.pod_security_problem = render.pod_security_problem;
      facts.database_url_problem = render.database_url_problem;
      // Only apiSecretRef can be empty: a generated secret is 64 hex digits.
      if (values && values->electric_secret.empty() && set.spec.api_secret_ref)
        facts.api_secret_problem = empty_api_secret_message(*set.spec.api_secret_ref);
      // What the pod template will carry: a live Deployment with another
      // hash is not "updated" yet, whatever its replica counts say.
      facts.desired_config_hash = render.config_hash;
      auto conflict = observed.stream_conflicts.find({set.namespace_name, set.name, shard.name});
      if (conflict != observed.stream_conflicts.end()) facts.stream_conflict = conflict->second;
      if (observed.database_checks_on && set.spec.database_checks && values && !facts.database_url_problem) {
        auto check = observed.database_checks.find({set.namespace_name, set.name, shard.name});
        if (check != observed.database_checks.end()) facts.database_check = check->second;
        else facts.awaiting_database_check = true;
      }
    }
    facts.deployment = find_or_missing(observed.deployments, child);
    if (facts.spec_errors.empty())
      facts.stream_id_change =
          stream_id_change_problem(effective_stream_id(set, shard), facts.deployment.replication_stream_id);
    auto pvc = observed.pvcs.find(pvc_name);
    const PvcFacts* live_pvc = pvc == observed.pvcs.end() ? nullptr : &pvc->second;
    if (live_pvc) {
      facts.storage_shrink = storage_shrink_problem(effective_storage_size(set, shard), live_pvc->storage_request);
    }

    ShardStatus status = compute_shard_status(set, shard, facts, observed.cluster_domain);
    if (status.failing()) {
      plan.events.push_back({"Warning", status.reason, "shard \"" + shard.name + "\": " + status.message});
    }
    plan.shards.push_back(status);

    // A running shard is never stopped by a database check, a new one waits for it.
    const bool runnable =
        values && !facts.pod_security_problem && !facts.database_url_problem && !facts.api_secret_problem &&
        !facts.stream_id_change && !facts.stream_conflict && !facts.database_holds_new_shard();
    if (!may_write) {
      if (runnable && has_unapplied_changes(facts, live_pvc, effective_storage_size(set, shard)))
        pending.push_back(shard.name);
      continue;
    }
    if (runnable) {
      auto unless_current = [&](const std::string& kind, const std::string& name, std::vector<json>& out,
                                const auto& render) {
        render_unless_current(memo, observed, shard.name, kind, name, out, render);
      };
      unless_current(kKindSecret, child, secrets, [&] { return render_shard_secret(set, shard, *values); });
      // A shrink is refused: the PVC keeps its size and the pod keeps running on it.
      if (!facts.storage_shrink)
        unless_current(kKindPvc, pvc_name, pvcs, [&] { return render_pvc(set, shard, pvc_has_owner_reference(set, true)); });
      unless_current(kKindService, child, services, [&] { return render_service(set, shard); });
      unless_current(kKindDeployment, child, deployments,
                     [&] { return render_deployment(set, shard, *facts.desired_config_hash); });
    } else if (facts.stream_conflict && !facts.stream_id_change) {
      // The shard lost its stream to an older set: its Electric must stop, or
      // two would consume one replication slot.
      for (const LiveChild& c : observed.children) {
        if (c.kind == kKindDeployment && c.name == child && c.owned_by_set)
          plan.remove.push_back({c.kind, c.name, c.uid});
      }
    }
    // Other problems (missing Secret, bad URL, empty API secret, a changed
    // stream ID, shard spec error, a pod
    // beyond the allowed Pod Security level) leave the shard's existing
    // children as they are: a running Electric keeps serving on its last
    // good configuration until the input is fixed.
  }

  memo.keep_only(in_spec);

  // Children of shards no longer in spec, and routing ConfigMaps under an
  // old name. Skipped while the spec is invalid: a shard the parser could not
  // read is not a removed shard. Retained PVCs are reported even while paused.
  std::vector<RetainedVolume> retained;
  std::vector<RetainedReplicationSlot> slots = retained_replication_slots_from_json(previous_status);
  const std::map<std::string, std::string> listed_stream_ids = stream_ids_in_status(previous_status);
  const bool drop_slots = removed_slot_policy(set, observed) == RemovedSlotPolicy::Drop;
  auto is_removed = [&](const LiveChild& c) { return !c.shard.empty() && !in_spec.count(c.shard); };
  // Removed shards' Electric goes first: its slot is remembered, and under
  // Drop its Secret stays until the slot is dropped.
  std::set<std::string> secrets_kept;
  if (set_wide.empty()) {
    for (const LiveChild& c : observed.children) {
      if (c.kind != kKindDeployment || !is_removed(c) || !c.owned_by_set || c.being_deleted) continue;
      if (!may_write) {
        pending_removed.insert(c.shard);
        continue;
      }
      plan.remove.push_back({c.kind, c.name, c.uid, drop_slots});
      note_shard_removed(set, c, observed, listed_stream_ids, plan.events, slots);
    }
    remember_slots_of_listed_removed_shards(listed_stream_ids, in_spec, slots);
  }
  forget_slots_in_use(slots, plan.shards);
  settle_removed_slots(set, observed, in_spec, may_write, slots, plan, secrets_kept);

  // The rest of removed shards' children, and routing ConfigMaps under an
  // old name. Skipped while the spec is invalid: a shard the parser could not
  // read is not a removed shard. Retained PVCs are reported even while paused.
  for (const LiveChild& c : observed.children) {
    if (!set_wide.empty()) break;
    if (c.kind == kKindConfigMap) {
      if (may_write && c.owned_by_set && c.name != set.spec.routing_config_map_name)
        plan.remove.push_back({c.kind, c.name, c.uid});
      continue;
    }
    if (c.kind == kKindNetworkPolicy) {
      if (may_write && c.owned_by_set && !set.spec.network_policy.enabled)
        plan.remove.push_back({c.kind, c.name, c.uid});
      continue;
    }
    if (!is_removed(c) || c.kind == kKindDeployment) continue;
    if (c.kind == kKindPvc && applicable_retention(set, false) == RetentionPolicy::Retain) {
      retained.push_back({c.shard, c.name});
      if (!may_write && c.owned_by_set) {
        pending_removed.insert(c.shard);  // its ownerReference is still to go
      } else if (c.owned_by_set) {
        // Without the ownerReference the volume outlives the set too.
        retained_pvcs.push_back(render_retained_pvc(set, c.shard, find_or_missing(observed.pvcs, c.name)));
        plan.events.push_back({"Normal", "VolumeRetained",
                               "shard \"" + c.shard + "\" is no longer in spec; PersistentVolumeClaim \"" +
                                   c.name + "\" is kept (whenShardRemoved: Retain)"});
      }
      continue;
    }
    // Only what this set owns; a removed shard's PVC may have no owner (it
    // was created under whenDeleted: Retain) and is ours by its labels.
    if (c.kind != kKindPvc && !c.owned_by_set) continue;
    if (c.kind == kKindSecret && secrets_kept.count(c.shard)) continue;
    if (!may_write) {
      pending_removed.insert(c.shard);
      continue;
    }
    plan.remove.push_back({c.kind, c.name, c.uid});
  }
  if (may_write)
    plan.slot_finalizer = set.spec.slot_retention.when_deleted == RetentionPolicy::Delete && observed.slot_cleanup_on;

  if (may_write) {
    // Before any Deployment, so no pod starts unprotected.
    std::vector<json> network_policies;
    if (set.spec.network_policy.enabled) network_policies.push_back(render_network_policy(set));
    for (auto* group : {&secrets, &pvcs, &retained_pvcs, &network_policies, &services, &deployments}) {
      for (auto& obj : *group) plan.apply.push_back(std::move(obj));
    }
    plan.apply.push_back(render_routing_configmap(set, plan.shards, observed.cluster_domain));
  }
  pending.insert(pending.end(), pending_removed.begin(), pending_removed.end());
  plan.status = status_to_json(compute_status(set, plan.shards, std::move(retained), std::move(slots), set_wide,
                                              pending, previous_status, observed.now));
  if (!set_wide.empty()) {
    plan.events.push_back({"Warning", std::string(kReasonInvalidSpec), describe_errors(set_wide)});
  }
  return plan;
}

namespace {

// Every slot a deleting set's shards may hold, with where its URL is: each
// shard in spec (by the ID the last status reported, which a refused change
// leaves running, else the one spec derives) from its user Secret, which
// garbage collection does not touch; and each removed shard whose slot was
// still to drop, from its kept Secret.
std::vector<std::pair<RetainedReplicationSlot, SecretKeyRef>> slots_to_drop_at_deletion(
    const ParsedShardSet& parsed, const Observed& observed, const json& previous_status) {
  const ShardSet& set = parsed.set;
  const std::map<std::string, std::string> listed = stream_ids_in_status(previous_status);
  std::vector<std::pair<RetainedReplicationSlot, SecretKeyRef>> out;
  std::set<std::string> seen;
  for (const ClaimSource& source : claim_sources(parsed)) {
    auto it = listed.find(source.key.shard);
    const std::string& id = it != listed.end() ? it->second : source.stream_id;
    out.push_back({{source.key.shard, replication_slot_name(id), publication_name(id), "", ""}, source.database_url});
    seen.insert(source.key.shard);
  }
  for (RetainedReplicationSlot& entry : retained_replication_slots_from_json(previous_status)) {
    if (seen.count(entry.shard)) continue;
    SecretKeyRef kept = kept_database_url(set, entry.shard);
    out.push_back({std::move(entry), std::move(kept)});
  }
  for (auto& [slot, ref] : out)
    if (const LiveChild* secret = find_child(observed, kKindSecret, shard_child_name(set.name, slot.shard)))
      if (!secret->database_server.empty()) slot.server = secret->database_server;
  return out;
}

std::string slot_list(const std::vector<std::pair<RetainedReplicationSlot, SecretKeyRef>>& slots) {
  std::string out;
  for (const auto& [slot, ref] : slots) out += (out.empty() ? "\"" : ", \"") + slot.slot + "\"";
  return out;
}

}  // namespace

DeletionPlan plan_set_deletion(const ParsedShardSet& parsed, const Observed& observed, const json& previous_status) {
  const ShardSet& set = parsed.set;
  DeletionPlan plan;
  const auto slots = slots_to_drop_at_deletion(parsed, observed, previous_status);
  std::optional<std::string> why_not;
  if (set.skip_slot_cleanup)
    why_not = "the annotation " + std::string(kAnnotationSkipSlotCleanup) + " is \"true\"";
  else if (set.spec.slot_retention.when_deleted == RetentionPolicy::Retain)
    why_not = "replicationSlotRetentionPolicy.whenDeleted is Retain";
  else if (!observed.slot_cleanup_on)
    why_not = "the operator runs without database access (--database-check-interval 0)";
  if (why_not) {
    plan.release_finalizer = true;
    if (!slots.empty())
      plan.events.push_back({"Warning", "ReplicationSlotsRetained",
                             "the set is deleted without dropping its replication slots (" + *why_not +
                                 "): drop " + slot_list(slots) + " and their publications by hand"});
    return plan;
  }
  // No slot is dropped while an Electric may hold it: foreground deletion
  // keeps each Deployment until its pods are gone.
  for (const LiveChild& c : observed.children)
    if (c.kind == kKindDeployment && c.owned_by_set && !c.being_deleted)
      plan.remove.push_back({c.kind, c.name, c.uid, true});
  bool any_left = false;
  for (const auto& [slot, ref] : slots) {
    const SlotCleanupOutcome* outcome = cleanup_outcome(observed, slot.shard, slot.slot);
    if (outcome && outcome->state == SlotCleanupState::Dropped) {
      plan.slot_cleanups.push_back({slot.shard, slot.slot, slot.publication, ref});  // the checker keeps the outcome
      continue;
    }
    RetainedReplicationSlot waiting = slot;
    if (has_deployment_of(observed, slot.shard)) {
      waiting.message = kSlotWaitingForPodsMessage;
    } else if (outcome && outcome->state == SlotCleanupState::Unresolvable) {
      // Its Secret went (a namespace being deleted takes every Secret):
      // nothing can connect any more, so the set is not held for it.
      plan.events.push_back({"Warning", "ReplicationSlotNotDropped",
                             "shard \"" + slot.shard + "\": " + slot_and_publication(slot.slot, slot.publication) +
                                 " stay: " + outcome->message});
      any_left = true;
      continue;
    } else {
      waiting.message = outcome ? outcome->message : kSlotDroppingMessage;
      plan.slot_cleanups.push_back({slot.shard, slot.slot, slot.publication, ref});
    }
    plan.waiting.push_back(std::move(waiting));
  }
  plan.release_finalizer = plan.waiting.empty();
  if (plan.release_finalizer && !slots.empty() && !any_left)
    plan.events.push_back({"Normal", "ReplicationSlotsDropped", "dropped the replication slots of the set's shards"});
  return plan;
}

}  // namespace electric
