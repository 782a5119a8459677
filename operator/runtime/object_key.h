// The cache and queue key of a Kubernetes object: "namespace/name", or just
// "name" for cluster-scoped objects (client-go's MetaNamespaceKeyFunc), so
// keys read the same in logs, stores and work queues.
//
//   std::string key = runtime::object_key("prod", "orders");   // "prod/orders"
//   auto [ns, name] = runtime::split_key(key);
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace runtime {

std::string object_key(std::string_view ns, std::string_view name);

// The key of an object from its metadata.namespace and metadata.name; ""
// when the object has no name (not a valid object).
std::string object_key(const nlohmann::json& object);

// {namespace, name}; namespace is "" for a key without '/'.
std::pair<std::string, std::string> split_key(std::string_view key);

}  // namespace runtime
