#include "app/parsed_sets.h"

#include "base/json_pointer.h"
#include "runtime/store.h"
#include "electric/constants.h"

namespace app {

using nlohmann::json;

std::string ParsedSets::parse_identity(const json& object) {
  static const json kNone = json::object();
  const json& meta = object.contains("metadata") && object["metadata"].is_object() ? object["metadata"] : kNone;
  json identity = json::object();
  for (const char* field : {"name", "namespace", "uid", "creationTimestamp", "generation", "deletionTimestamp",
                            "finalizers"})
    if (auto it = meta.find(field); it != meta.end()) identity[field] = *it;
  if (!identity.contains("generation")) identity["resourceVersion"] = meta.value("resourceVersion", "");
  static const json::json_pointer skip("/annotations/" +
                                       base::pointer_token(std::string(electric::kAnnotationSkipSlotCleanup)));
  if (meta.contains(skip)) identity["skip"] = meta[skip];
  return identity.dump();
}

std::shared_ptr<const electric::ParsedShardSet> ParsedSets::get(const json& object) {
  const runtime::ObjectMeta meta = runtime::object_meta(object, std::vector<std::string>{});
  const std::string key = meta.key();
  const std::string identity = parse_identity(object);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_key_.find(key);
    if (it != by_key_.end() && it->second.identity == identity) return it->second.parsed;
  }
  // Parsed outside the lock: readers of other sets need not wait for this one.
  auto parsed = std::make_shared<const electric::ParsedShardSet>(electric::parse_shard_set(object));
  std::lock_guard<std::mutex> lock(mu_);
  by_key_[key] = {identity, parsed};
  return parsed;
}

void ParsedSets::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  by_key_.erase(key);
}

size_t ParsedSets::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_key_.size();
}

}  // namespace app
