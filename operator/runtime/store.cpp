#include "runtime/store.h"

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "runtime/object_key.h"

namespace runtime {
namespace {

using json = nlohmann::json;

bool in_namespace(const std::string& key, const std::string& ns) {
  return ns.empty() ||
         (key.size() > ns.size() && key.compare(0, ns.size(), ns) == 0 && key[ns.size()] == '/');
}

std::string text(const json& object, const char* field) {
  auto found = object.find(field);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

}  // namespace

std::string ObjectMeta::key() const { return object_key(namespace_name, name); }

const std::string* ObjectMeta::label(std::string_view key) const {
  for (const auto& [k, v] : labels)
    if (k == key) return &v;
  return nullptr;
}

bool ObjectMeta::owned_by(std::string_view owner_uid) const {
  for (const OwnerReference& owner : owners)
    if (owner.uid == owner_uid) return true;
  return false;
}

ObjectMeta object_meta(const json& object, const std::vector<std::string>* label_keys) {
  ObjectMeta meta;
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return meta;
  meta.namespace_name = text(*metadata, "namespace");
  meta.name = text(*metadata, "name");
  meta.uid = text(*metadata, "uid");
  meta.resource_version = text(*metadata, "resourceVersion");
  auto generation = metadata->find("generation");
  if (generation != metadata->end() && generation->is_number_integer()) meta.generation = generation->get<int64_t>();
  meta.being_deleted = metadata->contains("deletionTimestamp");
  auto labels = metadata->find("labels");
  if (labels != metadata->end() && labels->is_object()) {
    for (auto it = labels->begin(); it != labels->end(); ++it) {
      if (!it->is_string()) continue;
      if (label_keys && std::find(label_keys->begin(), label_keys->end(), it.key()) == label_keys->end()) continue;
      meta.labels.emplace_back(it.key(), it->get<std::string>());
    }
  }
  auto refs = metadata->find("ownerReferences");
  if (refs != metadata->end() && refs->is_array()) {
    for (const json& ref : *refs) {
      if (!ref.is_object()) continue;
      meta.owners.push_back({text(ref, "apiVersion"), text(ref, "kind"), text(ref, "name"), text(ref, "uid"),
                             ref.value("controller", false)});
    }
  }
  return meta;
}

std::shared_ptr<const JsonProjection> json_projection(json object) {
  auto projection = std::make_shared<JsonProjection>();
  projection->meta = object_meta(object, nullptr);
  projection->object = std::move(object);
  return projection;
}

const json& json_of(const Projection& projection) {
  const auto* as_json = as<JsonProjection>(projection);
  if (!as_json) throw std::logic_error("runtime::json_of: not a JSON projection");
  return as_json->object;
}

const std::vector<std::string>& standard_metadata_fields() {
  static const std::vector<std::string> fields = {
      "/apiVersion",
      "/kind",
      "/metadata/name",
      "/metadata/namespace",
      "/metadata/uid",
      "/metadata/resourceVersion",
      "/metadata/generation",
      "/metadata/labels",
      "/metadata/ownerReferences",
      "/metadata/deletionTimestamp",
      "/metadata/finalizers",
  };
  return fields;
}

json project_fields(const json& object, const std::vector<std::string>& pointers) {
  json projection = json::object();
  for (const std::string& pointer : pointers) {
    json::json_pointer at(pointer);  // throws on a malformed pointer
    if (object.contains(at)) projection[at] = object.at(at);
  }
  return projection;
}

Projector fields_projector(std::vector<std::string> pointers) {
  std::vector<std::string> all = standard_metadata_fields();
  all.insert(all.end(), pointers.begin(), pointers.end());
  return [all = std::move(all)](const json& object) -> std::shared_ptr<const Cached> {
    return json_projection(project_fields(object, all));
  };
}

Store::Store(Projector projector, std::vector<std::string> indexed_label_keys)
    : projector_(std::move(projector)), indexed_label_keys_(std::move(indexed_label_keys)) {
  for (const std::string& key : indexed_label_keys_) label_index_[key];
}

Store::Change Store::upsert(const std::string& key, const json& full_object) {
  Entry entry;
  entry.object = projector_ ? projector_(full_object) : json_projection(full_object);
  if (!indexed_label_keys_.empty()) {
    const json* labels = nullptr;
    auto metadata = full_object.find("metadata");
    if (metadata != full_object.end() && metadata->is_object()) {
      auto found = metadata->find("labels");
      if (found != metadata->end() && found->is_object()) labels = &*found;
    }
    if (labels) {
      for (const std::string& label : indexed_label_keys_) {
        auto value = labels->find(label);
        if (value != labels->end() && value->is_string())
          entry.indexed_labels.emplace_back(label, value->get<std::string>());
      }
    }
  }

  std::unique_lock<std::shared_mutex> lock(mu_);
  Change change;
  change.new_object = entry.object;
  auto existing = objects_.find(key);
  if (existing != objects_.end()) {
    change.old_object = existing->second.object;
    unindex_locked(key, existing->second);
    existing->second = std::move(entry);
    index_locked(key, existing->second);
  } else {
    auto inserted = objects_.emplace(key, std::move(entry)).first;
    index_locked(key, inserted->second);
  }
  return change;
}

Store::Change Store::remove(const std::string& key) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  Change change;
  auto existing = objects_.find(key);
  if (existing == objects_.end()) return change;
  change.old_object = existing->second.object;
  unindex_locked(key, existing->second);
  objects_.erase(existing);
  return change;
}

void Store::mark_synced() {
  std::unique_lock<std::shared_mutex> lock(mu_);
  synced_ = true;
}

void Store::index_locked(const std::string& key, const Entry& entry) {
  for (const auto& [label, value] : entry.indexed_labels) label_index_[label][value].insert(key);
}

void Store::unindex_locked(const std::string& key, const Entry& entry) {
  for (const auto& [label, value] : entry.indexed_labels) {
    auto& by_value = label_index_[label];
    auto keys = by_value.find(value);
    if (keys == by_value.end()) continue;
    keys->second.erase(key);
    if (keys->second.empty()) by_value.erase(keys);
  }
}

Projection Store::get(const std::string& ns, const std::string& name) const {
  return get(ns.empty() ? name : ns + "/" + name);
}

Projection Store::get(const std::string& key) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto found = objects_.find(key);
  return found == objects_.end() ? nullptr : found->second.object;
}

std::vector<Projection> Store::list(const std::string& ns) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::vector<Projection> out;
  if (ns.empty()) {
    out.reserve(objects_.size());
    for (const auto& entry : objects_) out.push_back(entry.second.object);
    return out;
  }
  const std::string prefix = ns + "/";
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back(it->second.object);
  }
  return out;
}

std::vector<Projection> Store::list_by_label(const std::string& label_key,
                                             const std::string& value,
                                             const std::string& ns) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto by_value = label_index_.find(label_key);
  if (by_value == label_index_.end())
    throw std::logic_error("Store::list_by_label: label '" + label_key + "' is not indexed");
  std::vector<Projection> out;
  auto keys = by_value->second.find(value);
  if (keys == by_value->second.end()) return out;
  for (const std::string& key : keys->second) {
    if (!in_namespace(key, ns)) continue;
    out.push_back(objects_.at(key).object);
  }
  return out;
}

std::vector<std::string> Store::keys() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::vector<std::string> out;
  out.reserve(objects_.size());
  for (const auto& entry : objects_) out.push_back(entry.first);
  return out;
}

size_t Store::size() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return objects_.size();
}

bool Store::synced() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return synced_;
}

}  // namespace runtime
