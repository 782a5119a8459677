// The routing ConfigMap that routing layers consume (api.md): shards.json
// with every shard's URL, readiness and stream ID in spec order, plus one key
// per shard holding its URL. No timestamps, so an unchanged set never
// rewrites it.
//
//   json cm = electric::render_routing_configmap(set, shard_statuses, "cluster.local");
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "electric/shard_set.h"
#include "electric/status.h"

namespace electric {

// Exact bytes of data["shards.json"]: compact, keys in the order
// apiVersion, shardSet, namespace, shards[{name, url, ready,
// replicationStreamID}]. URLs and stream IDs come from the spec; `ready`
// from the status of the shard with that name (false when absent).
std::string render_shards_json(const ShardSet& set, const std::vector<ShardStatus>& shards,
                               std::string_view cluster_domain);

// ConfigMap spec.routing.configMapName with component=routing labels and the
// set's ownerReference.
nlohmann::json render_routing_configmap(const ShardSet& set, const std::vector<ShardStatus>& shards,
                                        std::string_view cluster_domain);

}  // namespace electric
