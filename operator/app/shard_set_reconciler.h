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
#include <vector>

#include "app/database_checker.h"
#include "app/keyed_lists.h"
#include "app/reconcile_inputs.h"
#include "app/settle_window.h"
#include "electric/reconcile_plan.h"
#include "electric/shard_set.h"
#include "kube/client.h"
#include "runtime/controller.h"
#include "runtime/event_recorder.h"
#include "runtime/latest_per_key.h"

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
  // Threads that write summaries off the reconcile (0: the reconcile writes
  // them itself), and how a failed one asks for the set to be reconciled again.
  size_t summary_writer_threads = 0;
  std::function<void(const std::string& key)> requeue;
  // Applies of one kind that one reconcile makes at once (a 512-shard set's
  // first reconcile applies 2,048 children).
  size_t apply_concurrency = 1;
  // Runs the database checks; none: no checks (spec.databaseChecks is moot).
  DatabaseChecker* database_checker = nullptr;
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
  // Summary writes not yet sent are dropped (leadership lost); and, at
  // shutdown once reconciles have drained, the one being written finishes
  // and no more are taken.
  void drop_queued_summaries() { summary_writes_.forget_all(); }
  void stop_summaries() { summary_writes_.stop(); }
  void wait_for_summaries() const { summary_writes_.wait_idle(); }  // tests

 private:
  // S-api-secret's value, creating the Secret on first need. Error text on failure.
  kube::Result<std::string> ensure_api_secret(const electric::ShardSet& set);
  // Does the cache hold `desired`'s child as applied (or is it no kind we write)?
  bool cached_as_applied(const std::string& ns, const nlohmann::json& desired) const;
  // Server-side applies `desired`; a failure is returned and goes to an Event.
  // Entries of other managers that apply cannot undo are removed first when
  // the cache saw foreign entries, or after an apply refused as invalid.
  struct ChildFailure {
    std::string error;     // for the reconcile's result: "apply KIND NAME: <error>"
    bool refused = false;  // the body itself was refused (kube::Error::is_refusal), not a passing failure
    std::string message;   // "KIND NAME: <the API server's message>", for the shard's status
  };
  std::optional<ChildFailure> apply_child(const std::string& ns, const nlohmann::json& desired,
                                          const runtime::ObjectReference& set_ref);
  // Reads the live child and removes its displaced entries (app/keyed_lists.h);
  // how many. Those the API server will not let go before the apply (a
  // renamed volume that a mount still names) are left in `after_apply`.
  kube::Result<size_t> remove_displaced_entries(const kube::Resource& resource, const std::string& ns,
                                                const nlohmann::json& desired, const runtime::ObjectReference& set_ref,
                                                std::vector<DisplacedEntry>& after_apply);
  // Removes `entries` from `live` in one patch, with an Event naming each.
  kube::Result<size_t> remove_entries(const kube::Resource& resource, const nlohmann::json& desired,
                                      const nlohmann::json& live, const std::vector<DisplacedEntry>& entries,
                                      const runtime::ObjectReference& set_ref);
  // Applies `bodies` (in plan order) kind after kind, what a pod mounts
  // before its Deployment, up to apply_concurrency at once; failures go to
  // `errors`, and the refusals of a shard's children to `refused` (shard ->
  // message) when given. The writes made.
  int apply_children(const std::string& ns, const std::vector<const nlohmann::json*>& bodies,
                     const runtime::ObjectReference& set_ref, std::vector<std::string>& errors,
                     std::map<std::string, std::string>* refused = nullptr);
  // Does the cached `live` child (null: none) carry the owned-fields digest `digest`?
  bool carries_digest(const std::string& digest, const runtime::Projection& live) const;
  // The set's RenderMemo, made on first use.
  std::shared_ptr<electric::RenderMemo> render_memo(const std::string& key);
  // After an apply: remember when the stored object's normal form differs.
  void learn_normal_form(const nlohmann::json& desired, const nlohmann::json& applied);
  static runtime::ObjectReference reference_to(const electric::ShardSet& set);
  void record_events(const runtime::ObjectReference& set_ref, const std::vector<electric::EventNote>& notes);
  // The set's live children, as plan_reconcile and plan_set_deletion read them.
  void observe_children(const std::string& key, const electric::ShardSet& set, electric::Observed& observed) const;
  int remove_children(const std::string& ns, const std::vector<electric::Removal>& removals,
                      std::vector<std::string>& errors);
  // Adds or removes kFinalizerReplicationSlots: true when done, false when
  // the set changed since `cached` was read (409), an error message else.
  base::Expected<bool, std::string> set_slot_finalizer(const CachedSet& cached, bool present);
  // Hands the checker the set's due slot cleanups, reading the URL of each
  // it does not hold yet; an error message when a Secret could not be read.
  std::optional<std::string> hand_over_slot_cleanups(const std::string& key, const std::string& ns,
                                                     const std::vector<electric::SlotCleanupRequest>& requests,
                                                     const electric::SecretReader& read_secret);
  runtime::ReconcileResult reconcile_deletion(const std::string& key, const CachedSet& cached);
  // Hands set `key`'s summary (routing ConfigMap bodies, the status when
  // given) to the writer threads (summary_writer_threads): one summary of a
  // set at a time, the newest replacing one not yet sent, none twice while
  // it is on its way (a big set's status write takes the API server a
  // while, and the set's next reconcile must not wait behind it). Returns
  // how long the settle window asks it to wait; zero once handed over.
  runtime::Duration hand_over_summary(const std::string& key, const runtime::ObjectReference& set_ref,
                                      const std::vector<const nlohmann::json*>& applies,
                                      std::optional<nlohmann::json> status);
  std::optional<std::string> take_summary_error(const std::string& key);

  kube::ObjectWriter& client_;
  const ReconcileInputs& inputs_;
  runtime::EventRecorder& events_;
  ReconcilerOptions options_;
  NormalForms normal_forms_;
  SettleWindow settle_;
  // Per set key; one worker reconciles a key at a time, the lock guards the map.
  std::mutex memos_mu_;
  std::map<std::string, std::shared_ptr<electric::RenderMemo>> memos_;
  // The last failed summary write per set, reported by its next reconcile.
  std::mutex summary_errors_mu_;
  std::map<std::string, std::string> summary_errors_;
  // Last: its threads call into the members above, so it stops first.
  runtime::LatestPerKey summary_writes_;
};

// Cryptographically random bytes from OpenSSL (RAND_bytes); throws only if
// the CSPRNG fails, which is a broken system, not bad input.
std::string openssl_random_bytes(size_t n);
// Current UTC time as "2026-11-26T03:12:08Z".
std::string rfc3339_now();

}  // namespace app
