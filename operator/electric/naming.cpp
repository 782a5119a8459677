#include "electric/naming.h"

#include "electric/constants.h"
#include "electric/digest.h"
#include "electric/shard_set.h"

namespace electric {
namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::string concat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out.append(p);
  return out;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool is_dns_label_body(std::string_view s) {
  if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
  for (char c : s)
    if (!is_lower_alnum(c) && c != '-') return false;
  return true;
}

}  // namespace

std::string shard_child_name(std::string_view set_name, std::string_view shard_name) {
  return concat({set_name, kShardInfix, shard_name});
}

std::string shard_pvc_name(std::string_view set_name, std::string_view shard_name) {
  return concat({set_name, kShardInfix, shard_name, kDataSuffix});
}

std::string api_secret_name(std::string_view set_name) {
  return concat({set_name, kApiSecretSuffix});
}

std::string network_policy_name(std::string_view set_name) {
  return concat({set_name, kNetworkPolicySuffix});
}

std::string default_routing_config_map_name(std::string_view set_name) {
  return concat({set_name, kRoutingSuffix});
}

std::string instance_id(std::string_view namespace_name, std::string_view set_name,
                        std::string_view shard_name) {
  return concat({namespace_name, "/", shard_child_name(set_name, shard_name)});
}

std::string derive_stream_id(std::string_view namespace_name, std::string_view set_name,
                             std::string_view shard_name) {
  std::string id = concat({namespace_name, "_", set_name, "_", shard_name});
  for (char& c : id) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!is_lower_alnum(c) && c != '_') c = '_';
  }
  if (id.empty() || !((id[0] >= 'a' && id[0] <= 'z') || id[0] == '_')) id.insert(0, "_");
  if (id.size() > static_cast<std::size_t>(kMaxStreamIDLength)) {
    // The hash keeps long names that share a prefix apart.
    id = id.substr(0, kStreamIDPrefixLength) + "_" +
         sha256_hex(id).substr(0, kStreamIDHashHexDigits);
  }
  return id;
}

std::string effective_stream_id(const ShardSet& set, const Shard& shard) {
  if (shard.replication_stream_id) return *shard.replication_stream_id;
  return derive_stream_id(set.namespace_name, set.name, shard.name);
}

std::string shard_service_url(std::string_view namespace_name, std::string_view set_name,
                              std::string_view shard_name, int64_t port,
                              std::string_view cluster_domain) {
  return concat({"http://", shard_child_name(set_name, shard_name), ".", namespace_name,
                 ".svc.", cluster_domain, ":", std::to_string(port)});
}

std::string shard_service_url(const ShardSet& set, const Shard& shard,
                              std::string_view cluster_domain) {
  return shard_service_url(set.namespace_name, set.name, shard.name, set.spec.service.port,
                           cluster_domain);
}

bool is_dns1035_label(std::string_view name) {
  return name.size() <= 63 && !name.empty() && name[0] >= 'a' && name[0] <= 'z' &&
         is_dns_label_body(name);
}

bool is_dns1123_subdomain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
    if (label.size() > 63 || !is_dns_label_body(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

namespace {
constexpr std::string_view kSlotPrefix = "electric_slot_";
constexpr std::string_view kPublicationPrefix = "electric_publication_";
// Postgres truncates identifiers beyond 63 bytes; the stream ID limit exists
// so that the longer of the two names still fits.
static_assert(kPublicationPrefix.size() + kMaxStreamIDLength == 63);
}  // namespace

std::string replication_slot_name(std::string_view stream_id) {
  return std::string(kSlotPrefix) + std::string(stream_id);
}

std::string publication_name(std::string_view stream_id) {
  return std::string(kPublicationPrefix) + std::string(stream_id);
}

bool is_valid_shard_name(std::string_view name) { return is_dns_label_body(name); }

bool is_valid_stream_id(std::string_view id) {
  if (id.empty() || id.size() > static_cast<std::size_t>(kMaxStreamIDLength)) return false;
  if (!((id[0] >= 'a' && id[0] <= 'z') || id[0] == '_')) return false;
  for (char c : id)
    if (!is_lower_alnum(c) && c != '_') return false;
  return true;
}

}  // namespace electric
