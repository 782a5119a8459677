#include "runtime/object_key.h"

namespace runtime {

std::string object_key(std::string_view ns, std::string_view name) {
  std::string key;
  key.reserve(ns.size() + 1 + name.size());
  if (!ns.empty()) {
    key.append(ns);
    key.push_back('/');
  }
  key.append(name);
  return key;
}

std::string object_key(const nlohmann::json& object) {
  if (!object.is_object()) return {};
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  auto name = metadata->find("name");
  if (name == metadata->end() || !name->is_string()) return {};
  auto ns = metadata->find("namespace");
  std::string ns_value =
      (ns != metadata->end() && ns->is_string()) ? ns->get<std::string>() : "";
  return object_key(ns_value, name->get_ref<const std::string&>());
}

std::pair<std::string, std::string> split_key(std::string_view key) {
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return {std::string(), std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

}  // namespace runtime
