#include "app/drift.h"

#include <cstdlib>

#include "electric/digest.h"
#include "electric/quantity.h"

namespace app {
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

// An object or list that adds nothing: empty, or (objects) only empty members.
bool adds_nothing(const json& value) {
  if (value.is_array()) return value.empty();
  if (!value.is_object()) return false;
  for (const auto& [key, child] : value.items())
    if (!adds_nothing(child)) return false;
  return true;
}

void append_text(std::string& out, char tag, const std::string& text) {
  out += tag;
  out += std::to_string(text.size());
  out += ':';
  out += text;
}

// Appends `value`'s normal form to `out`, unambiguously (tags and lengths),
// without building a normalised copy: a reconcile digests thousands of
// bodies.
void append_normal_form(std::string& out, const json& value, bool quantities) {
  if (value.is_object()) {
    out += '{';
    for (const auto& [key, child] : value.items()) {
      if (adds_nothing(child)) continue;
      append_text(out, 'k', key);
      append_normal_form(out, child, quantities || key == "requests" || key == "limits");
    }
    out += '}';
  } else if (value.is_array()) {
    out += '[';
    for (const json& entry : value) append_normal_form(out, entry, false);
    out += ']';
  } else if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (quantities) {
      if (auto q = electric::parse_quantity(text)) return append_text(out, 'q', int128_text(q->millis));
    }
    append_text(out, 's', text);
  } else {
    append_text(out, 'v', value.dump());  // numbers, booleans, null
  }
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
  // Identity is not a field: the top level without apiVersion and kind,
  // metadata without name and namespace.
  std::string text = "{";
  if (fields.is_object()) {
    for (const auto& [key, child] : fields.items()) {
      if (key == "apiVersion" || key == "kind") continue;
      json identity_dropped;
      const json* member = &child;
      if (key == "metadata" && child.is_object()) {
        identity_dropped = child;
        identity_dropped.erase("name");
        identity_dropped.erase("namespace");
        member = &identity_dropped;
      }
      if (adds_nothing(*member)) continue;
      append_text(text, 'k', key);
      append_normal_form(text, *member, false);
    }
  }
  text += '}';
  return electric::sha256_hex(text);
}

}  // namespace app
