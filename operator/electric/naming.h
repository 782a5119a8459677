// Names the operator derives: children, instance IDs, replication stream IDs
// and shard URLs, plus the name rules the API enforces.
//
//   electric::shard_child_name("myapp", "0")        == "myapp-shard-0"
//   electric::derive_stream_id("prod", "myapp", "0") == "prod_myapp_0"
//   electric::replication_slot_name("prod_myapp_0") == "electric_slot_prod_myapp_0"
//   electric::shard_service_url("prod", "myapp", "0", 3000, "cluster.local")
//       == "http://myapp-shard-0.prod.svc.cluster.local:3000"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace electric {

struct ShardSet;
struct Shard;

// Deployment, Service and per-shard Secret: "S-shard-X".
std::string shard_child_name(std::string_view set_name, std::string_view shard_name);
// PersistentVolumeClaim: "S-shard-X-data".
std::string shard_pvc_name(std::string_view set_name, std::string_view shard_name);
// The generated API secret when spec.apiSecretRef is absent: "S-api-secret".
std::string api_secret_name(std::string_view set_name);
// Default of spec.routing.configMapName: "S-routing".
std::string default_routing_config_map_name(std::string_view set_name);
// "<set>-network-policy": the set's NetworkPolicy when spec.networkPolicy.enabled.
std::string network_policy_name(std::string_view set_name);

// ELECTRIC_INSTANCE_ID: "N/S-shard-X", unique per shard across the cluster.
std::string instance_id(std::string_view namespace_name, std::string_view set_name,
                        std::string_view shard_name);

// ELECTRIC_REPLICATION_STREAM_ID when the shard sets none (api.md):
// lower(N + "_" + S + "_" + X), every character outside [a-z0-9_] replaced
// by '_', prefixed by '_' unless it starts with [a-z_]; if longer than 42,
// its first 33 characters + '_' + the first 8 hex digits of the SHA-256 of
// the whole derived string. Always matches ^[a-z_][a-z0-9_]{0,41}$.
std::string derive_stream_id(std::string_view namespace_name, std::string_view set_name,
                             std::string_view shard_name);
// The shard's explicit replicationStreamID, else the derived one.
std::string effective_stream_id(const ShardSet& set, const Shard& shard);

// What Electric names in Postgres after the shard's stream ID (its
// ELECTRIC_REPLICATION_STREAM_ID), and never drops: the replication slot
// "electric_slot_<id>" and the publication "electric_publication_<id>".
std::string replication_slot_name(std::string_view stream_id);
std::string publication_name(std::string_view stream_id);

// "http://S-shard-X.N.svc.<clusterDomain>:<port>", the Service's in-cluster URL.
std::string shard_service_url(std::string_view namespace_name, std::string_view set_name,
                              std::string_view shard_name, int64_t port,
                              std::string_view cluster_domain);
std::string shard_service_url(const ShardSet& set, const Shard& shard,
                              std::string_view cluster_domain);

// --- Name rules ----------------------------------------------------------------
// RFC 1035 label: ^[a-z]([-a-z0-9]*[a-z0-9])?$, at most 63 characters.
bool is_dns1035_label(std::string_view name);
// RFC 1123 subdomain (ConfigMap and Secret names), at most 253 characters.
bool is_dns1123_subdomain(std::string_view name);
// Shard name: ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (length is checked with the set name).
bool is_valid_shard_name(std::string_view name);
// ^[a-z_][a-z0-9_]{0,41}$: a Postgres slot name part that keeps
// "electric_publication_<id>" within 63 bytes.
bool is_valid_stream_id(std::string_view id);

}  // namespace electric
