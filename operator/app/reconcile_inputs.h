// What a reconcile reads, all of it from memory, behind one narrow
// interface: the operator passes its caches (CachedInputs), unit tests a fake
// filled with projections, so the reconciler is tested without a cluster.
//
//   app::CachedInputs inputs(caches);
//   app::ShardSetReconciler reconciler(client, inputs, events, options);
#pragma once

#include <map>
#include <string>
#include <vector>

#include "app/caches.h"
#include "electric/secret_values.h"
#include "electric/stream_conflict.h"
#include "kube/resource.h"
#include "runtime/store.h"

namespace app {

// A live child as cached (app::CachedChild or a subclass), with its kind ("Deployment", ...).
struct KindedChild {
  std::string kind;
  runtime::Projection object;
};

class ReconcileInputs {
 public:
  virtual ~ReconcileInputs() = default;
  virtual runtime::Projection shard_set(const std::string& ns, const std::string& name) const = 0;
  // The cached child of `kind` (Secret, Deployment, ...) named `name`; null when absent.
  virtual runtime::Projection child(const std::string& kind, const std::string& ns, const std::string& name) const = 0;
  // Every cached child labelled with set `set_name`.
  virtual std::vector<KindedChild> children_of(const std::string& ns, const std::string& set_name) const = 0;
  // The Secrets sets reference: false until the first values are in, so no
  // reconcile decides a stream conflict on a half-built index.
  virtual bool references_ready() const = 0;
  // True while a Secret set `set_key` references is being read.
  virtual bool waiting_for_references(const std::string& set_key) const = 0;
  virtual electric::SecretReader secret_reader(const std::string& ns) const = 0;
  // Losers of the stream-claims index among set `set_key`'s shards.
  virtual std::map<electric::ShardKey, std::string> stream_conflicts(const std::string& set_key) const = 0;
};

// The collection the reconciler writes a child kind to; null for a kind it does not write.
const kube::Resource* child_resource(const std::string& kind);

class CachedInputs final : public ReconcileInputs {
 public:
  explicit CachedInputs(Caches& caches) : caches_(caches) {}
  runtime::Projection shard_set(const std::string& ns, const std::string& name) const override;
  runtime::Projection child(const std::string& kind, const std::string& ns, const std::string& name) const override;
  std::vector<KindedChild> children_of(const std::string& ns, const std::string& set_name) const override;
  bool references_ready() const override;
  bool waiting_for_references(const std::string& set_key) const override;
  electric::SecretReader secret_reader(const std::string& ns) const override;
  std::map<electric::ShardKey, std::string> stream_conflicts(const std::string& set_key) const override;

 private:
  Caches& caches_;
};

}  // namespace app
