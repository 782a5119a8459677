// Does a live object already carry what the operator would apply?
//
// The reconciler renders each child with only the fields it owns and compares
// that to the cached projection of the live object before it writes:
//
//   if (!app::owned_fields_match(desired, live)) client.apply(...);
//
// Every field present in `desired` must be present in `live` with an equal
// value (objects recursively, arrays element by element and of equal length);
// fields only in `live` (server defaults, other managers' fields) are ignored.
// Kubernetes quantities in `resources` and `storage` compare by value, since
// the API server normalises their spelling ("1024Mi" is stored as "1Gi").
#pragma once

#include <nlohmann/json.hpp>

namespace app {

bool owned_fields_match(const nlohmann::json& desired, const nlohmann::json& live);

}  // namespace app
