// ElectricShardSets parsed once per resourceVersion: a reconcile of a set
// that did not change since the last one (a child's event woke it) reuses
// the parse, and so does every other reader of the same version.
//
//   app::ParsedSets parsed;
//   std::shared_ptr<const electric::ParsedShardSet> p = parsed.get(*projection);
//   parsed.forget("prod/myapp");   // the set is gone
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "electric/shard_set.h"

namespace app {

class ParsedSets {
 public:
  // The parse of `object` (a cached set), from memory when its
  // namespace/name and resourceVersion were parsed before. Thread-safe.
  std::shared_ptr<const electric::ParsedShardSet> get(const nlohmann::json& object);
  void forget(const std::string& key);
  size_t size() const;

 private:
  struct Entry {
    std::string resource_version;
    std::shared_ptr<const electric::ParsedShardSet> parsed;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> by_key_;
};

}  // namespace app
