#include "electric/routing.h"

#include "electric/constants.h"
#include "electric/labels.h"
#include "electric/naming.h"
#include "electric/render.h"

namespace electric {

namespace {

bool is_ready(const std::vector<ShardStatus>& shards, const std::string& name) {
  for (const auto& s : shards)
    if (s.name == name) return s.ready;
  return false;
}

}  // namespace

std::string render_shards_json(const ShardSet& set, const std::vector<ShardStatus>& shards,
                               std::string_view cluster_domain) {
  // ordered_json keeps the key order api.md shows.
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& shard : set.spec.shards) {
    nlohmann::ordered_json entry;
    entry["name"] = shard.name;
    entry["url"] = shard_service_url(set, shard, cluster_domain);
    entry["ready"] = is_ready(shards, shard.name);
    entry["replicationStreamID"] = effective_stream_id(set, shard);
    list.push_back(std::move(entry));
  }
  nlohmann::ordered_json doc;
  doc["apiVersion"] = std::string(kApiVersion);
  doc["shardSet"] = set.name;
  doc["namespace"] = set.namespace_name;
  doc["shards"] = std::move(list);
  return doc.dump();
}

nlohmann::json render_routing_configmap(const ShardSet& set, const std::vector<ShardStatus>& shards,
                                        std::string_view cluster_domain) {
  nlohmann::json data = {{std::string(kRoutingShardsKey), render_shards_json(set, shards, cluster_domain)}};
  for (const auto& shard : set.spec.shards) data[shard.name] = shard_service_url(set, shard, cluster_domain);
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", set.spec.routing_config_map_name},
            {"namespace", set.namespace_name},
            {"labels", set_labels(set.name, kComponentRouting)},
            {"ownerReferences", nlohmann::json::array({owner_reference(set)})}}},
          {"data", data}};
}

}  // namespace electric
