// A thread-safe cache of one collection, keyed by "namespace/name", holding
// projections: only the fields reconcilers read, so thousands of children
// cost little memory. Fed by an Informer; read by reconcilers.
//
//   runtime::Store children(runtime::fields_projector({"/spec/replicas"}),
//                           {"electric-operator.dev/shard-set"});
//   for (const runtime::Projection& child :
//        children.list_by_label("electric-operator.dev/shard-set", "orders", "prod"))
//     ...
//
// Projections are immutable and shared: a reader keeps its copy valid while
// the store moves on.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace runtime {

using Projection = std::shared_ptr<const nlohmann::json>;
using Projector = std::function<nlohmann::json(const nlohmann::json& full_object)>;

// Metadata worth keeping in almost every projection: identity, resourceVersion,
// generation, labels, ownership and deletion state (not annotations or
// managedFields, which are large).
const std::vector<std::string>& standard_metadata_fields();

// A new object holding only the given JSON pointers of `object` ("/spec/x",
// "/metadata/labels"); absent ones are skipped. Invalid pointers are a
// programmer error and throw.
nlohmann::json project_fields(const nlohmann::json& object,
                              const std::vector<std::string>& pointers);

// A Projector keeping standard_metadata_fields() plus `pointers`.
Projector fields_projector(std::vector<std::string> pointers);

class Store {
 public:
  // `projector` null keeps whole objects. `indexed_label_keys` are the label
  // keys list_by_label can query.
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
