// A thread-safe cache of one collection, keyed by "namespace/name", holding
// projections: small typed structs made from each object as it arrives, with
// only what reconcilers read, so thousands of children cost little memory.
// Fed by an Informer; read by reconcilers.
//
//   struct CachedDeployment : runtime::Cached { int64_t replicas = 0; };
//   runtime::Store children(
//       [](const nlohmann::json& o) {
//         auto d = std::make_shared<CachedDeployment>();
//         d->meta = runtime::object_meta(o, {"electric-operator.dev/shard-set"});
//         d->replicas = o["spec"].value("replicas", 0);
//         return d;
//       },
//       {"electric-operator.dev/shard-set"});
//   for (const runtime::Projection& child :
//        children.list_by_label("electric-operator.dev/shard-set", "orders", "prod"))
//     if (const auto* d = runtime::as<CachedDeployment>(child)) ...
//
// Kinds read by JSON path (the sets, tests) keep a JsonProjection instead:
// fields_projector, or no projector for whole objects.
//
// Projections are immutable and shared: a reader keeps its copy valid while
// the store moves on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace runtime {

struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  bool controller = false;
};

// What every cached object keeps of its metadata: identity, version,
// deletion state, ownership, and the labels its projector asked for (never
// annotations or managedFields, which are large).
struct ObjectMeta {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  bool being_deleted = false;  // metadata.deletionTimestamp is set
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<OwnerReference> owners;

  std::string key() const;  // object_key(namespace_name, name)
  // The kept label `key`'s value; null when absent or not kept.
  const std::string* label(std::string_view key) const;
  bool owned_by(std::string_view owner_uid) const;
};

// The metadata of `object`, keeping the labels in `label_keys` (all of them
// when `label_keys` is null).
ObjectMeta object_meta(const nlohmann::json& object, const std::vector<std::string>* label_keys);
inline ObjectMeta object_meta(const nlohmann::json& object, const std::vector<std::string>& label_keys) {
  return object_meta(object, &label_keys);
}

// A cached object: its metadata, and what its kind's projector adds in a
// subclass.
struct Cached {
  ObjectMeta meta;
  virtual ~Cached() = default;
};
using Projection = std::shared_ptr<const Cached>;
using Projector = std::function<std::shared_ptr<const Cached>(const nlohmann::json& full_object)>;

// The projection as its kind's struct; null when it is another kind.
template <class T>
const T* as(const Projection& projection) {
  return dynamic_cast<const T*>(projection.get());
}

// A projection kept as JSON (every label kept in meta).
struct JsonProjection : Cached {
  nlohmann::json object;
};
std::shared_ptr<const JsonProjection> json_projection(nlohmann::json object);
// The JSON of a JsonProjection; a programmer error (std::logic_error) for
// any other projection.
const nlohmann::json& json_of(const Projection& projection);

// Metadata worth keeping in almost every JSON projection: identity,
// resourceVersion, generation, labels, ownership and deletion state (not
// annotations or managedFields, which are large).
const std::vector<std::string>& standard_metadata_fields();

// A new object holding only the given JSON pointers of `object` ("/spec/x",
// "/metadata/labels"); absent ones are skipped. Invalid pointers are a
// programmer error and throw.
nlohmann::json project_fields(const nlohmann::json& object,
                              const std::vector<std::string>& pointers);

// A Projector keeping standard_metadata_fields() plus `pointers` as JSON.
Projector fields_projector(std::vector<std::string> pointers);

class Store {
 public:
  // `projector` null keeps whole objects as JsonProjections.
  // `indexed_label_keys` are the label keys list_by_label can query.
  explicit Store(Projector projector = {}, std::vector<std::string> indexed_label_keys = {});

  struct Change {
    Projection old_object;  // null when the key was absent
    Projection new_object;  // null after a removal
  };

  // Writers (the informer). upsert projects `full_object` and stores it.
  Change upsert(const std::string& key, const nlohmann::json& full_object);
  Change remove(const std::string& key);
  void mark_synced();

  // Readers. Null / empty when absent.
  Projection get(const std::string& ns, const std::string& name) const;
  Projection get(const std::string& key) const;
  // All objects, or those of one namespace; ordered by key.
  std::vector<Projection> list(const std::string& ns = {}) const;
  // Objects whose label `label_key` equals `value` (optionally in one
  // namespace). `label_key` must be indexed: asking for another is a
  // programmer error (std::logic_error).
  std::vector<Projection> list_by_label(const std::string& label_key,
                                        const std::string& value,
                                        const std::string& ns = {}) const;
  std::vector<std::string> keys() const;
  size_t size() const;
  // True once the first full list has been applied.
  bool synced() const;

 private:
  struct Entry {
    Projection object;
    // The indexed labels as stored, so removal does not depend on what the
    // projection kept.
    std::vector<std::pair<std::string, std::string>> indexed_labels;
  };
  void unindex_locked(const std::string& key, const Entry& entry);
  void index_locked(const std::string& key, const Entry& entry);

  Projector projector_;
  std::vector<std::string> indexed_label_keys_;  // fixed at construction
  mutable std::shared_mutex mu_;
  std::map<std::string, Entry> objects_;  // ordered: namespace prefix scans
  // label key -> label value -> object keys
  std::unordered_map<std::string, std::unordered_map<std::string, std::set<std::string>>>
      label_index_;
  bool synced_ = false;
};

}  // namespace runtime
