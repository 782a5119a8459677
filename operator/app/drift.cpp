#include "app/drift.h"

#include <cstdlib>

#include "electric/digest.h"
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

namespace {

using nlohmann::json;

// The entry of a keyed list that fieldsV1 names "k:{...}" (every key field
// equal), "v:<value>" (a set's member) or "i:<index>"; null when absent.
const json* list_entry(const json& list, const std::string& selector) {
  const std::string body = selector.substr(2);
  if (selector.rfind("i:", 0) == 0) {
    char* end = nullptr;
    const unsigned long index = std::strtoul(body.c_str(), &end, 10);
    return *end == '\0' && index < list.size() ? &list[index] : nullptr;
  }
  const json key = json::parse(body, nullptr, false);
  if (key.is_discarded()) return nullptr;
  for (const json& entry : list) {
    if (selector[0] == 'v' && entry == key) return &entry;
    if (selector[0] != 'k' || !entry.is_object() || !key.is_object()) continue;
    bool all = true;
    for (const auto& [field, value] : key.items()) all = all && entry.contains(field) && entry[field] == value;
    if (all) return &entry;
  }
  return nullptr;
}

// `value` cut down to the fields `set` (a fieldsV1 node) lists.
json extract(const json& value, const json& set) {
  bool has_children = false;
  for (const auto& [selector, child] : set.items()) has_children = has_children || selector != ".";
  if (!has_children) return value;  // owned whole: a leaf, an atomic struct or list
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [selector, child] : set.items()) {
      if (selector.rfind("f:", 0) != 0) continue;
      auto it = value.find(selector.substr(2));
      if (it != value.end()) out[it.key()] = extract(*it, child);
    }
    return out;
  }
  if (value.is_array()) {
    // In live order: the order the API server keeps is the order we applied.
    json out = json::array();
    for (const json& entry : value) {
      for (const auto& [selector, child] : set.items()) {
        if (selector.size() > 2 && selector[1] == ':' && list_entry(value, selector) == &entry) {
          out.push_back(extract(entry, child));
          break;
        }
      }
    }
    return out;
  }
  return value;
}

std::string int128_text(__int128 v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  std::string digits;
  for (; v != 0; v /= 10) digits.insert(digits.begin(), static_cast<char>('0' + (negative ? -(v % 10) : v % 10)));
  return negative ? "-" + digits : digits;
}

json normal_form(const json& value, bool quantities) {
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [key, child] : value.items()) {
      json n = normal_form(child, quantities || key == "requests" || key == "limits");
      if ((n.is_object() || n.is_array()) && n.empty()) continue;
      out[key] = std::move(n);
    }
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const json& entry : value) out.push_back(normal_form(entry, false));
    return out;
  }
  if (quantities && value.is_string()) {
    if (auto q = electric::parse_quantity(value.get<std::string>())) return "quantity:" + int128_text(q->millis);
  }
  return value;
}

}  // namespace

json applied_fields(const json& live, std::string_view manager) {
  const json::json_pointer managed("/metadata/managedFields");
  if (!live.contains(managed) || !live[managed].is_array()) return json::object();
  for (const json& entry : live[managed]) {
    if (!entry.is_object() || entry.value("manager", "") != manager || entry.value("operation", "") != "Apply" ||
        !entry.value("subresource", "").empty() || !entry.contains("fieldsV1") || !entry["fieldsV1"].is_object())
      continue;
    return extract(live, entry["fieldsV1"]);
  }
  return json::object();
}

std::string owned_fields_digest(const json& fields) {
  json body = fields.is_object() ? fields : json::object();
  body.erase("apiVersion");
  body.erase("kind");
  if (body.contains("metadata") && body["metadata"].is_object()) {
    body["metadata"].erase("name");
    body["metadata"].erase("namespace");
  }
  return electric::sha256_hex(normal_form(body, false).dump());
}

}  // namespace app
