// Reconciles one ElectricShardSet: reads the caches, asks
// electric::plan_reconcile what the world should look like, and writes only
// what differs (server-side apply as field manager electric-operator,
// deletes with a uid precondition, the status subresource when it changed).
//
//   app::ShardSetReconciler reconciler(client, caches, events, options);
//   runtime::ReconcileResult r = reconciler.reconcile("prod/myapp");
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "app/caches.h"
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
};

class ShardSetReconciler {
 public:
  ShardSetReconciler(kube::Client& client, Caches& caches, runtime::EventRecorder& events,
                     ReconcilerOptions options);

  runtime::ReconcileResult reconcile(const std::string& key);

  // Keys of the sets in `ns` that reference Secret `name`.
  std::vector<std::string> sets_referencing_secret(const std::string& ns, const std::string& name) const;

 private:
  electric::SecretReader secret_reader(const std::string& ns) const;
  // The losing shards that share a claim with set `set_key`'s shards, from
  // the incremental claims index (no set parsed, no Secret read).
  std::map<electric::ShardKey, std::string> stream_conflicts(const std::string& set_key) const;
  // S-api-secret's value, creating the Secret on first need. Error text on failure.
  kube::Result<std::string> ensure_api_secret(const electric::ShardSet& set);

  kube::Client& client_;
  Caches& caches_;
  runtime::EventRecorder& events_;
  ReconcilerOptions options_;
};

// Cryptographically random bytes from OpenSSL (RAND_bytes); throws only if
// the CSPRNG fails, which is a broken system, not bad input.
std::string openssl_random_bytes(size_t n);
// Current UTC time as "2026-11-26T03:12:08Z".
std::string rfc3339_now();

}  // namespace app
