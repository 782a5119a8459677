#include "app/parsed_sets.h"

namespace app {

using nlohmann::json;

std::shared_ptr<const electric::ParsedShardSet> ParsedSets::get(const json& object) {
  const json meta = object.value("metadata", json::object());
  const std::string key = meta.value("namespace", "") + "/" + meta.value("name", "");
  const std::string version = meta.value("resourceVersion", "");
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_key_.find(key);
    if (!version.empty() && it != by_key_.end() && it->second.resource_version == version) return it->second.parsed;
  }
  // Parsed outside the lock: two workers never reconcile one set at once,
  // and readers of other sets need not wait for this one.
  auto parsed = std::make_shared<const electric::ParsedShardSet>(electric::parse_shard_set(object));
  std::lock_guard<std::mutex> lock(mu_);
  by_key_[key] = {version, parsed};
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
