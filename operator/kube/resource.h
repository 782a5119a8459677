// Which API collection a call addresses, and how its URL is spelled.
//
//   kube::collection_path(kube::kDeployments, "prod")
//     == "/apis/apps/v1/namespaces/prod/deployments"
#pragma once

#include <string>
#include <string_view>

namespace kube {

struct Resource {
  std::string api_version;  // "v1" (core) or "group/version"
  std::string plural;       // "configmaps"
  std::string kind;         // "ConfigMap", used when building apply bodies
  bool namespaced = true;
};

// Core and group kinds the operator uses; one definition each.
extern const Resource kConfigMaps;
extern const Resource kSecrets;
extern const Resource kServices;
extern const Resource kPersistentVolumeClaims;
extern const Resource kEvents;  // core/v1 Events
extern const Resource kNamespaces;
extern const Resource kDeployments;
extern const Resource kNetworkPolicies;
extern const Resource kLeases;

// "/api/v1" or "/apis/<group>/<version>", then "/namespaces/<ns>" when the
// resource is namespaced and `ns` is not empty, then "/<plural>".
std::string collection_path(const Resource& r, std::string_view ns);
// collection_path + "/<name>" (+ "/<subresource>" when given).
std::string object_path(const Resource& r, std::string_view ns,
                        std::string_view name, std::string_view subresource = {});
// RFC 3986 percent-encoding of one query value.
std::string url_encode(std::string_view value);

}  // namespace kube
