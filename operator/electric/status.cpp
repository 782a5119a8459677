#include "electric/status.h"

#include <algorithm>

#include "electric/constants.h"
#include "electric/naming.h"
#include "electric/quantity.h"

namespace electric {

using nlohmann::json;

namespace {

std::string str(std::string_view s) { return std::string(s); }

// A condition message names at most this many shards, then "and N more":
// with 512 shards a full list would be unreadable.
constexpr std::size_t kMaxShardsNamed = 10;

std::string join_limited(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < kMaxShardsNamed; ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  if (items.size() > kMaxShardsNamed)
    out += separator + std::string("and ") + std::to_string(items.size() - kMaxShardsNamed) + " more";
  return out;
}

// A shard's own `ready` says its pod serves; the set's Ready also says the
// pods run the current spec, which a paused set with edits does not.
std::string pending_changes_message(const std::vector<std::string>& pending_shards) {
  std::vector<std::string> quoted;
  for (const auto& name : pending_shards) quoted.push_back("\"" + name + "\"");
  const std::size_t n = pending_shards.size();
  return "spec.paused is true and " + std::to_string(n) + (n == 1 ? " shard has" : " shards have") +
         " changes not yet applied: " + join_limited(quoted, ", ");
}

Condition condition(std::string_view type, bool status, std::string_view reason, std::string message,
                    int64_t generation) {
  return {str(type), status ? "True" : "False", str(reason), std::move(message), generation, ""};
}

}  // namespace

const char* to_string(ShardPhase phase) {
  switch (phase) {
    case ShardPhase::Pending: return "Pending";
    case ShardPhase::Progressing: return "Progressing";
    case ShardPhase::Ready: return "Ready";
    case ShardPhase::Failed: return "Failed";
  }
  return "Pending";
}

std::string secret_not_found_message(const SecretKeyRef& ref) {
  return "Secret \"" + ref.name + "\" not found";
}

std::string secret_key_missing_message(const SecretKeyRef& ref) {
  return "Secret \"" + ref.name + "\" has no key \"" + ref.key + "\"";
}

std::string secret_not_base64_message(const SecretKeyRef& ref) {
  return "Secret \"" + ref.name + "\" key \"" + ref.key + "\" is not valid base64";
}

std::optional<std::string> stream_id_change_problem(const std::string& desired, const std::optional<std::string>& live) {
  if (!live || *live == desired) return std::nullopt;
  return "the replication stream ID would change from \"" + *live + "\" to \"" + desired +
         "\": a new ID is a new replication slot, every shape purged and the old slot left holding WAL; "
         "the shard keeps \"" + *live + "\" (to move it on purpose, remove the shard from spec.shards, "
         "drop its old slot, and add it again)";
}

std::string empty_api_secret_message(const SecretKeyRef& ref) {
  return "Secret \"" + ref.name + "\" key \"" + ref.key +
         "\" (spec.apiSecretRef) is empty: Electric would take an empty secret from any client; "
         "put a long random value there (for example the output of openssl rand -hex 32)";
}

std::optional<std::string> storage_shrink_problem(const std::string& desired, const std::string& current) {
  auto want = parse_quantity(desired);
  auto have = parse_quantity(current);
  if (!want || !have || !(*want < *have)) return std::nullopt;
  return "storage size " + desired + " is smaller than the volume's " + current +
         "; volumes cannot shrink, so the PVC keeps " + current;
}

bool ShardStatus::failing() const {
  return reason == kReasonInvalidSpec || reason == kReasonSecretNotFound ||
         reason == kReasonInvalidDatabaseURL || reason == kReasonInvalidAPISecret ||
         reason == kReasonReplicationStreamConflict || reason == kReasonStreamIDChangeNotSupported ||
         reason == kReasonStorageShrinkNotSupported || reason == kReasonProgressDeadlineExceeded ||
         reason == kReasonPodSecurityViolation || reason == kReasonPodCreationFailed ||
         reason == kReasonRejectedByAPIServer ||
         reason == kReasonDatabaseUnreachable || reason == kReasonAuthenticationFailed ||
         reason == kReasonWalLevelNotLogical || reason == kReasonMissingReplicationPrivilege ||
         reason == kReasonNoFreeReplicationSlots || reason == kReasonWALRetentionHigh;
}

bool operator==(const ShardStatus& a, const ShardStatus& b) {
  return a.name == b.name && a.phase == b.phase && a.ready == b.ready && a.reason == b.reason &&
         a.message == b.message && a.instance_id == b.instance_id &&
         a.replication_stream_id == b.replication_stream_id && a.url == b.url;
}

bool operator==(const Condition& a, const Condition& b) {
  return a.type == b.type && a.status == b.status && a.reason == b.reason && a.message == b.message &&
         a.observed_generation == b.observed_generation &&
         a.last_transition_time == b.last_transition_time;
}

ShardStatus compute_shard_status(const ShardSet& set, const Shard& shard, const ShardFacts& facts,
                                 std::string_view cluster_domain) {
  ShardStatus s;
  s.name = shard.name;
  s.instance_id = instance_id(set.namespace_name, set.name, shard.name);
  s.replication_stream_id = effective_stream_id(set, shard);
  s.url = shard_service_url(set, shard, cluster_domain);

  auto settle = [&s](ShardPhase phase, std::string_view reason, std::string message) {
    s.phase = phase;
    s.reason = str(reason);
    s.message = std::move(message);
  };
  if (!facts.spec_errors.empty()) {
    settle(ShardPhase::Failed, kReasonInvalidSpec, describe_errors(facts.spec_errors));
    return s;
  }
  if (facts.pod_security_problem) {
    settle(ShardPhase::Failed, kReasonPodSecurityViolation, *facts.pod_security_problem);
    return s;
  }
  if (facts.secret_problem) {
    settle(ShardPhase::Pending, kReasonSecretNotFound, *facts.secret_problem);
    return s;
  }
  if (facts.database_url_problem) {
    settle(ShardPhase::Failed, kReasonInvalidDatabaseURL, *facts.database_url_problem);
    return s;
  }
  if (facts.api_secret_problem) {
    settle(ShardPhase::Failed, kReasonInvalidAPISecret, *facts.api_secret_problem);
    return s;
  }
  if (facts.stream_id_change) {
    s.replication_stream_id = *facts.deployment.replication_stream_id;  // what its Electric still uses
    settle(ShardPhase::Failed, kReasonStreamIDChangeNotSupported, *facts.stream_id_change);
    return s;
  }
  if (facts.stream_conflict) {
    settle(ShardPhase::Failed, kReasonReplicationStreamConflict, *facts.stream_conflict);
    return s;
  }

  const DeploymentFacts& d = facts.deployment;
  if (!set.spec.paused && facts.database_holds_new_shard()) {
    if (facts.awaiting_database_check)
      settle(ShardPhase::Pending, kReasonCheckingDatabase, "checking the database before the shard starts");
    else
      settle(ShardPhase::Failed, facts.database_check->reason, facts.database_check->message);
    return s;
  }
  const bool outdated = d.exists && facts.desired_config_hash && *facts.desired_config_hash != d.config_hash;
  if (outdated && !set.spec.paused) {
    settle(ShardPhase::Progressing, kReasonRollingOut, "updating the Deployment to the current spec and Secrets");
  } else if (!d.exists) {
    if (set.spec.paused)
      settle(ShardPhase::Pending, kReasonPaused, "the Deployment is not created while spec.paused is true");
    else
      settle(ShardPhase::Progressing, kReasonCreating, "creating the Deployment");
  } else if (!d.replica_failure.empty() && d.available_replicas < d.desired_replicas) {
    // More telling than the deadline that follows it: it says who refused.
    settle(ShardPhase::Progressing, kReasonPodCreationFailed,
           "the Deployment cannot create the pod: " + d.replica_failure);
  } else if (d.progress_deadline_exceeded) {
    settle(ShardPhase::Progressing, kReasonProgressDeadlineExceeded,
           "the Deployment made no progress within its deadline; see the pod's events and logs");
  } else if (d.observed_generation < d.generation) {
    settle(ShardPhase::Progressing, kReasonRollingOut, "the Deployment controller has not seen the latest change yet");
  } else if (d.updated_replicas < d.desired_replicas || d.replicas > d.updated_replicas) {
    settle(ShardPhase::Progressing, kReasonRollingOut, "replacing the pod with the updated one");
  } else if (d.available_replicas < d.desired_replicas) {
    settle(ShardPhase::Progressing, kReasonStarting,
           "waiting for Electric to answer 200 on /v1/health");
  } else {
    settle(ShardPhase::Ready, kReasonAvailable, "");
    s.ready = true;
  }
  if (outdated && set.spec.paused) {
    // Still serving, on the template it had when the set was paused.
    s.reason = str(kReasonPaused);
    s.message = "spec.paused is true: the pod runs an older template until the set is resumed";
  }
  if (facts.storage_shrink) {
    s.reason = str(kReasonStorageShrinkNotSupported);
    s.message = *facts.storage_shrink;
  }
  if (facts.database_check && !facts.database_check->passed() && !s.failing()) {
    // Running (or started regardless, when unreachable): reported, never stopped.
    s.reason = facts.database_check->reason;
    s.message = facts.database_check->message;
  }
  return s;
}

std::vector<Condition> compute_set_conditions(const ShardSet& set, const std::vector<ShardStatus>& shards,
                                              const std::vector<FieldError>& set_wide_errors,
                                              const std::vector<std::string>& pending_shards) {
  const int64_t gen = set.generation;
  std::vector<Condition> out;
  const std::size_t total = set.spec.shards.size();
  std::size_t ready = 0;
  std::vector<std::string> rolling, failing;
  for (const auto& s : shards) {
    if (s.ready) ++ready;
    if (s.phase == ShardPhase::Progressing && !s.failing()) rolling.push_back("\"" + s.name + "\"");
    if (s.failing()) failing.push_back("shard \"" + s.name + "\": " + s.reason + ": " + s.message);
  }

  if (!set_wide_errors.empty()) {
    const std::string why = "the spec is invalid: " + describe_errors(set_wide_errors);
    out.push_back(condition(kConditionReady, false, kReasonInvalidSpec, why, gen));
    out.push_back(condition(kConditionProgressing, false, kReasonInvalidSpec, "no changes are applied until the spec is fixed", gen));
    out.push_back(condition(kConditionDegraded, true, kReasonInvalidSpec, why, gen));
  } else {
    const std::string counts = std::to_string(ready) + "/" + std::to_string(total) + " shards ready";
    bool all_ready = total > 0 && ready == total && shards.size() == total;
    if (set.spec.paused && !pending_shards.empty())
      out.push_back(condition(kConditionReady, false, kReasonPausedWithPendingChanges,
                              pending_changes_message(pending_shards) + "; " + counts, gen));
    else
      out.push_back(condition(kConditionReady, all_ready,
                              all_ready ? kReasonAllShardsReady : kReasonShardsNotReady, counts, gen));
    if (rolling.empty())
      out.push_back(condition(kConditionProgressing, false, kReasonStable, "no rollout in progress", gen));
    else
      out.push_back(condition(kConditionProgressing, true, kReasonRollingOut,
                              "shards rolling out: " + join_limited(rolling, ", "), gen));
    if (failing.empty())
      out.push_back(condition(kConditionDegraded, false, kReasonAsExpected, "", gen));
    else
      out.push_back(condition(kConditionDegraded, true, kReasonShardsFailing,
                              std::to_string(failing.size()) + " failing: " + join_limited(failing, "; "), gen));
  }
  if (set.spec.paused)
    out.push_back(condition(kConditionPaused, true, kReasonPausedByUser,
                            "spec.paused is true: the operator writes no changes to children", gen));
  else
    out.push_back(condition(kConditionPaused, false, kReasonReconciling, "", gen));
  return out;
}

std::vector<Condition> merge_conditions(const std::vector<Condition>& previous, std::vector<Condition> next,
                                        std::string_view now) {
  for (auto& c : next) {
    auto old = std::find_if(previous.begin(), previous.end(),
                            [&](const Condition& p) { return p.type == c.type; });
    if (old != previous.end() && old->status == c.status && !old->last_transition_time.empty())
      c.last_transition_time = old->last_transition_time;
    else
      c.last_transition_time = str(now);
  }
  return next;
}

ShardSetStatus compute_status(const ShardSet& set, std::vector<ShardStatus> shards,
                              std::vector<RetainedVolume> retained_volumes,
                              std::vector<RetainedReplicationSlot> retained_slots,
                              const std::vector<FieldError>& set_wide_errors,
                              const std::vector<std::string>& pending_shards, const json& previous_status,
                              std::string_view now) {
  ShardSetStatus st;
  st.observed_generation = set.generation;
  st.shard_count = static_cast<int64_t>(set.spec.shards.size());
  st.ready_shards = std::count_if(shards.begin(), shards.end(), [](const ShardStatus& s) { return s.ready; });
  st.routing_config_map = set.spec.routing_config_map_name;
  st.conditions = merge_conditions(conditions_from_json(previous_status),
                                   compute_set_conditions(set, shards, set_wide_errors, pending_shards), now);
  st.shards = std::move(shards);
  std::sort(retained_volumes.begin(), retained_volumes.end(), [](const RetainedVolume& a, const RetainedVolume& b) {
    return a.shard < b.shard || (a.shard == b.shard && a.persistent_volume_claim < b.persistent_volume_claim);
  });
  st.retained_volumes = std::move(retained_volumes);
  std::sort(retained_slots.begin(), retained_slots.end(),
            [](const RetainedReplicationSlot& a, const RetainedReplicationSlot& b) {
              return a.shard < b.shard || (a.shard == b.shard && a.slot < b.slot);
            });
  st.retained_replication_slots = std::move(retained_slots);
  return st;
}

std::vector<RetainedReplicationSlot> retained_replication_slots_from_json(const json& status) {
  std::vector<RetainedReplicationSlot> out;
  if (!status.is_object() || !status.contains("retainedReplicationSlots") ||
      !status["retainedReplicationSlots"].is_array())
    return out;
  for (const auto& r : status["retainedReplicationSlots"]) {
    if (!r.is_object()) continue;
    auto text = [&r](const char* key) {
      return r.contains(key) && r[key].is_string() ? r[key].get<std::string>() : std::string();
    };
    RetainedReplicationSlot slot{text("shard"), text("slot"), text("publication"), text("server"), text("message")};
    if (!slot.shard.empty() && !slot.slot.empty()) out.push_back(std::move(slot));
  }
  return out;
}

json retained_replication_slots_to_json(const std::vector<RetainedReplicationSlot>& slots) {
  json out = json::array();
  for (const auto& r : slots)
    out.push_back({{"shard", r.shard},
                   {"slot", r.slot},
                   {"publication", r.publication},
                   {"server", r.server},
                   {"message", r.message}});
  return out;
}

json condition_to_json(const Condition& c) {
  return {{"type", c.type},
          {"status", c.status},
          {"reason", c.reason},
          {"message", c.message},
          {"observedGeneration", c.observed_generation},
          {"lastTransitionTime", c.last_transition_time}};
}

std::vector<Condition> conditions_from_json(const json& status) {
  std::vector<Condition> out;
  if (!status.is_object() || !status.contains("conditions") || !status["conditions"].is_array()) return out;
  for (const auto& c : status["conditions"]) {
    if (!c.is_object()) continue;
    auto text = [&c](const char* key) {
      return c.contains(key) && c[key].is_string() ? c[key].get<std::string>() : std::string();
    };
    Condition cond{text("type"), text("status"), text("reason"), text("message"), 0,
                   text("lastTransitionTime")};
    if (c.contains("observedGeneration") && c["observedGeneration"].is_number_integer())
      cond.observed_generation = c["observedGeneration"].get<int64_t>();
    out.push_back(std::move(cond));
  }
  return out;
}

namespace {

json shards_to_json(const std::vector<ShardStatus>& shards) {
  json out = json::array();
  for (const auto& s : shards)
    out.push_back({{"name", s.name},
                   {"phase", to_string(s.phase)},
                   {"ready", s.ready},
                   {"reason", s.reason},
                   {"message", s.message},
                   {"instanceID", s.instance_id},
                   {"replicationStreamID", s.replication_stream_id},
                   {"url", s.url}});
  return out;
}

json conditions_to_json(const std::vector<Condition>& conditions) {
  json out = json::array();
  for (const auto& c : conditions) out.push_back(condition_to_json(c));
  return out;
}

}  // namespace

json with_refused_children(const ShardSet& set, std::vector<ShardStatus>& shards,
                           const std::map<std::string, std::string>& refused, const json& status,
                           std::string_view now) {
  bool changed = false;
  for (ShardStatus& s : shards) {
    auto it = refused.find(s.name);
    if (it == refused.end()) continue;
    if (!s.ready && (s.reason == kReasonCreating || s.phase == ShardPhase::Pending)) s.phase = ShardPhase::Failed;
    s.reason = str(kReasonRejectedByAPIServer);
    s.message = it->second;
    changed = true;
  }
  if (!changed) return status;
  json out = status;
  out["shards"] = shards_to_json(shards);
  out["readyShards"] = std::count_if(shards.begin(), shards.end(), [](const ShardStatus& s) { return s.ready; });
  // Applies happen only for a valid, unpaused spec: no set-wide errors, no
  // pending shards.
  out["conditions"] = conditions_to_json(merge_conditions(conditions_from_json(status),
                                                          compute_set_conditions(set, shards, {}, {}), now));
  return out;
}

json status_to_json(const ShardSetStatus& st) {
  json conditions = conditions_to_json(st.conditions);
  json shards = shards_to_json(st.shards);
  json retained = json::array();
  for (const auto& r : st.retained_volumes)
    retained.push_back({{"shard", r.shard}, {"persistentVolumeClaim", r.persistent_volume_claim}});
  json slots = retained_replication_slots_to_json(st.retained_replication_slots);
  return {{"observedGeneration", st.observed_generation},
          {"shardCount", st.shard_count},
          {"readyShards", st.ready_shards},
          {"routingConfigMap", st.routing_config_map},
          {"conditions", conditions},
          {"shards", shards},
          {"retainedVolumes", retained},
          {"retainedReplicationSlots", slots}};
}

}  // namespace electric
