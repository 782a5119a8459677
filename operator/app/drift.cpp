#include "app/drift.h"

#include "electric/quantity.h"

namespace app {
namespace {

bool same_quantity(const nlohmann::json& desired, const nlohmann::json& live) {
  if (!desired.is_string() || !live.is_string()) return desired == live;
  auto a = electric::parse_quantity(desired.get<std::string>());
  auto b = electric::parse_quantity(live.get<std::string>());
  return a && b ? *a == *b : desired == live;
}

// `quantities`: inside ResourceRequirements' requests or limits (or a PVC's
// resources.requests), whose values the API server stores in canonical
// spelling.
bool match(const nlohmann::json& desired, const nlohmann::json& live, bool quantities) {
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (const auto& [key, value] : desired.items()) {
      auto it = live.find(key);
      if (it == live.end()) {
        // An empty object or list we send is as good as an absent one.
        if ((value.is_object() || value.is_array()) && value.empty()) continue;
        return false;
      }
      if (!match(value, *it, quantities || key == "requests" || key == "limits")) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (size_t i = 0; i < desired.size(); ++i) {
      if (!match(desired[i], live[i], false)) return false;
    }
    return true;
  }
  return quantities ? same_quantity(desired, live) : desired == live;
}

}  // namespace

bool owned_fields_match(const nlohmann::json& desired, const nlohmann::json& live) {
  return match(desired, live, false);
}

}  // namespace app
