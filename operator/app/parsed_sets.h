// ElectricShardSets parsed once per version of what parsing reads (spec,
// which bumps metadata.generation, and a few metadata fields): a status
// write, which changes the resourceVersion but not the generation, reuses
// the parse. Used by the sets' cache at ingest, so every reader of a cached
// set (reconciler, event handlers) shares one parse.
//
//   app::ParsedSets parsed;
//   std::shared_ptr<const electric::ParsedShardSet> p = parsed.get(set_json);
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
  // The parse of `object` (a set from the API server), from memory when
  // its namespace/name was parsed before with the same parse_identity.
  // Thread-safe.
  std::shared_ptr<const electric::ParsedShardSet> get(const nlohmann::json& object);
  void forget(const std::string& key);
  size_t size() const;

  // What of `object` parse_shard_set reads besides spec, and its
  // generation (or, without one, its resourceVersion): equal identities,
  // equal parses.
  static std::string parse_identity(const nlohmann::json& object);

 private:
  struct Entry {
    std::string identity;
    std::shared_ptr<const electric::ParsedShardSet> parsed;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> by_key_;
};

}  // namespace app
