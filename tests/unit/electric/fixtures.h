// Sample ElectricShardSet objects for the electric/ unit tests.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "electric/shard_set.h"

namespace electric_test {

// A valid 3-shard set "myapp" in namespace "prod", as the API server would
// return it (defaults already applied or not: the parser applies them).
inline nlohmann::json sample_object() {
  return nlohmann::json::parse(R"({
    "apiVersion": "electric-operator.dev/v1alpha1",
    "kind": "ElectricShardSet",
    "metadata": {"name": "myapp", "namespace": "prod", "uid": "1111-2222",
                 "generation": 7, "creationTimestamp": "2024-05-01T12:00:00Z",
                 "labels": {"team": "data", "app.kubernetes.io/instance": "argo-app"},
                 "annotations": {"note": "do not copy"}},
    "spec": {
      "shards": [
        {"name": "0", "databaseURLSecretRef": {"name": "pg-shard-0", "key": "url"}},
        {"name": "1", "databaseURLSecretRef": {"name": "pg-shard-1", "key": "url"},
         "pooledDatabaseURLSecretRef": {"name": "pg-shard-1", "key": "pooled"}},
        {"name": "2", "databaseURLSecretRef": {"name": "pg-shard-2", "key": "url"},
         "replicationStreamID": "custom_two"}
      ]
    }
  })");
}

inline electric::ShardSet parse_ok(const nlohmann::json& object) {
  auto parsed = electric::parse_shard_set(object);
  if (!parsed.ok()) throw std::runtime_error("fixture invalid: " + electric::describe_errors(parsed.errors));
  return parsed.set;
}

inline electric::ShardSet sample_set() { return parse_ok(sample_object()); }

}  // namespace electric_test
