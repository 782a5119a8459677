#include "app/keyed_lists.h"

#include <algorithm>
#include <functional>
#include <map>

#include "electric/quantity.h"

namespace app {
namespace {

using nlohmann::json;

// A keyed list the operator writes: its merge keys (listMapKeys of the
// Kubernetes API), a field the API server requires unique besides, whether
// a copy of one of our entries under another key is ours displaced (only
// where an entry's content is distinctive: a user's env var may well hold
// "true" as one of ours does, a user's container is not our container), and
// the keyed lists inside each entry.
struct KeyedList {
  const char* field;
  std::vector<const char*> keys;
  const char* unique;
  bool copies;
  std::vector<KeyedList> inner;
};

struct ListRoot {
  const char* parent;  // JSON pointer of the object holding the list
  KeyedList list;
};

const std::vector<ListRoot>& keyed_lists() {
  static const std::vector<ListRoot> roots = {
      {"/spec", {"ports", {"port", "protocol"}, "name", false, {}}},  // Service
      {"/spec/template/spec",
       {"containers",
        {"name"},
        nullptr,
        true,
        {{"ports", {"containerPort", "protocol"}, "name", false, {}},
         {"env", {"name"}, nullptr, false, {}},
         {"volumeMounts", {"mountPath"}, nullptr, true, {}}}}},
      {"/spec/template/spec", {"volumes", {"name"}, nullptr, true, {}}},
      {"/spec/template/spec", {"imagePullSecrets", {"name"}, nullptr, false, {}}},
  };
  return roots;
}

// An entry's key, with the API server's default for a key field left out
// (a port's protocol is TCP).
json key_of(const KeyedList& list, const json& entry) {
  json key = json::array();
  for (const char* field : list.keys) {
    auto it = entry.is_object() ? entry.find(field) : entry.end();
    if (it != entry.end()) key.push_back(*it);
    else key.push_back(std::string_view(field) == "protocol" ? json("TCP") : json());
  }
  return key;
}

const json* entry_with_key(const KeyedList& list, const json& entries, const json& key) {
  for (const json& entry : entries)
    if (key_of(list, entry) == key) return &entry;
  return nullptr;
}

// Does `live` hold everything `wanted` does? Server defaults and quantity
// forms ("1024Mi" stored as "1Gi") aside, as in owned_fields_digest.
bool covers(const json& live, const json& wanted) {
  if (wanted.is_object()) {
    if (!live.is_object()) return false;
    for (const auto& [field, value] : wanted.items()) {
      auto it = live.find(field);
      if (it == live.end() || !covers(*it, value)) return false;
    }
    return true;
  }
  if (wanted.is_array()) {
    if (!live.is_array() || live.size() != wanted.size()) return false;
    for (size_t i = 0; i < wanted.size(); ++i)
      if (!covers(live[i], wanted[i])) return false;
    return true;
  }
  if (wanted.is_string() && live.is_string() && wanted != live) {
    auto a = electric::parse_quantity(wanted.get_ref<const std::string&>());
    auto b = electric::parse_quantity(live.get_ref<const std::string&>());
    return a && b && a->millis == b->millis;
  }
  return live == wanted;
}

std::string key_text(const KeyedList& list, const json& entry) {
  std::string out;
  const json key = key_of(list, entry);
  for (size_t i = 0; i < list.keys.size(); ++i) {
    if (!out.empty()) out += ", ";
    out += std::string(list.keys[i]) + " " + (key[i].is_string() ? key[i].get<std::string>() : key[i].dump());
  }
  return out;
}

// Why `entry`, whose key `reference` does not have, is displaced; "" when
// it is simply someone else's.
std::string displacement(const KeyedList& list, const json& entry, const json& reference, const json& live) {
  if (list.unique && entry.is_object() && entry.contains(list.unique)) {
    for (const json& ours : reference)
      if (ours.is_object() && ours.value(list.unique, json()) == entry[list.unique])
        return std::string("its ") + list.unique + " " + entry[list.unique].dump() + " is the operator's (" +
               key_text(list, ours) + ")";
  }
  for (const json& ours : list.copies ? reference : json::array()) {
    if (!ours.is_object() || entry_with_key(list, live, key_of(list, ours))) continue;
    json rest = ours;
    for (const char* field : list.keys) rest.erase(field);
    if (!rest.empty() && covers(entry, rest)) return "a copy of the operator's (" + key_text(list, ours) + ") under another key";
  }
  return "";
}

const json* list_at(const json& object, const std::string& pointer) {
  const json::json_pointer ptr(pointer);
  if (!object.is_object() || !object.contains(ptr)) return nullptr;
  const json& list = object[ptr];
  return list.is_array() ? &list : nullptr;
}

// Visits every live entry whose key `reference` lacks, descending into the
// inner lists of the entries both have. `reference` may lack the list.
using Visit = std::function<void(const KeyedList&, const std::string& pointer, size_t index, const json& entry,
                                 const json& reference, const json& live)>;

void walk(const KeyedList& list, const json* reference, const json& live, const std::string& pointer,
          const Visit& visit) {
  static const json kNone = json::array();
  const json& ours = reference ? *reference : kNone;
  for (size_t i = 0; i < live.size(); ++i) {
    const json* match = entry_with_key(list, ours, key_of(list, live[i]));
    if (!match) {
      visit(list, pointer, i, live[i], ours, live);
      continue;
    }
    for (const KeyedList& inner : list.inner) {
      const std::string inner_pointer = pointer + "/" + std::to_string(i) + "/" + inner.field;
      const json* live_inner = list_at(live[i], std::string("/") + inner.field);
      if (live_inner) walk(inner, list_at(*match, std::string("/") + inner.field), *live_inner, inner_pointer, visit);
    }
  }
}

void walk_all(const json& reference, const json& live, const Visit& visit) {
  for (const ListRoot& root : keyed_lists()) {
    const std::string pointer = std::string(root.parent) + "/" + root.list.field;
    if (const json* live_list = list_at(live, pointer)) walk(root.list, list_at(reference, pointer), *live_list, pointer, visit);
  }
}

bool is_root_list(const std::string& pointer) {
  for (const ListRoot& root : keyed_lists())
    if (pointer == std::string(root.parent) + "/" + root.list.field) return true;
  return false;
}

size_t depth(const std::string& pointer) { return static_cast<size_t>(std::count(pointer.begin(), pointer.end(), '/')); }

}  // namespace

std::vector<DisplacedEntry> displaced_entries(const json& desired, const json& live) {
  std::vector<DisplacedEntry> out;
  walk_all(desired, live, [&](const KeyedList& list, const std::string& pointer, size_t index, const json& entry,
                              const json& reference, const json& live_list) {
    std::string why = displacement(list, entry, reference, live_list);
    if (!why.empty()) out.push_back({pointer, index, entry, std::move(why)});
  });
  return out;
}

bool has_foreign_entries(const json& live, const json& owned) {
  bool found = false;
  walk_all(owned, live, [&](const KeyedList&, const std::string&, size_t, const json&, const json&, const json&) {
    found = true;
  });
  return found;
}

json removal_patch(const std::vector<DisplacedEntry>& entries, const json& desired, const json& live) {
  std::vector<const DisplacedEntry*> order;
  std::map<std::string, size_t> removed_from;
  for (const DisplacedEntry& e : entries) {
    order.push_back(&e);
    ++removed_from[e.list];
  }
  // Inner lists first (a removed container must not shift the index of an
  // entry inside a later one), then each list from its end.
  std::sort(order.begin(), order.end(), [](const DisplacedEntry* a, const DisplacedEntry* b) {
    if (depth(a->list) != depth(b->list)) return depth(a->list) > depth(b->list);
    if (a->list != b->list) return a->list < b->list;
    return a->index > b->index;
  });
  json patch = json::array();
  for (const DisplacedEntry* e : order) {
    const std::string path = e->list + "/" + std::to_string(e->index);
    patch.push_back({{"op", "test"}, {"path", path}, {"value", e->entry}});
    patch.push_back({{"op", "remove"}, {"path", path}});
  }
  for (const auto& [list, count] : removed_from) {
    const json* live_list = list_at(live, list);
    const json* ours = is_root_list(list) ? list_at(desired, list) : nullptr;  // inner ones may be empty
    if (!live_list || live_list->size() != count || !ours) continue;
    for (const json& entry : *ours) patch.push_back({{"op", "add"}, {"path", list + "/-"}, {"value", entry}});
  }
  return patch;
}

std::vector<DisplacedEntry> relocated(const std::vector<DisplacedEntry>& entries, const json& live) {
  std::vector<DisplacedEntry> out;
  for (const DisplacedEntry& e : entries) {
    const json* list = list_at(live, e.list);
    if (!list) continue;
    auto it = std::find(list->begin(), list->end(), e.entry);
    if (it == list->end()) continue;
    out.push_back(e);
    out.back().index = static_cast<size_t>(it - list->begin());
  }
  return out;
}

std::string describe(const DisplacedEntry& entry) {
  std::string path;
  size_t start = 1;
  const std::string& p = entry.list;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    const std::string token = p.substr(start, end - start);
    const bool index = !token.empty() && std::all_of(token.begin(), token.end(), ::isdigit);
    path += index ? "[" + token + "]" : (path.empty() ? "" : ".") + token;
    start = end + 1;
  }
  return path + "[" + std::to_string(entry.index) + "]: " + entry.why;
}

}  // namespace app
