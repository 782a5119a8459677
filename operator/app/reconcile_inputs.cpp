#include "app/reconcile_inputs.h"

#include "electric/constants.h"

namespace app {

const kube::Resource* child_resource(const std::string& kind) {
  for (const kube::Resource* r : {&kube::kSecrets, &kube::kDeployments, &kube::kServices,
                                  &kube::kPersistentVolumeClaims, &kube::kConfigMaps, &kube::kNetworkPolicies}) {
    if (r->kind == kind) return r;
  }
  return nullptr;
}

runtime::Projection CachedInputs::shard_set(const std::string& ns, const std::string& name) const {
  return caches_.sets.get(ns, name);
}

runtime::Projection CachedInputs::child(const std::string& kind, const std::string& ns,
                                        const std::string& name) const {
  KindCache* cache = caches_.for_kind(kind);
  return cache ? cache->get(ns, name) : nullptr;
}

std::vector<KindedChild> CachedInputs::children_of(const std::string& ns, const std::string& set_name) const {
  std::vector<KindedChild> out;
  for (KindCache* cache : caches_.children()) {
    for (runtime::Projection& child : cache->list_by_label(std::string(electric::kLabelShardSet), set_name, ns))
      out.push_back({cache->resource().kind, std::move(child)});
  }
  return out;
}

bool CachedInputs::references_ready() const { return caches_.secret_references_ready(); }

bool CachedInputs::waiting_for_references(const std::string& set_key) const {
  return caches_.referenced_secrets.waiting_for(set_key);
}

electric::SecretReader CachedInputs::secret_reader(const std::string& ns) const {
  return caches_.referenced_secrets.reader(ns);
}

std::map<electric::ShardKey, std::string> CachedInputs::stream_conflicts(const std::string& set_key) const {
  return caches_.referenced_secrets.stream_conflicts(set_key);
}

}  // namespace app
