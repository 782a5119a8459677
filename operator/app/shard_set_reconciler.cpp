#include "app/shard_set_reconciler.h"

#include <openssl/rand.h>

#include <ctime>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "app/drift.h"
#include "electric/constants.h"
#include "electric/digest.h"
#include "electric/labels.h"
#include "electric/naming.h"
#include "electric/render.h"
#include "electric/stream_conflict.h"

namespace app {

using nlohmann::json;

namespace {

const std::string kShardSetLabel(electric::kLabelShardSet);
const std::string kShardLabel(electric::kLabelShard);
// How soon a reconcile that came before the first reads of referenced
// Secrets finished tries again (only right after start-up).
constexpr auto kReferencesNotReadyRetry = std::chrono::milliseconds(200);

// A JSON pointer token for a key that may hold '/' or '~' (label keys do).
std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string text_at(const json& obj, const json::json_pointer& ptr) {
  return obj.contains(ptr) && obj[ptr].is_string() ? obj[ptr].get<std::string>() : std::string();
}

// What the cache would hold for `desired` once applied: Secrets of shards are
// cached by digest, and list responses carry no apiVersion/kind.
json comparable(const json& desired) {
  json out = desired;
  out.erase("apiVersion");
  out.erase("kind");
  if (desired.value("kind", "") == "Secret") {
    json projected = project_secret(desired);
    if (projected.contains("dataDigest")) {
      out.erase("data");
      out["dataDigest"] = projected["dataDigest"];
    }
  }
  return out;
}

bool owned_by(const json& child, const std::string& uid) {
  const json::json_pointer refs("/metadata/ownerReferences");
  if (!child.contains(refs) || !child[refs].is_array()) return false;
  for (const auto& ref : child[refs]) {
    if (ref.value("uid", "") == uid) return true;
  }
  return false;
}

}  // namespace

std::string openssl_random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("OpenSSL's random generator failed");
  }
  return out;
}

std::string rfc3339_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ShardSetReconciler::ShardSetReconciler(kube::Client& client, Caches& caches,
                                       runtime::EventRecorder& events, ReconcilerOptions options)
    : client_(client), caches_(caches), events_(events), options_(std::move(options)) {
  if (!options_.now) options_.now = rfc3339_now;
  if (!options_.random_bytes) {
    options_.random_bytes = [] { return openssl_random_bytes(electric::kApiSecretRandomBytes); };
  }
}

electric::SecretReader ShardSetReconciler::secret_reader(const std::string& ns) const {
  return caches_.referenced_secrets.reader(ns);
}

std::map<electric::ShardKey, std::string> ShardSetReconciler::stream_conflicts(const std::string& set_key) const {
  return caches_.referenced_secrets.stream_conflicts(set_key);
}

std::vector<std::string> ShardSetReconciler::sets_referencing_secret(const std::string& ns,
                                                                     const std::string& name) const {
  return caches_.referenced_secrets.sets_referencing(ns, name);
}

kube::Result<std::string> ShardSetReconciler::ensure_api_secret(const electric::ShardSet& set) {
  const std::string name = electric::api_secret_name(set.name);
  const std::string key(electric::kApiSecretKey);
  auto value_of = [&](const json& secret) -> std::optional<std::string> {
    const json::json_pointer ptr("/data/" + key);
    if (!secret.contains(ptr) || !secret[ptr].is_string()) return std::nullopt;
    return electric::base64_decode(secret[ptr].get<std::string>());
  };
  if (runtime::Projection cached = caches_.secrets.get(set.namespace_name, name)) {
    if (auto v = value_of(*cached)) return *v;
    // Someone emptied it: make a new one, as when it is deleted.
  }
  // Created once, never changed (api.md): create, not apply, so two
  // reconciles racing on a fresh set cannot overwrite each other's value.
  std::string value = electric::hex_encode(options_.random_bytes());
  auto created = client_.create(kube::kSecrets, set.namespace_name, electric::render_api_secret(set, value));
  if (created.ok()) {
    spdlog::info("created Secret {} with a new API secret", name);
    return value;
  }
  if (!created.error().is_conflict()) return created.error();
  auto live = client_.get(kube::kSecrets, set.namespace_name, name);
  if (!live.ok()) return live.error();
  if (auto v = value_of(live.value())) {
    // Made by someone else, without our labels: the operator caches only
    // labelled Secrets, so label it (a merge patch: the value and its owner
    // stay as they are) rather than create, conflict and GET every reconcile.
    const json::json_pointer managed("/metadata/labels/" + pointer_token(std::string(electric::kLabelManagedBy)));
    if (text_at(live.value(), managed) != electric::kLabelManagedByValue) {
      json labels = electric::set_labels(set.name, electric::kComponentShard);
      auto labelled = client_.merge_patch(kube::kSecrets, set.namespace_name, name, {{"metadata", {{"labels", labels}}}});
      if (!labelled.ok()) spdlog::warn("cannot label Secret {}: {}", name, labelled.error().describe());
    }
    return *v;
  }
  // It exists without the key: give it one (the only case we overwrite).
  auto applied = client_.apply(kube::kSecrets, set.namespace_name, name, electric::render_api_secret(set, value));
  if (!applied.ok()) return applied.error();
  return value;
}

runtime::ReconcileResult ShardSetReconciler::reconcile(const std::string& key) {
  const auto slash = key.find('/');
  const std::string ns = key.substr(0, slash);
  const std::string name = key.substr(slash + 1);
  runtime::Projection object = caches_.sets.get(ns, name);
  if (!object) return runtime::ReconcileResult::done();  // deleted: children go by GC
  // Until every referenced Secret has been read once, stream claims are
  // incomplete: a newer set could take an older one's stream.
  if (!caches_.secret_references_ready()) return runtime::ReconcileResult::requeue(kReferencesNotReadyRetry);
  // Its Secrets are being read; the read wakes it (no false SecretNotFound).
  if (caches_.referenced_secrets.waiting_for(key)) return runtime::ReconcileResult::done();

  electric::ParsedShardSet parsed = electric::parse_shard_set(*object);
  const electric::ShardSet& set = parsed.set;
  if (set.being_deleted) return runtime::ReconcileResult::done();
  const runtime::ObjectReference set_ref{std::string(electric::kApiVersion), std::string(electric::kKind),
                                         ns, name, set.uid};

  electric::Observed observed;
  observed.read_secret = secret_reader(ns);
  observed.cluster_domain = options_.cluster_domain;
  observed.max_pod_security_level = options_.max_pod_security_level;
  observed.now = options_.now();
  std::vector<std::string> errors;

  const bool may_write = !parsed.has_set_wide_errors() && !set.spec.paused;
  if (!set.spec.api_secret_ref) {
    if (may_write) {
      auto value = ensure_api_secret(set);
      if (value.ok()) observed.generated_api_secret = value.value();
      else errors.push_back("Secret " + electric::api_secret_name(name) + ": " + value.error().describe());
    } else if (runtime::Projection cached = caches_.secrets.get(ns, electric::api_secret_name(name))) {
      const json::json_pointer ptr("/data/" + std::string(electric::kApiSecretKey));
      if (cached->contains(ptr) && (*cached)[ptr].is_string())
        observed.generated_api_secret = electric::base64_decode((*cached)[ptr].get<std::string>());
    }
  }

  for (KindCache* cache : caches_.children()) {
    for (const runtime::Projection& child : cache->list_by_label(kShardSetLabel, name, ns)) {
      const std::string child_name = text_at(*child, json::json_pointer("/metadata/name"));
      electric::LiveChild live{cache->resource().kind, child_name,
                               text_at(*child, json::json_pointer("/metadata/labels/" +
                                                                  pointer_token(kShardLabel))),
                               text_at(*child, json::json_pointer("/metadata/uid")), owned_by(*child, set.uid)};
      observed.children.push_back(live);
      if (cache == &caches_.deployments) observed.deployments[child_name] = *child;
      if (cache == &caches_.pvcs) observed.pvcs[child_name] = *child;
    }
  }
  observed.stream_conflicts = stream_conflicts(key);

  const json previous_status = object->value("status", json());
  electric::Plan plan = electric::plan_reconcile(parsed, observed, previous_status);

  int writes = 0;
  for (const json& desired : plan.apply) {
    const std::string kind = desired.value("kind", "");
    const std::string child_name = desired["metadata"].value("name", "");
    KindCache* cache = caches_.for_kind(kind);
    if (!cache) continue;
    runtime::Projection live = cache->get(ns, child_name);
    if (live && owned_fields_match(comparable(desired), *live)) continue;
    auto applied = client_.apply(cache->resource(), ns, child_name, desired);
    ++writes;
    if (!applied.ok()) {
      errors.push_back("apply " + kind + " " + child_name + ": " + applied.error().describe());
      events_.record(set_ref, runtime::EventType::Warning, "ApplyFailed",
                     kind + " " + child_name + ": " + applied.error().message);
    }
  }
  for (const electric::Removal& removal : plan.remove) {
    kube::DeleteOptions options;
    options.precondition_uid = removal.uid;
    KindCache* cache = caches_.for_kind(removal.kind);
    if (!cache) continue;
    auto removed = client_.remove(cache->resource(), ns, removal.name, options);
    ++writes;
    if (!removed.ok() && !removed.error().is_not_found()) {
      errors.push_back("delete " + removal.kind + " " + removal.name + ": " + removed.error().describe());
    } else {
      spdlog::info("deleted {} {}", removal.kind, removal.name);
    }
  }
  for (const electric::EventNote& note : plan.events) {
    events_.record(set_ref, note.type == "Warning" ? runtime::EventType::Warning : runtime::EventType::Normal,
                   note.reason, note.message);
  }

  if (plan.status != previous_status) {
    auto written = client_.merge_patch(kShardSets, ns, name, json{{"status", plan.status}}, "status");
    ++writes;
    if (!written.ok() && !written.error().is_not_found()) {
      errors.push_back("status: " + written.error().describe());
    }
  }
  if (writes > 0) spdlog::debug("reconciled with {} writes", writes);
  if (!errors.empty()) {
    std::string message = errors.front();
    if (errors.size() > 1) message += " (and " + std::to_string(errors.size() - 1) + " more)";
    return runtime::ReconcileResult::error(message);
  }
  return runtime::ReconcileResult::done();
}

}  // namespace app
