// Entries of another manager in a keyed list the operator writes, and which
// of them server-side apply alone cannot undo.
//
// Service ports, container ports, containers, env, volume mounts, volumes
// and image pull secrets are lists keyed by some of their fields (a port by
// port and protocol, an env var by name). When another manager changes the
// key of an entry we own (`kubectl edit` of a port number, a rename), the
// entry under its new key is that manager's, and our apply adds ours beside
// it instead of replacing it. Two kinds of such leftovers need removing:
//
// - one that shares a field the API server requires unique with an entry we
//   apply (a second port named "http"): the apply is refused with 422 until
//   it is gone;
// - a copy of an entry we apply, but for its key, while our own key is
//   missing from the object (a renamed container: two Electric processes on
//   one volume), in the lists whose entries are distinctive: containers,
//   volumes, volume mounts.
//
// Every other foreign entry (a user's own env var or port, a renamed env
// var, which Electric does not read) is left alone.
//
//   if (child->foreign_list_entries)  // seen at ingest, see has_foreign_entries
//     for (const DisplacedEntry& e : displaced_entries(desired, live)) ...
//   client.json_patch(resource, ns, name, removal_patch(displaced));
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace app {

struct DisplacedEntry {
  std::string list;       // JSON pointer of the list in the live object
  size_t index = 0;       // of the entry in that list
  nlohmann::json entry;   // as it is live
  std::string why;        // for the Event: what it collides with or copies
};

// The entries of `live` (an object the operator applies `desired` to) that
// apply cannot undo, in list order.
std::vector<DisplacedEntry> displaced_entries(const nlohmann::json& desired, const nlohmann::json& live);

// True when a keyed list the operator writes holds an entry whose key is not
// among `owned`'s (applied_fields of the same object): cheap enough for every
// ingest, so the reconciler reads the live object only when it may need to.
bool has_foreign_entries(const nlohmann::json& live, const nlohmann::json& owned);

// An RFC 6902 patch removing `entries` from `live`: each removal after a
// test of the entry as it was read, so an object changed since is refused,
// not cut wrongly; later indices first, so earlier ones stay valid. A list
// the removals would empty gets `desired`'s entries in the same patch: the
// API server refuses a Service without ports or a pod without containers.
nlohmann::json removal_patch(const std::vector<DisplacedEntry>& entries, const nlohmann::json& desired,
                             const nlohmann::json& live);

// `entries` (read from an earlier version of the object) where they are in
// `live` now, found by value; those no longer there are dropped.
std::vector<DisplacedEntry> relocated(const std::vector<DisplacedEntry>& entries, const nlohmann::json& live);

// "spec.ports[1] (port 4000/TCP): its name "http" is the operator's" and the like.
std::string describe(const DisplacedEntry& entry);

}  // namespace app
