#include "electric/config_hash.h"

#include <nlohmann/json.hpp>

#include "electric/digest.h"

namespace electric {

std::string compute_config_hash(const ShardSet& set, const Shard& shard,
                                const std::map<std::string, std::string>& shard_secret_data) {
  // nlohmann::json keeps object keys sorted and dumps compactly and without
  // locale, so equal templates give equal bytes. Secret values may be any
  // bytes (not UTF-8), so they go in raw and length-prefixed, in key order,
  // which keeps every split of the input unambiguous. The version tag makes
  // a future change of scheme deliberate.
  std::string canonical = "electric-operator/config-hash/v1\n";
  canonical += render_pod_template(set, shard, "").dump();
  for (const auto& [key, value] : shard_secret_data) {
    canonical += "\n" + std::to_string(key.size()) + ":" + key;
    canonical += std::to_string(value.size()) + ":" + value;
  }
  return sha256_hex(canonical);
}

std::string compute_config_hash(const ShardSet& set, const Shard& shard,
                                const ShardSecretValues& values) {
  return compute_config_hash(set, shard, shard_secret_data(values));
}

}  // namespace electric
