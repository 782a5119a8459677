#include "electric/reconcile_plan.h"

#include <set>

#include "electric/config_hash.h"
#include "electric/database_url.h"
#include "electric/naming.h"
#include "electric/render.h"
#include "electric/routing.h"

namespace electric {

using nlohmann::json;

namespace {

const std::string kKindDeployment = "Deployment";
const std::string kKindPvc = "PersistentVolumeClaim";
const std::string kKindConfigMap = "ConfigMap";
const std::string kKindNetworkPolicy = "NetworkPolicy";

std::string pvc_request(const json& pvc) {
  const json* storage = &pvc;
  for (const char* key : {"spec", "resources", "requests", "storage"}) {
    if (!storage->is_object() || !storage->contains(key)) return {};
    storage = &(*storage)[key];
  }
  return storage->is_string() ? storage->get<std::string>() : std::string();
}

const json& find_or_null(const std::map<std::string, json>& by_name, const std::string& name) {
  static const json null_json;
  auto it = by_name.find(name);
  return it == by_name.end() ? null_json : it->second;
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

}  // namespace

std::vector<ShardIdentity> shard_identities(const ParsedShardSet& parsed,
                                            const SecretReader& read_secret) {
  std::vector<ShardIdentity> out;
  const ShardSet& set = parsed.set;
  std::set<std::string> seen;
  for (const Shard& shard : set.spec.shards) {
    // A duplicated name is a set-wide error; its first entry speaks for it,
    // so one key never has two identities.
    if (!seen.insert(shard.name).second) continue;
    if (!is_valid_shard_name(shard.name)) continue;
    if (shard.replication_stream_id && !is_valid_stream_id(*shard.replication_stream_id)) continue;
    auto url = read_secret_key(shard.database_url_secret_ref, read_secret);
    if (!url) continue;
    auto parsed_url = parse_database_url(*url);
    if (!parsed_url) continue;
    out.push_back(shard_identity(set, shard, *parsed_url));
  }
  return out;
}

Plan plan_reconcile(const ParsedShardSet& parsed, const Observed& observed,
                    const json& previous_status) {
  const ShardSet& set = parsed.set;
  const std::vector<FieldError> set_wide = parsed.set_wide_errors();
  // A deleting set's children go by garbage collection; writing them would
  // race it (the reconciler does not call us then, but the rule lives here).
  const bool may_write = set_wide.empty() && !set.spec.paused && !set.being_deleted;
  Plan plan;

  const auto api_secret = resolve_api_secret(set, observed.read_secret, observed.generated_api_secret);

  std::vector<json> secrets, pvcs, retained_pvcs, services, deployments;
  std::set<std::string> in_spec;
  for (const Shard& shard : set.spec.shards) {
    in_spec.insert(shard.name);
    const std::string child = shard_child_name(set.name, shard.name);
    const std::string pvc_name = shard_pvc_name(set.name, shard.name);

    ShardFacts facts;
    facts.spec_errors = parsed.errors_for_shard(shard.name);
    std::optional<ShardSecretValues> values;
    if (facts.spec_errors.empty())
      facts.pod_security_problem = pod_security_problem(set, shard, observed.max_pod_security_level);
    if (facts.spec_errors.empty()) {
      auto resolved = resolve_shard_secret_values(shard, observed.read_secret, api_secret);
      if (!resolved) {
        facts.secret_problem = resolved.error();
      } else {
        values = std::move(resolved).value();
        facts.database_url_problem = database_url_problem(shard, *values);
        // What the pod template will carry: a live Deployment with another
        // hash is not "updated" yet, whatever its replica counts say.
        facts.desired_config_hash = compute_config_hash(set, shard, *values);
      }
      auto conflict = observed.stream_conflicts.find({set.namespace_name, set.name, shard.name});
      if (conflict != observed.stream_conflicts.end()) facts.stream_conflict = conflict->second;
    }
    facts.deployment = deployment_facts(find_or_null(observed.deployments, child));
    const json& live_pvc = find_or_null(observed.pvcs, pvc_name);
    if (!live_pvc.is_null()) {
      facts.storage_shrink = storage_shrink_problem(effective_storage_size(set, shard), pvc_request(live_pvc));
    }

    ShardStatus status = compute_shard_status(set, shard, facts, observed.cluster_domain);
    if (status.failing()) {
      plan.events.push_back({"Warning", status.reason, "shard \"" + shard.name + "\": " + status.message});
    }
    plan.shards.push_back(status);

    if (!may_write) continue;
    const bool runnable =
        values && !facts.pod_security_problem && !facts.database_url_problem && !facts.stream_conflict;
    if (runnable) {
      secrets.push_back(render_shard_secret(set, shard, *values));
      // A shrink is refused: the PVC keeps its size and the pod keeps running on it.
      if (!facts.storage_shrink) pvcs.push_back(render_pvc(set, shard, pvc_has_owner_reference(set, true)));
      services.push_back(render_service(set, shard));
      deployments.push_back(render_deployment(set, shard, *facts.desired_config_hash));
    } else if (facts.stream_conflict) {
      // The shard lost its stream to an older set: its Electric must stop, or
      // two would consume one replication slot.
      for (const LiveChild& c : observed.children) {
        if (c.kind == kKindDeployment && c.name == child && c.owned_by_set)
          plan.remove.push_back({c.kind, c.name, c.uid});
      }
    }
    // Other problems (missing Secret, bad URL, shard spec error, a pod
    // beyond the allowed Pod Security level) leave the shard's existing
    // children as they are: a running Electric keeps serving on its last
    // good configuration until the input is fixed.
  }

  // Children of shards no longer in spec, and routing ConfigMaps under an
  // old name. Skipped while the spec is invalid: a shard the parser could not
  // read is not a removed shard. Retained PVCs are reported even while paused.
  std::vector<RetainedVolume> retained;
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
    if (c.shard.empty() || in_spec.count(c.shard)) continue;
    if (c.kind == kKindPvc && applicable_retention(set, false) == RetentionPolicy::Retain) {
      retained.push_back({c.shard, c.name});
      if (may_write && c.owned_by_set) {
        // Without the ownerReference the volume outlives the set too.
        retained_pvcs.push_back(render_retained_pvc(set, c.shard, find_or_null(observed.pvcs, c.name)));
        plan.events.push_back({"Normal", "VolumeRetained",
                               "shard \"" + c.shard + "\" is no longer in spec; PersistentVolumeClaim \"" +
                                   c.name + "\" is kept (whenShardRemoved: Retain)"});
      }
      continue;
    }
    if (!may_write) continue;
    // Only what this set owns; a removed shard's PVC may have no owner (it
    // was created under whenDeleted: Retain) and is ours by its labels.
    if (c.kind != kKindPvc && !c.owned_by_set) continue;
    plan.remove.push_back({c.kind, c.name, c.uid});
    if (c.kind == kKindDeployment) {
      plan.events.push_back({"Normal", "ShardRemoved",
                             "shard \"" + c.shard + "\" is no longer in spec; its children are deleted"});
    }
  }

  if (may_write) {
    // Before any Deployment, so no pod starts unprotected.
    std::vector<json> network_policies;
    if (set.spec.network_policy.enabled) network_policies.push_back(render_network_policy(set));
    for (auto* group : {&secrets, &pvcs, &retained_pvcs, &network_policies, &services, &deployments}) {
      for (auto& obj : *group) plan.apply.push_back(std::move(obj));
    }
    plan.apply.push_back(render_routing_configmap(set, plan.shards, observed.cluster_domain));
  }
  plan.status = status_to_json(compute_status(set, plan.shards, std::move(retained), set_wide,
                                              previous_status, observed.now));
  if (!set_wide.empty()) {
    plan.events.push_back({"Warning", std::string(kReasonInvalidSpec), describe_errors(set_wide)});
  }
  return plan;
}

}  // namespace electric
