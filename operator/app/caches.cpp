#include "app/caches.h"

#include "app/drift.h"
#include "app/keyed_lists.h"
#include "base/json_pointer.h"
#include "electric/constants.h"
#include "electric/live_facts.h"
#include "electric/digest.h"
#include "runtime/clock.h"
#include "runtime/list_watch.h"

namespace app {

using nlohmann::json;

const kube::Resource kShardSets{std::string(electric::kApiVersion), std::string(electric::kPlural),
                                std::string(electric::kKind), true};

namespace {

const std::string kShardSetLabel(electric::kLabelShardSet);

std::string managed_selector() {
  return std::string(electric::kLabelManagedBy) + "=" + std::string(electric::kLabelManagedByValue);
}

// Pages of the initial LISTs. A page is parsed whole before it is cut to
// projections, so its size sets the start-up peak: 500 Deployments are ~5 MB
// of JSON and ten times that parsed. A set is up to ~200 KB (512 shards'
// status), so its pages are smaller still.
constexpr int64_t kChildPageSize = 100;
constexpr int64_t kSetPageSize = 10;

// Pages of the Secret metadata list. Nothing of a foreign Secret outlives its
// page but its key and resourceVersion (in the watcher, ~200 bytes), so a
// page's parsed JSON is the peak, and freed pages stay in the heap. Measured
// with 10,000 foreign 64 KiB Secrets: +4.5 MiB RSS at 100 per page, +4.0 MiB
// at 50 (the target is < 5 MiB); at startup only, 200 small lists for them.
constexpr int64_t kSecretMetadataPageSize = 50;

// Secrets as PartialObjectMetadata: names and resourceVersions, never data.
class SecretMetadataListWatcher final : public runtime::ListWatcher {
 public:
  SecretMetadataListWatcher(kube::Client& client, std::string ns) : client_(client), ns_(std::move(ns)) {}
  kube::Result<kube::ObjectList> list_page(const kube::ListOptions& options) override {
    kube::ListOptions metadata = options;
    metadata.metadata_only = true;
    return client_.list(kube::kSecrets, ns_, metadata);
  }
  kube::Done watch(const kube::WatchOptions& options, const runtime::WatchEventHandler& on_event,
                   kube::Cancellation& cancel) override {
    kube::WatchOptions metadata = options;
    metadata.metadata_only = true;
    return client_.watch(kube::kSecrets, ns_, metadata, on_event, cancel);
  }
  std::string describe() const override {
    return std::string("secret metadata ") + (ns_.empty() ? "in all namespaces" : "in namespace " + ns_);
  }

 private:
  kube::Client& client_;
  std::string ns_;
};

}  // namespace

const std::vector<std::string>& child_label_keys() {
  static const std::vector<std::string> keys = {std::string(electric::kLabelShardSet),
                                                std::string(electric::kLabelShard)};
  return keys;
}

namespace {

template <class T>
std::shared_ptr<T> child_projection(const json& object) {
  auto out = std::make_shared<T>();
  out->meta = runtime::object_meta(object, child_label_keys());
  const json owned = applied_fields(object, electric::kFieldManager);
  out->owned_digest = owned_fields_digest(owned);
  out->foreign_list_entries = has_foreign_entries(object, owned);
  return out;
}

}  // namespace

std::shared_ptr<CachedChild> project_child(const json& object) { return child_projection<CachedChild>(object); }

std::shared_ptr<CachedDeployment> project_deployment(const json& deployment) {
  auto out = child_projection<CachedDeployment>(deployment);
  out->facts = electric::deployment_facts(deployment);
  return out;
}

std::shared_ptr<CachedPvc> project_pvc(const json& pvc) {
  auto out = child_projection<CachedPvc>(pvc);
  out->facts = electric::pvc_facts(pvc);
  return out;
}

std::shared_ptr<CachedSecret> project_secret(const json& secret) {
  auto out = child_projection<CachedSecret>(secret);
  static const json::json_pointer server("/metadata/annotations/" +
                                         base::pointer_token(std::string(electric::kAnnotationDatabaseServer)));
  if (secret.contains(server) && secret[server].is_string()) out->database_server = secret[server].get<std::string>();
  auto data = secret.find("data");
  if (!out->meta.label(electric::kLabelShard) && data != secret.end() && data->is_object()) {
    for (auto it = data->begin(); it != data->end(); ++it)
      if (it->is_string()) out->data.emplace(it.key(), it->get<std::string>());
  }
  return out;
}

std::shared_ptr<CachedChild> project_child_of_kind(const std::string& kind, const json& object) {
  if (kind == "Deployment") return project_deployment(object);
  if (kind == "PersistentVolumeClaim") return project_pvc(object);
  if (kind == "Secret") return project_secret(object);
  return project_child(object);
}

json CachedSet::status() const { return status_text.empty() ? json() : json::parse(status_text); }

std::shared_ptr<CachedSet> project_set(const json& set, ParsedSets& parsed) {
  auto out = std::make_shared<CachedSet>();
  out->meta = runtime::object_meta(set, std::vector<std::string>{});
  out->parsed = parsed.get(set);
  const json::json_pointer finalizers("/metadata/finalizers");
  if (set.contains(finalizers) && set[finalizers].is_array())
    for (const json& f : set[finalizers])
      if (f.is_string()) out->finalizers.push_back(f.get<std::string>());
  if (auto status = set.find("status"); status != set.end() && status->is_object()) {
    out->status_text = status->dump();
    if (auto shards = status->find("shards"); shards != status->end() && shards->is_array())
      for (const json& shard : *shards)
        if (shard.is_object()) ++out->shards_by_phase[shard.value("phase", "Pending")];
  }
  return out;
}

KindCache::KindCache(kube::Client& client, const kube::Resource& resource,
                     const std::vector<std::string>& namespaces, const std::string& label_selector,
                     runtime::Projector projector, std::vector<std::string> indexed_labels,
                     int64_t page_size)
    : resource_(resource), all_namespaces_(namespaces.empty()), namespaces_(namespaces) {
  if (all_namespaces_) namespaces_ = {""};
  for (const auto& ns : namespaces_) {
    runtime::InformerOptions options;
    options.projector = projector;
    options.indexed_label_keys = indexed_labels;
    options.watcher.name = resource.plural + (ns.empty() ? " in all namespaces" : " in " + ns);
    options.watcher.page_size = page_size;
    informers_.push_back(std::make_unique<runtime::Informer>(
        std::make_shared<runtime::ClientListWatcher>(client, resource, ns, label_selector),
        options));
  }
}

const runtime::Informer* KindCache::informer_for(const std::string& ns) const {
  if (all_namespaces_) return informers_.front().get();
  for (size_t i = 0; i < namespaces_.size(); ++i) {
    if (namespaces_[i] == ns) return informers_[i].get();
  }
  return nullptr;
}

runtime::Projection KindCache::get(const std::string& ns, const std::string& name) const {
  const runtime::Informer* inf = informer_for(ns);
  return inf ? inf->store().get(ns, name) : nullptr;
}

std::vector<runtime::Projection> KindCache::list(const std::string& ns) const {
  if (!ns.empty()) {
    const runtime::Informer* inf = informer_for(ns);
    return inf ? inf->store().list(ns) : std::vector<runtime::Projection>{};
  }
  std::vector<runtime::Projection> out;
  for (const auto& inf : informers_) {
    auto part = inf->store().list();
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

std::vector<runtime::Projection> KindCache::list_by_label(const std::string& key, const std::string& value,
                                                          const std::string& ns) const {
  const runtime::Informer* inf = informer_for(ns);
  return inf ? inf->store().list_by_label(key, value, ns) : std::vector<runtime::Projection>{};
}

std::vector<runtime::Informer*> KindCache::informers() {
  std::vector<runtime::Informer*> out;
  for (auto& inf : informers_) out.push_back(inf.get());
  return out;
}

bool KindCache::synced() const {
  for (const auto& inf : informers_) {
    if (!inf->has_synced()) return false;
  }
  return true;
}

size_t KindCache::size() const {
  size_t n = 0;
  for (const auto& inf : informers_) n += inf->store().size();
  return n;
}

Caches::Caches(kube::Client& client, const std::vector<std::string>& namespaces)
    : sets(client, kShardSets, namespaces, "",
           [parsed = parsed_sets](const json& set) { return project_set(set, *parsed); }, {}, kSetPageSize),
      secrets(client, kube::kSecrets, namespaces, managed_selector(), project_secret, {kShardSetLabel},
              kChildPageSize),
      deployments(client, kube::kDeployments, namespaces, managed_selector(), project_deployment, {kShardSetLabel},
                  kChildPageSize),
      services(client, kube::kServices, namespaces, managed_selector(), project_child, {kShardSetLabel},
               kChildPageSize),
      pvcs(client, kube::kPersistentVolumeClaims, namespaces, managed_selector(), project_pvc, {kShardSetLabel},
           kChildPageSize),
      configmaps(client, kube::kConfigMaps, namespaces, managed_selector(), project_child, {kShardSetLabel},
                 kChildPageSize),
      networkpolicies(client, kube::kNetworkPolicies, namespaces, managed_selector(), project_child,
                      {kShardSetLabel}, kChildPageSize),
      referenced_secrets([&client](const std::string& ns, const std::string& name) {
        return client.get(kube::kSecrets, ns, name);
      }) {
  referenced_secrets.set_live_stream_ids([this](const std::string& ns, const std::string& name) {
    const auto* live = runtime::as<CachedDeployment>(deployments.get(ns, name));
    return live ? live->facts.replication_stream_id : std::nullopt;
  });
  for (const std::string& ns : namespaces.empty() ? std::vector<std::string>{""} : namespaces) {
    runtime::WatcherOptions options;
    options.name = "secret metadata " + (ns.empty() ? std::string("in all namespaces") : "in " + ns);
    options.page_size = kSecretMetadataPageSize;
    secret_metadata_watchers_.push_back(std::make_unique<runtime::Watcher>(
        std::make_shared<SecretMetadataListWatcher>(client, ns),
        [this](const runtime::WatcherEvent& event) {
          if (event.type == runtime::WatcherEvent::Type::Upsert) {
            referenced_secrets.on_secret(
                event.key, event.object->value(json::json_pointer("/metadata/resourceVersion"), ""));
          } else if (event.type == runtime::WatcherEvent::Type::Delete) {
            referenced_secrets.on_secret_deleted(event.key);
          }
        },
        runtime::system_clock(), runtime::system_random(), options));
  }
}

void Caches::start_secret_references() {
  referenced_secrets.start_fetcher();
  for (auto& watcher : secret_metadata_watchers_) watcher->start();
}

bool Caches::secret_references_ready() const {
  if (secret_references_ready_.load()) return true;
  if (!sets.synced()) return false;
  for (const auto& watcher : secret_metadata_watchers_) {
    if (!watcher->status().synced) return false;
  }
  // Sets synced first: every reference they make has been queued by now.
  if (!referenced_secrets.idle()) return false;
  secret_references_ready_ = true;
  return true;
}

std::vector<runtime::Informer*> Caches::all_informers() {
  std::vector<runtime::Informer*> out = sets.informers();
  for (KindCache* c : children()) {
    auto part = c->informers();
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

bool Caches::synced() const {
  return sets.synced() && secrets.synced() && deployments.synced() && services.synced() &&
         pvcs.synced() && configmaps.synced() && networkpolicies.synced() && secret_references_ready();
}

KindCache* Caches::for_kind(const std::string& kind) {
  for (KindCache* cache : children()) {
    if (cache->resource().kind == kind) return cache;
  }
  return nullptr;
}

}  // namespace app
