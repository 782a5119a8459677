#include "electric/shard_set.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "electric/constants.h"
#include "electric/digest.h"
#include "electric/naming.h"
#include "electric/quantity.h"

namespace electric {

using nlohmann::json;

const char* to_string(RetentionPolicy policy) {
  return policy == RetentionPolicy::Delete ? "Delete" : "Retain";
}

const Shard* ShardSet::find_shard(const std::string& shard_name) const {
  for (const auto& shard : spec.shards)
    if (shard.name == shard_name) return &shard;
  return nullptr;
}

bool ParsedShardSet::has_set_wide_errors() const {
  for (const auto& e : errors)
    if (e.shard.empty()) return true;
  return false;
}

std::vector<FieldError> ParsedShardSet::set_wide_errors() const {
  std::vector<FieldError> out;
  for (const auto& e : errors)
    if (e.shard.empty()) out.push_back(e);
  return out;
}

std::vector<FieldError> ParsedShardSet::errors_for_shard(const std::string& shard_name) const {
  std::vector<FieldError> out;
  for (const auto& e : errors)
    if (!e.shard.empty() && e.shard == shard_name) out.push_back(e);
  return out;
}

std::string describe_errors(const std::vector<FieldError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "; ";
    out += e.describe();
  }
  return out;
}

const json& effective_resources(const ShardSet& set, const Shard& shard) {
  if (shard.resources.is_object() && !shard.resources.empty()) return shard.resources;
  return set.spec.pod_template.resources;
}

const std::string& effective_storage_size(const ShardSet& set, const Shard& shard) {
  return shard.storage_size ? *shard.storage_size : set.spec.storage.size;
}

RetentionPolicy applicable_retention(const ShardSet& set, bool shard_in_spec) {
  return shard_in_spec ? set.spec.pvc_retention.when_deleted
                       : set.spec.pvc_retention.when_shard_removed;
}

SecretKeyRef api_secret_source(const ShardSet& set) {
  if (set.spec.api_secret_ref) return *set.spec.api_secret_ref;
  return {api_secret_name(set.name), std::string(kApiSecretKey)};
}

std::vector<std::string> referenced_secret_names(const ShardSet& set) {
  std::set<std::string> names{api_secret_source(set).name};
  for (const auto& shard : set.spec.shards) {
    names.insert(shard.database_url_secret_ref.name);
    if (shard.pooled_database_url_secret_ref) names.insert(shard.pooled_database_url_secret_ref->name);
  }
  names.erase("");
  return {names.begin(), names.end()};
}

namespace {

// Reads fields by type, recording an error (and keeping the default) when a
// field has the wrong type. `shard` scopes the errors it records.
//
// It also remembers which keys it was asked for at each object, so
// report_unknown() can name the rest: the parser's own reads are the one list
// of known fields (crd_test checks it against the CRD's schema).
class Reader {
 public:
  // `unknown` receives report_unknown()'s findings; null = not wanted.
  explicit Reader(std::vector<FieldError>& errors, std::vector<FieldError>* unknown = nullptr)
      : errors_(errors), unknown_(unknown) {}

  void error(std::string path, std::string message, std::string shard = {}) {
    errors_.push_back({std::move(path), std::move(message), std::move(shard)});
  }

  // The member `key` of `obj` when present and not null, else nullptr.
  const json* member(const json& obj, const char* key) {
    asked_[&obj].insert(key);
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }

  bool read_string(const json& obj, const char* key, const std::string& path, std::string& out,
                   const std::string& shard = {}) {
    const json* v = member(obj, key);
    if (!v) return false;
    if (!v->is_string()) {
      error(path, "must be a string", shard);
      return false;
    }
    out = v->get<std::string>();
    return true;
  }

  bool read_object(const json& obj, const char* key, const std::string& path, json& out,
                   const std::string& shard = {}) {
    const json* v = member(obj, key);
    if (!v) return false;
    if (!v->is_object()) {
      error(path, "must be an object", shard);
      return false;
    }
    out = *v;
    return true;
  }

  bool read_array(const json& obj, const char* key, const std::string& path, json& out,
                  const std::string& shard = {}) {
    const json* v = member(obj, key);
    if (!v) return false;
    if (!v->is_array()) {
      error(path, "must be a list", shard);
      return false;
    }
    out = *v;
    return true;
  }

  void read_string_map(const json& obj, const char* key, const std::string& path,
                       std::map<std::string, std::string>& out) {
    json raw;
    if (!read_object(obj, key, path, raw)) return;
    for (auto it = raw.begin(); it != raw.end(); ++it) {
      if (!it->is_string()) {
        error(path + "." + it.key(), "must be a string");
        continue;
      }
      out[it.key()] = it->get<std::string>();
    }
  }

  std::optional<SecretKeyRef> read_secret_ref(const json& obj, const char* key,
                                              const std::string& path, const std::string& shard) {
    json raw;
    if (!read_object(obj, key, path, raw, shard)) return std::nullopt;
    SecretKeyRef ref;
    read_string(raw, "name", path + ".name", ref.name, shard);
    read_string(raw, "key", path + ".key", ref.key, shard);
    report_unknown(raw, path, shard);
    return ref;
  }

  RetentionPolicy read_retention(const json& obj, const char* key, const std::string& path,
                                 RetentionPolicy when_absent = RetentionPolicy::Retain) {
    std::string value;
    if (!read_string(obj, key, path, value)) return when_absent;
    if (value == kRetentionDelete) return RetentionPolicy::Delete;
    if (value != kRetentionRetain)
      error(path, "must be Retain or Delete, not \"" + value + "\"");
    return RetentionPolicy::Retain;  // the unknown keeps data: the safe side
  }

  // Records every member of `obj` (at `path`) that was never asked for, with
  // the closest known name as a hint. Call it once `obj` is fully read; it
  // forgets `obj`, whose address a later local may reuse.
  void report_unknown(const json& obj, const std::string& path, const std::string& shard = {}) {
    auto asked = asked_.find(&obj);
    if (asked == asked_.end()) return;
    if (unknown_ && obj.is_object()) report_unknown_members(obj, asked->second, path, shard);
    asked_.erase(asked);
  }

 private:
  void report_unknown_members(const json& obj, const std::set<std::string>& known,
                              const std::string& path, const std::string& shard) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (known.count(it.key())) continue;
      std::string message = "unknown field";
      if (auto hint = closest(it.key(), known)) message += " (did you mean " + path + "." + *hint + "?)";
      unknown_->push_back({path + "." + it.key(), message, shard});
    }
  }

  // The known name a typo most likely meant: same letters in another case,
  // or at most two edits away.
  static std::optional<std::string> closest(const std::string& key, const std::set<std::string>& known) {
    std::optional<std::string> best;
    std::size_t best_distance = 3;
    for (const auto& k : known) {
      std::size_t d = edit_distance(lower(key), lower(k));
      if (d < best_distance) best_distance = d, best = k;
    }
    return best;
  }
  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  static std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        std::size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    return row[b.size()];
  }

  std::vector<FieldError>& errors_;
  std::vector<FieldError>* unknown_;
  std::map<const json*, std::set<std::string>> asked_;
};

Shard parse_shard(Reader& r, const json& raw, const std::string& path, const std::string& name) {
  Shard shard;
  shard.name = name;
  auto url_ref = r.read_secret_ref(raw, "databaseURLSecretRef", path + ".databaseURLSecretRef", name);
  if (url_ref)
    shard.database_url_secret_ref = *url_ref;
  else if (!r.member(raw, "databaseURLSecretRef"))
    r.error(path + ".databaseURLSecretRef", "is required", name);
  shard.pooled_database_url_secret_ref = r.read_secret_ref(
      raw, "pooledDatabaseURLSecretRef", path + ".pooledDatabaseURLSecretRef", name);
  std::string stream_id;
  if (r.read_string(raw, "replicationStreamID", path + ".replicationStreamID", stream_id, name))
    shard.replication_stream_id = stream_id;
  r.read_object(raw, "resources", path + ".resources", shard.resources, name);
  json storage;
  if (r.read_object(raw, "storage", path + ".storage", storage, name)) {
    std::string size;
    if (r.read_string(storage, "size", path + ".storage.size", size, name)) shard.storage_size = size;
    r.report_unknown(storage, path + ".storage", name);
  }
  r.read_array(raw, "env", path + ".env", shard.env, name);
  r.report_unknown(raw, path, name);
  return shard;
}

std::string managed_env_list() {
  std::string out;
  for (std::string_view name : kManagedEnvNames) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

void check_env(Reader& r, const json& env, const std::string& path, const std::string& shard) {
  for (std::size_t i = 0; i < env.size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    const json& e = env[i];
    const json* name = r.member(e, "name");
    if (!e.is_object() || !name || !name->is_string() || name->get<std::string>().empty()) {
      r.error(item + ".name", "is required (an EnvVar with a name)", shard);
      continue;
    }
    const std::string n = name->get<std::string>();
    if (is_managed_env_name(n))
      r.error(item + ".name", n + " is managed by the operator and may not be set here (managed: " +
                                  managed_env_list() + ")",
              shard);
  }
}

void check_size(Reader& r, const std::string& size, const std::string& path, const std::string& shard) {
  auto q = parse_quantity(size);
  if (!q)
    r.error(path, "\"" + size + "\" is not a quantity: it " + q.error(), shard);
  else if (!q->positive())
    r.error(path, "must be greater than zero", shard);
}

void check_secret_ref(Reader& r, const SecretKeyRef& ref, const std::string& path,
                      const std::string& shard) {
  if (!is_dns1123_subdomain(ref.name))
    r.error(path + ".name", "must name a Secret (a DNS-1123 subdomain)", shard);
  if (ref.key.empty()) r.error(path + ".key", "is required", shard);
}

// What every shard's render reads of the object besides its own entry.
std::string set_render_inputs(const json& metadata, const json& spec) {
  json inputs = json::object();
  for (const char* field : {"name", "namespace", "uid"})
    if (auto it = metadata.find(field); it != metadata.end()) inputs["metadata"][field] = *it;
  for (auto it = spec.begin(); it != spec.end(); ++it)
    if (it.key() != "shards") inputs["spec"][it.key()] = it.value();
  return inputs.dump();
}

}  // namespace

ParsedShardSet parse_shard_set(const json& object) {
  ParsedShardSet parsed;
  Reader r(parsed.errors, &parsed.unknown_fields);
  ShardSet& set = parsed.set;
  if (!object.is_object()) {
    r.error("", "an ElectricShardSet must be an object");
    return parsed;
  }

  const json empty = json::object();
  const json* metadata = r.member(object, "metadata");
  if (!metadata || !metadata->is_object()) metadata = &empty;
  if (!r.read_string(*metadata, "name", "metadata.name", set.name))
    if (!r.member(*metadata, "name")) r.error("metadata.name", "is required");
  r.read_string(*metadata, "namespace", "metadata.namespace", set.namespace_name);
  r.read_string(*metadata, "uid", "metadata.uid", set.uid);
  r.read_string(*metadata, "creationTimestamp", "metadata.creationTimestamp", set.creation_timestamp);
  if (const json* g = r.member(*metadata, "generation"); g && g->is_number_integer())
    set.generation = g->get<int64_t>();
  set.being_deleted = r.member(*metadata, "deletionTimestamp") != nullptr;
  // Both read without the Reader: metadata is the API server's and its
  // other fields are none of ours to check.
  if (auto f = metadata->find("finalizers"); f != metadata->end() && f->is_array())
    for (const json& name : *f) set.has_slot_finalizer |= name.is_string() && name.get<std::string>() == kFinalizerReplicationSlots;
  if (auto a = metadata->find("annotations"); a != metadata->end() && a->is_object())
    if (auto skip = a->find(std::string(kAnnotationSkipSlotCleanup)); skip != a->end())
      set.skip_slot_cleanup = skip->is_string() && skip->get<std::string>() == "true";

  const json* spec = r.member(object, "spec");
  if (!spec || !spec->is_object()) {
    r.error("spec", spec ? "must be an object" : "is required");
    spec = &empty;
  }
  ShardSetSpec& s = set.spec;
  r.read_string(*spec, "image", "spec.image", s.image);
  r.read_string(*spec, "imagePullPolicy", "spec.imagePullPolicy", s.image_pull_policy);
  r.read_array(*spec, "imagePullSecrets", "spec.imagePullSecrets", s.image_pull_secrets);
  s.api_secret_ref = r.read_secret_ref(*spec, "apiSecretRef", "spec.apiSecretRef", "");
  if (const json* paused = r.member(*spec, "paused")) {
    if (paused->is_boolean())
      s.paused = paused->get<bool>();
    else
      r.error("spec.paused", "must be true or false");
  }

  json tpl;
  if (r.read_object(*spec, "template", "spec.template", tpl)) {
    PodTemplate& t = s.pod_template;
    r.read_object(tpl, "resources", "spec.template.resources", t.resources);
    r.read_array(tpl, "env", "spec.template.env", t.env);
    r.read_string_map(tpl, "podAnnotations", "spec.template.podAnnotations", t.pod_annotations);
    r.read_string_map(tpl, "podLabels", "spec.template.podLabels", t.pod_labels);
    r.read_string_map(tpl, "nodeSelector", "spec.template.nodeSelector", t.node_selector);
    r.read_array(tpl, "tolerations", "spec.template.tolerations", t.tolerations);
    r.read_object(tpl, "affinity", "spec.template.affinity", t.affinity);
    r.read_string(tpl, "serviceAccountName", "spec.template.serviceAccountName", t.service_account_name);
    r.read_string(tpl, "priorityClassName", "spec.template.priorityClassName", t.priority_class_name);
    r.read_object(tpl, "podSecurityContext", "spec.template.podSecurityContext", t.pod_security_context);
    r.read_object(tpl, "securityContext", "spec.template.securityContext", t.security_context);
    if (const json* automount = r.member(tpl, "automountServiceAccountToken")) {
      if (automount->is_boolean())
        t.automount_service_account_token = automount->get<bool>();
      else
        r.error("spec.template.automountServiceAccountToken", "must be true or false");
    }
    r.report_unknown(tpl, "spec.template");
  }

  json storage;
  if (r.read_object(*spec, "storage", "spec.storage", storage)) {
    r.read_string(storage, "size", "spec.storage.size", s.storage.size);
    r.read_string(storage, "storageClassName", "spec.storage.storageClassName",
                  s.storage.storage_class_name);
    json modes;
    if (r.read_array(storage, "accessModes", "spec.storage.accessModes", modes)) {
      s.storage.access_modes.clear();
      for (std::size_t i = 0; i < modes.size(); ++i) {
        if (modes[i].is_string())
          s.storage.access_modes.push_back(modes[i].get<std::string>());
        else
          r.error("spec.storage.accessModes[" + std::to_string(i) + "]", "must be a string");
      }
    }
    r.report_unknown(storage, "spec.storage");
  }

  json service;
  if (r.read_object(*spec, "service", "spec.service", service)) {
    r.read_string(service, "type", "spec.service.type", s.service.type);
    if (const json* port = r.member(service, "port")) {
      if (port->is_number_integer())
        s.service.port = port->get<int64_t>();
      else
        r.error("spec.service.port", "must be an integer");
    }
    r.report_unknown(service, "spec.service");
  }

  json retention;
  if (r.read_object(*spec, "persistentVolumeClaimRetentionPolicy",
                    "spec.persistentVolumeClaimRetentionPolicy", retention)) {
    s.pvc_retention.when_deleted = r.read_retention(
        retention, "whenDeleted", "spec.persistentVolumeClaimRetentionPolicy.whenDeleted");
    s.pvc_retention.when_shard_removed = r.read_retention(
        retention, "whenShardRemoved", "spec.persistentVolumeClaimRetentionPolicy.whenShardRemoved");
    r.report_unknown(retention, "spec.persistentVolumeClaimRetentionPolicy");
  }

  json slot_retention;
  if (r.read_object(*spec, "replicationSlotRetentionPolicy", "spec.replicationSlotRetentionPolicy",
                    slot_retention)) {
    s.slot_retention.when_deleted = r.read_retention(
        slot_retention, "whenDeleted", "spec.replicationSlotRetentionPolicy.whenDeleted", RetentionPolicy::Delete);
    s.slot_retention.when_shard_removed =
        r.read_retention(slot_retention, "whenShardRemoved", "spec.replicationSlotRetentionPolicy.whenShardRemoved",
                         RetentionPolicy::Delete);
    r.report_unknown(slot_retention, "spec.replicationSlotRetentionPolicy");
  }

  json routing;
  if (r.read_object(*spec, "routing", "spec.routing", routing)) {
    r.read_string(routing, "configMapName", "spec.routing.configMapName", s.routing_config_map_name);
    r.report_unknown(routing, "spec.routing");
  }
  if (s.routing_config_map_name.empty() && !set.name.empty())
    s.routing_config_map_name = default_routing_config_map_name(set.name);

  std::string database_checks = "Enabled";
  if (r.read_string(*spec, "databaseChecks", "spec.databaseChecks", database_checks)) {
    if (database_checks != "Enabled" && database_checks != "Disabled")
      r.error("spec.databaseChecks", "must be Enabled or Disabled");
    s.database_checks = database_checks != "Disabled";
  }
  if (r.read_string(*spec, "walRetentionThreshold", "spec.walRetentionThreshold", s.wal_retention_threshold)) {
    auto q = parse_quantity(s.wal_retention_threshold);
    if (!q || !q->positive())
      r.error("spec.walRetentionThreshold", "must be a quantity greater than zero, e.g. 10Gi");
    else
      s.wal_retention_threshold_bytes = static_cast<int64_t>(q->millis / 1000);
  }

  json network_policy;
  if (r.read_object(*spec, "networkPolicy", "spec.networkPolicy", network_policy)) {
    if (const json* enabled = r.member(network_policy, "enabled")) {
      if (enabled->is_boolean())
        s.network_policy.enabled = enabled->get<bool>();
      else
        r.error("spec.networkPolicy.enabled", "must be true or false");
    }
    r.read_array(network_policy, "from", "spec.networkPolicy.from", s.network_policy.from);
    r.report_unknown(network_policy, "spec.networkPolicy");
  }

  const std::string set_inputs = set_render_inputs(*metadata, *spec);
  json shards;
  if (r.read_array(*spec, "shards", "spec.shards", shards)) {
    for (std::size_t i = 0; i < shards.size(); ++i) {
      const std::string path = "spec.shards[" + std::to_string(i) + "]";
      const json& raw = shards[i];
      if (!raw.is_object()) {
        r.error(path, "must be an object");
        continue;
      }
      std::string name;
      if (!r.read_string(raw, "name", path + ".name", name)) {
        if (!r.member(raw, "name")) r.error(path + ".name", "is required");
        continue;  // a shard without a name cannot be reported on by itself
      }
      parsed.render_keys.emplace(name, sha256_hex(set_inputs + raw.dump()));
      s.shards.push_back(parse_shard(r, raw, path, name));
    }
  } else if (!r.member(*spec, "shards")) {
    r.error("spec.shards", "is required (1 to 512 shards)");
  }
  r.report_unknown(*spec, "spec");

  // A field parsing already reported (missing, wrong type) would only be
  // reported again, less clearly, by validation: keep the parser's message.
  const std::size_t parse_errors = parsed.errors.size();
  for (auto& e : validate(set)) {
    bool covered = false;
    for (std::size_t i = 0; i < parse_errors && !covered; ++i) {
      const std::string& p = parsed.errors[i].path;
      covered = e.path == p || (e.path.size() > p.size() && e.path.compare(0, p.size(), p) == 0 &&
                                (e.path[p.size()] == '.' || e.path[p.size()] == '['));
    }
    if (!covered) parsed.errors.push_back(std::move(e));
  }
  return parsed;
}

std::vector<FieldError> validate(const ShardSet& set) {
  std::vector<FieldError> errors;
  Reader r(errors);
  const ShardSetSpec& s = set.spec;

  if (!is_dns1035_label(set.name))
    r.error("metadata.name",
            "\"" + set.name + "\" is not a DNS-1035 label: lowercase letters, digits and '-', "
            "starting with a letter and ending with a letter or digit");

  if (s.shards.size() < static_cast<std::size_t>(kMinShards))
    r.error("spec.shards", "must list at least 1 shard");
  if (s.shards.size() > static_cast<std::size_t>(kMaxShards))
    r.error("spec.shards", "may list at most 512 shards");

  std::set<std::string> names;
  std::map<std::string, std::string> explicit_ids;  // id -> first shard using it
  for (std::size_t i = 0; i < s.shards.size(); ++i) {
    const Shard& shard = s.shards[i];
    const std::string path = "spec.shards[" + std::to_string(i) + "]";
    if (!names.insert(shard.name).second) {
      // Which shard owns the children is ambiguous: the whole set stops.
      r.error(path + ".name", "duplicate shard name \"" + shard.name + "\"");
      continue;
    }
    if (!is_valid_shard_name(shard.name))
      r.error(path + ".name",
              "\"" + shard.name + "\" must consist of lowercase letters, digits and '-', "
              "starting and ending with a letter or digit",
              shard.name);
    if (set.name.size() + shard.name.size() > static_cast<std::size_t>(kMaxSetPlusShardNameLength))
      r.error(path + ".name",
              "set name plus shard name is " + std::to_string(set.name.size() + shard.name.size()) +
                  " characters; at most " + std::to_string(kMaxSetPlusShardNameLength) +
                  " are allowed so child names fit 63",
              shard.name);
    if (shard.replication_stream_id) {
      const std::string& id = *shard.replication_stream_id;
      if (!is_valid_stream_id(id)) {
        r.error(path + ".replicationStreamID",
                "\"" + id + "\" must match ^[a-z_][a-z0-9_]{0,41}$ (lowercase letters, digits and "
                "'_', at most 42, not starting with a digit)",
                shard.name);
      } else if (auto [it, inserted] = explicit_ids.emplace(id, shard.name); !inserted) {
        r.error(path + ".replicationStreamID",
                "\"" + id + "\" is already the replicationStreamID of shard \"" + it->second + "\"",
                shard.name);
      }
    }
    check_secret_ref(r, shard.database_url_secret_ref, path + ".databaseURLSecretRef", shard.name);
    if (shard.pooled_database_url_secret_ref)
      check_secret_ref(r, *shard.pooled_database_url_secret_ref,
                       path + ".pooledDatabaseURLSecretRef", shard.name);
    if (shard.storage_size) check_size(r, *shard.storage_size, path + ".storage.size", shard.name);
    check_env(r, shard.env, path + ".env", shard.name);
  }

  check_env(r, s.pod_template.env, "spec.template.env", "");
  check_size(r, s.storage.size, "spec.storage.size", "");
  if (s.image.empty()) r.error("spec.image", "must not be empty");
  if (s.image_pull_policy != "Always" && s.image_pull_policy != "IfNotPresent" &&
      s.image_pull_policy != "Never")
    r.error("spec.imagePullPolicy", "must be Always, IfNotPresent or Never");
  if (s.api_secret_ref) check_secret_ref(r, *s.api_secret_ref, "spec.apiSecretRef", "");
  if (s.service.port < 1 || s.service.port > 65535)
    r.error("spec.service.port", "must be between 1 and 65535");
  if (s.service.type != "ClusterIP" && s.service.type != "NodePort" &&
      s.service.type != "LoadBalancer")
    r.error("spec.service.type", "must be ClusterIP, NodePort or LoadBalancer");
  if (s.storage.access_modes.empty())
    r.error("spec.storage.accessModes", "must list at least one access mode");
  for (std::size_t i = 0; i < s.storage.access_modes.size(); ++i) {
    const std::string& m = s.storage.access_modes[i];
    if (m != "ReadWriteOnce" && m != "ReadOnlyMany" && m != "ReadWriteMany" && m != "ReadWriteOncePod")
      r.error("spec.storage.accessModes[" + std::to_string(i) + "]",
              "must be ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod");
  }
  if (!s.storage.storage_class_name.empty() && !is_dns1123_subdomain(s.storage.storage_class_name))
    r.error("spec.storage.storageClassName", "must be a DNS-1123 subdomain");
  // Empty only when metadata.name is missing, which is reported already.
  if (!s.routing_config_map_name.empty() && !is_dns1123_subdomain(s.routing_config_map_name))
    r.error("spec.routing.configMapName", "must be a DNS-1123 subdomain");
  return errors;
}

std::vector<FieldError> validate_transition(const ShardSet& previous, const ShardSet& next) {
  std::vector<FieldError> errors;
  for (std::size_t i = 0; i < next.spec.shards.size(); ++i) {
    const Shard& shard = next.spec.shards[i];
    const Shard* old = previous.find_shard(shard.name);
    if (!old || !old->replication_stream_id) continue;
    if (shard.replication_stream_id == old->replication_stream_id) continue;
    errors.push_back({"spec.shards[" + std::to_string(i) + "].replicationStreamID",
                      "is immutable once set (was \"" + *old->replication_stream_id +
                          "\"): the replication slot and publication are named after it",
                      shard.name});
  }
  return errors;
}

}  // namespace electric
