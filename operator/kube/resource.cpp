#include "kube/resource.h"

namespace kube {

const Resource kConfigMaps{"v1", "configmaps", "ConfigMap", true};
const Resource kSecrets{"v1", "secrets", "Secret", true};
const Resource kServices{"v1", "services", "Service", true};
const Resource kPersistentVolumeClaims{"v1", "persistentvolumeclaims",
                                       "PersistentVolumeClaim", true};
const Resource kEvents{"v1", "events", "Event", true};
const Resource kNamespaces{"v1", "namespaces", "Namespace", false};
const Resource kDeployments{"apps/v1", "deployments", "Deployment", true};
const Resource kNetworkPolicies{"networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", true};
const Resource kLeases{"coordination.k8s.io/v1", "leases", "Lease", true};

std::string collection_path(const Resource& r, std::string_view ns) {
  // The core group has no name and lives under /api; every other group
  // version ("apps/v1") under /apis.
  std::string path = r.api_version.find('/') == std::string::npos
                         ? "/api/" + r.api_version
                         : "/apis/" + r.api_version;
  if (r.namespaced && !ns.empty()) {
    path += "/namespaces/";
    path.append(ns.data(), ns.size());
  }
  path += "/";
  path += r.plural;
  return path;
}

std::string object_path(const Resource& r, std::string_view ns,
                        std::string_view name, std::string_view subresource) {
  std::string path = collection_path(r, ns);
  path += "/";
  path.append(name.data(), name.size());
  if (!subresource.empty()) {
    path += "/";
    path.append(subresource.data(), subresource.size());
  }
  return path;
}

std::string url_encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (unsigned char c : value) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                            c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

}  // namespace kube
