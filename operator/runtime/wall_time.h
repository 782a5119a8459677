// Wall-clock time for timestamps that other machines read (Lease renewTime,
// Event lastTimestamp). Durations and deadlines use runtime::Clock (steady);
// wall time is only ever written, never compared across machines.
//
//   runtime::WallNow now = runtime::system_wall_now;   // tests pass a lambda
//   std::string t = runtime::format_rfc3339_micro(now());
//   // "2024-05-01T10:00:00.123456Z"
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace runtime {

using WallTimePoint = std::chrono::system_clock::time_point;
using WallNow = std::function<WallTimePoint()>;

WallTimePoint system_wall_now();

// metav1.Time: whole seconds, UTC ("2024-05-01T10:00:00Z").
std::string format_rfc3339(WallTimePoint t);
// metav1.MicroTime: microseconds, UTC ("2024-05-01T10:00:00.123456Z").
std::string format_rfc3339_micro(WallTimePoint t);

}  // namespace runtime
