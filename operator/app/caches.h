// The operator's informers: ElectricShardSets, the five kinds of children
// (its own Secrets among them), and the Secrets sets reference, each watched
// in every namespace or in each `--namespace`. Reconcilers read projections
// from here, never the API. Other Secrets are seen by metadata only and
// nothing of them is kept (app::ReferencedSecrets).
//
//   app::Caches caches(client, {"prod"});
//   caches.start_all();
//   runtime::Projection set = caches.sets.get("prod", "myapp");
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/parsed_sets.h"
#include "app/referenced_secrets.h"
#include "electric/live_facts.h"
#include "kube/client.h"
#include "runtime/informer.h"
#include "runtime/watcher.h"

namespace app {

// The ElectricShardSet collection; kube/ knows only core kinds.
extern const kube::Resource kShardSets;

// One kind, watched per namespace (or once for all namespaces).
class KindCache {
 public:
  KindCache(kube::Client& client, const kube::Resource& resource,
            const std::vector<std::string>& namespaces, const std::string& label_selector,
            runtime::Projector projector, std::vector<std::string> indexed_labels, int64_t page_size);

  runtime::Projection get(const std::string& ns, const std::string& name) const;
  std::vector<runtime::Projection> list(const std::string& ns = {}) const;
  std::vector<runtime::Projection> list_by_label(const std::string& key, const std::string& value,
                                                 const std::string& ns) const;
  std::vector<runtime::Informer*> informers();
  bool synced() const;
  size_t size() const;
  const kube::Resource& resource() const { return resource_; }

 private:
  const runtime::Informer* informer_for(const std::string& ns) const;
  kube::Resource resource_;
  bool all_namespaces_;
  std::vector<std::string> namespaces_;
  std::vector<std::unique_ptr<runtime::Informer>> informers_;  // parallel to namespaces_
};

// What the cache keeps of an ElectricShardSet: its parse (shared by every
// version with the same spec, see ParsedSets) and its status as the JSON
// text it came in, parsed only by the reconcile that reads it: a 512-shard
// set's status is 135 KB of text and about ten times that parsed.
struct CachedSet : runtime::Cached {
  std::shared_ptr<const electric::ParsedShardSet> parsed;
  std::string status_text;                 // "" when the set has no status
  std::vector<std::string> finalizers;     // metadata.finalizers, for the finalizer patch
  std::map<std::string, int> shards_by_phase;  // status.shards[].phase counts, for the metrics
  nlohmann::json status() const;           // null when none
};
std::shared_ptr<CachedSet> project_set(const nlohmann::json& set, ParsedSets& parsed);

struct Caches {
  Caches(kube::Client& client, const std::vector<std::string>& namespaces);

  // Before `sets`, whose projector parses with it.
  std::shared_ptr<ParsedSets> parsed_sets = std::make_shared<ParsedSets>();
  KindCache sets;
  KindCache secrets;  // the operator's own (managed-by label): shard Secrets, <set>-api-secret
  KindCache deployments;
  KindCache services;
  KindCache pvcs;
  KindCache configmaps;
  KindCache networkpolicies;

  std::vector<KindCache*> children() {
    return {&secrets, &pvcs, &services, &deployments, &configmaps, &networkpolicies};
  }
  std::vector<runtime::Informer*> all_informers();
  bool synced() const;
  // The child cache for a rendered object's kind; null for an unknown kind.
  KindCache* for_kind(const std::string& kind);

  // The Secrets sets reference, fed by the metadata-only Secret watches
  // below and by the sets' informers (see wire_shard_set_events).
  ReferencedSecrets referenced_secrets;
  // Starts the metadata-only Secret watches and the fetcher; call once.
  void start_secret_references();
  // True once the sets have synced, the Secret metadata has been listed and
  // every Secret referenced then has been fetched; then it stays true. Until
  // then stream claims are incomplete and no set may be reconciled.
  bool secret_references_ready() const;

 private:
  std::vector<std::unique_ptr<runtime::Watcher>> secret_metadata_watchers_;  // last: they feed the above
  mutable std::atomic<bool> secret_references_ready_{false};
};

// What the caches keep of each child, at ingest: its metadata (identity,
// the electric-operator.dev/shard-set and /shard labels, owners), the
// owned_fields_digest of what the operator applied (app/drift.h), and its
// kind's facts. No copy of the fields themselves: a Deployment costs about
// 2 KB of heap, not the ~23 KB of its parsed JSON.
struct CachedChild : runtime::Cached {
  std::string owned_digest;
  // A keyed list the operator writes holds another manager's entry
  // (app/keyed_lists.h): the next apply reads the object first.
  bool foreign_list_entries = false;
};
struct CachedDeployment : CachedChild {
  electric::DeploymentFacts facts;
};
struct CachedPvc : CachedChild {
  electric::PvcFacts facts;
};
// One of the operator's Secrets. Only <set>-api-secret keeps its data, whose
// value the reconciler reads; a shard Secret (it holds DATABASE_URL) keeps
// none.
struct CachedSecret : CachedChild {
  std::string database_server;  // the kAnnotationDatabaseServer annotation
  std::map<std::string, std::string> data;  // base64, as stored
};

// The labels a child's metadata keeps.
const std::vector<std::string>& child_label_keys();
// Services, ConfigMaps, NetworkPolicies: metadata and digest only.
std::shared_ptr<CachedChild> project_child(const nlohmann::json& object);
std::shared_ptr<CachedDeployment> project_deployment(const nlohmann::json& deployment);
std::shared_ptr<CachedPvc> project_pvc(const nlohmann::json& pvc);
std::shared_ptr<CachedSecret> project_secret(const nlohmann::json& secret);
// The projection of `object` as the cache of its kind ("Deployment", ...) keeps it.
std::shared_ptr<CachedChild> project_child_of_kind(const std::string& kind, const nlohmann::json& object);

}  // namespace app
