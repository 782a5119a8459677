// The Secrets that sets reference (databaseURLSecretRef,
// pooledDatabaseURLSecretRef, apiSecretRef), held as the referenced keys'
// values only, plus the stream claims those values decide (app::StreamClaims).
// Secrets nobody references are never fetched and nothing of them is kept:
// a metadata-only watch (Caches) reports resourceVersions, and only a
// referenced Secret whose resourceVersion moved is read, by one GET.
//
//   app::ReferencedSecrets refs(fetch);            // fetch = GET one Secret
//   refs.set_wake([&](const std::string& key) { queue.add(key); });
//   refs.start_fetcher();
//   // set informer:        refs.on_set("prod/orders", &parsed)  (null = gone)
//   // Secret metadata:     refs.on_secret("prod/pg", rv) / on_secret_deleted("prod/pg")
//   // reconcile:           refs.reader("prod"), refs.stream_conflicts("prod/orders")
//
// Who is woken: a set whose referenced values changed (or that waited for a
// first fetch), and every set whose stream contention a change touched.
// Events and reads may come from any thread; GETs run on the fetcher thread
// (or in fetch_next(), for tests) with no lock held, one Secret at a time.
// Values are never logged.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/stream_claims.h"
#include "electric/reconcile_plan.h"
#include "electric/secret_values.h"
#include "electric/shard_set.h"
#include "kube/result.h"
#include "runtime/metrics.h"

namespace app {

// The Secret keys a set reads by reference, by Secret name: what
// ReferencedSecrets fetches for it. Not the generated "<set>-api-secret",
// which is the operator's own (Caches::secrets).
std::map<std::string, std::set<std::string>> referenced_secret_keys(const electric::ShardSet& set);

class ReferencedSecrets {
 public:
  // One GET of Secret `name` in `ns` (a 404 means it does not exist).
  using Fetch = std::function<kube::Result<nlohmann::json>(const std::string& ns, const std::string& name)>;
  using Wake = std::function<void(const std::string& set_key)>;

  explicit ReferencedSecrets(Fetch fetch);
  ~ReferencedSecrets();  // stop_fetcher()
  ReferencedSecrets(const ReferencedSecrets&) = delete;
  ReferencedSecrets& operator=(const ReferencedSecrets&) = delete;

  // The stream ID the live Deployment `name` in `ns` runs with, if any: a
  // shard whose stream ID change was refused (StreamIDChangeNotSupported)
  // keeps its running Electric's ID, and claims that one. Set before use.
  using LiveStreamID = std::function<std::optional<std::string>(const std::string& ns, const std::string& name)>;
  void set_live_stream_ids(LiveStreamID live) { live_stream_id_ = std::move(live); }
  // Counts each GET (rest of the metrics read totals()); set before use.
  void set_fetch_counter(runtime::Counter* counter) { fetch_counter_ = counter; }
  // Where wakes go; null drops them. Returns once no wake is running, so a
  // queue can be destroyed after set_wake(nullptr).
  void set_wake(Wake wake);

  // A set added or changed (`parsed`), or gone (null). Key "namespace/name".
  void on_set(const std::string& set_key, const electric::ParsedShardSet* parsed);
  // A Secret's metadata was listed or watched (added or changed).
  void on_secret(const std::string& secret_key, const std::string& resource_version);
  void on_secret_deleted(const std::string& secret_key);

  // Runs one pending fetch on the calling thread: false when none was
  // pending. A failed GET stays pending (`failed` set, when given).
  bool fetch_next(bool* failed = nullptr);
  // A thread running fetch_next until stopped, waiting a second after a failure.
  void start_fetcher();
  void stop_fetcher();
  // Nothing pending or in flight.
  bool idle() const;

  // Reads the held values of Secrets in `ns` (what plan_reconcile reads).
  electric::SecretReader reader(const std::string& ns) const;
  // True while a Secret key the set references is still to be fetched: a
  // reconcile then would report SecretNotFound for a Secret that exists.
  // The fetch wakes the set.
  bool waiting_for(const std::string& set_key) const;
  // The set's claims re-derived first (they read the live Deployments), so a
  // reconcile sees the stream its shards' Electrics use now; sets whose
  // contention that changes are woken.
  std::map<electric::ShardKey, std::string> stream_conflicts(const std::string& set_key);
  // Re-derives every set's claims: once the Deployments are cached, before
  // the first reconcile, so no set starts on a stream a refused shard's
  // Electric still runs (its claim was derived before its Deployment was seen).
  void refresh_all_claims();
  std::vector<std::string> sets_referencing(const std::string& ns, const std::string& name) const;

  struct Totals {
    size_t secrets = 0;      // referenced Secrets held (fetched or missing)
    size_t value_bytes = 0;  // bytes of the referenced values held
    uint64_t fetches = 0;    // GETs issued since start
  };
  Totals totals() const;

 private:
  struct SetEntry {
    std::string ns;
    std::vector<electric::ClaimSource> claims;
    std::map<std::string, std::set<std::string>> refs;  // Secret name -> keys
  };
  struct SecretEntry {
    std::set<std::string> referenced_by;  // set keys
    bool fetched = false;                 // the fields below are facts
    bool exists = false;
    std::string resource_version;
    std::map<std::string, electric::SecretLookup> values;  // referenced keys only
  };

  electric::SecretLookup lookup_locked(const std::string& ns, const electric::SecretKeyRef& ref) const;
  std::set<std::string> wanted_keys_locked(const std::string& secret_key) const;
  bool needs_fetch_locked(const std::string& secret_key, const SecretEntry& entry) const;
  // Re-derives the claims of `set_key` from held values; returns who to wake.
  std::set<std::string> update_claims_locked(const std::string& set_key);
  // Stores what is now known of a Secret; returns who to wake.
  std::set<std::string> store_facts_locked(const std::string& secret_key, const nlohmann::json* secret);
  void wake_all(const std::set<std::string>& keys);

  Fetch fetch_;
  LiveStreamID live_stream_id_;
  runtime::Counter* fetch_counter_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable pending_cv_;
  std::map<std::string, SetEntry> sets_;
  std::map<std::string, SecretEntry> secrets_;  // referenced ones only
  std::set<std::string> pending_;
  std::string in_flight_;
  // The newest resourceVersion the metadata watch reported for in_flight_
  // while its GET was under way ("" = none): fetched again only when the GET
  // answered with another version.
  std::string in_flight_newest_version_;
  StreamClaims claims_;
  uint64_t fetches_ = 0;
  bool stopping_ = false;
  std::thread fetcher_;

  std::mutex wake_mu_;
  Wake wake_;
};

}  // namespace app
