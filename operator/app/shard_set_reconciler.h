// Reconciles one ElectricShardSet: reads the caches, asks
// electric::plan_reconcile what the world should look like, and writes only
// what differs (server-side apply as field manager electric-operator,
// deletes with a uid precondition, the status subresource when it changed).
//
//   app::CachedInputs inputs(caches);
//   app::ShardSetReconciler reconciler(client, inputs, events, options);
//   runtime::ReconcileResult r = reconciler.reconcile("prod/myapp");
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "app/reconcile_inputs.h"
#include "app/parsed_sets.h"
#include "app/settle_window.h"
#include "electric/reconcile_plan.h"
#include "electric/shard_set.h"
#include "kube/client.h"
#include "runtime/controller.h"
#include "runtime/event_recorder.h"

namespace app {

struct ReconcilerOptions {
  std::string cluster_domain = "cluster.local";
  electric::PodSecurityLevel max_pod_security_level = electric::kDefaultMaxPodSecurityLevel;
  // Returns the current time as RFC 3339 (injectable for tests).
  std::function<std::string()> now;
  // 32 random bytes for S-api-secret (OpenSSL's CSPRNG by default).
  std::function<std::string()> random_bytes;
  // For the settle window of status and routing writes (system clock by default).
  runtime::Clock* clock = nullptr;
  // While shards change one after another, a set's status and routing
  // ConfigMap are written at most once per window (the first at once).
  runtime::Duration summary_settle_window = std::chrono::seconds(2);
};

// Digests of apply bodies whose result the API server stored in another
// normal form than owned_fields_digest predicts (a spelling it canonicalises
// that drift.cpp does not know): desired digest -> stored digest. Without it
// such a child would be applied again on every reconcile; with it, once per
// process. Thread-safe; bounded.
class NormalForms {
 public:
  bool same(const std::string& desired, const std::string& live) const;
  // True when this pair is new.
  bool learn(const std::string& desired, const std::string& live);

 private:
  static constexpr size_t kMaxEntries = 4096;
  mutable std::mutex mu_;
  std::map<std::string, std::string> stored_as_;
};

class ShardSetReconciler {
 public:
  ShardSetReconciler(kube::ObjectWriter& client, const ReconcileInputs& inputs, runtime::EventRecorder& events,
                     ReconcilerOptions options);

  runtime::ReconcileResult reconcile(const std::string& key);

 private:
  // S-api-secret's value, creating the Secret on first need. Error text on failure.
  kube::Result<std::string> ensure_api_secret(const electric::ShardSet& set);
  // Does the cache hold `desired`'s child as applied (or is it no kind we write)?
  bool cached_as_applied(const std::string& ns, const nlohmann::json& desired) const;
  // Server-side applies `desired`; a failure goes to `errors` and an Event. The writes made (1).
  int apply_child(const std::string& ns, const nlohmann::json& desired, const runtime::ObjectReference& set_ref,
                  std::vector<std::string>& errors);
  // Does the cached `live` child already hold what `desired` applies?
  bool already_applied(const nlohmann::json& desired, const nlohmann::json& live) const;
  // After an apply: remember when the stored object's normal form differs.
  void learn_normal_form(const nlohmann::json& desired, const nlohmann::json& applied);

  kube::ObjectWriter& client_;
  const ReconcileInputs& inputs_;
  runtime::EventRecorder& events_;
  ReconcilerOptions options_;
  NormalForms normal_forms_;
  ParsedSets parsed_sets_;
  SettleWindow settle_;
};

// Cryptographically random bytes from OpenSSL (RAND_bytes); throws only if
// the CSPRNG fails, which is a broken system, not bad input.
std::string openssl_random_bytes(size_t n);
// Current UTC time as "2026-11-26T03:12:08Z".
std::string rfc3339_now();

}  // namespace app
