// The pod template's config-hash annotation: a SHA-256 (hex) over the shard
// Secret's data and every spec input of the pod, so a changed database URL
// or API secret rolls the pod and nothing else does (set labels, status,
// shard order, another shard's Secret).
//
//   std::string hash = electric::compute_config_hash(set, shard, values);
//   json deployment = electric::render_deployment(set, shard, hash);
#pragma once

#include <map>
#include <string>

#include "electric/render.h"
#include "electric/shard_set.h"

namespace electric {

// SHA-256 hex of a canonical serialisation (object keys sorted, compact) of
// render_pod_template(set, shard, "") and of the shard Secret's data.
// Everything the pod runs with is in that template, so hashing it covers
// every input without listing them (and cannot forget a new one).
std::string compute_config_hash(const ShardSet& set, const Shard& shard,
                                const std::map<std::string, std::string>& shard_secret_data);
std::string compute_config_hash(const ShardSet& set, const Shard& shard,
                                const ShardSecretValues& values);

}  // namespace electric
