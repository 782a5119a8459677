// Does a live object already carry what the operator would apply?
//
// The caches keep no copy of a child's fields, only a digest of the fields
// the operator applied (applied_fields, read from the object's managedFields
// at ingest); the reconciler compares it to the digest of what it would apply:
//
//   if (owned_fields_digest(desired) != cached_child.owned_digest) apply;
//
// Fields only in the live object (server defaults, other managers' fields
// and list entries) are not in applied_fields, so they are ignored. Another
// manager's change to one of our fields (kubectl edit, a forced apply) takes
// that field's ownership from us, so it leaves applied_fields and the digests
// differ: drift is still seen without holding the object.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace app {

// The part of `live` that field manager `manager` owns through server-side
// apply, by the fieldsV1 set of its Apply entry in metadata.managedFields:
// maps keep only the fields listed, keyed lists only the entries whose keys
// are listed (in live order), and a field listed without children whole.
// An empty object when the manager has no such entry.
nlohmann::json applied_fields(const nlohmann::json& live, std::string_view manager);

// SHA-256 over `fields` in one normal form, so an apply body and the
// applied_fields of the object it produced give the same digest: identity at
// the top (apiVersion, kind, metadata.name, metadata.namespace) dropped,
// empty objects and lists dropped (as good as absent), quantities in
// requests and limits by value ("1024Mi" is stored as "1Gi").
std::string owned_fields_digest(const nlohmann::json& fields);

}  // namespace app
