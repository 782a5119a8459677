// Runs fn(0) .. fn(n - 1) on up to `concurrency` threads (the caller's is
// one of them) and returns when every call has returned. For I/O that may
// go side by side, such as one reconcile's applies of 512 Services.
//
//   runtime::parallel_for(bodies.size(), 4, [&](size_t i) { apply(bodies[i]); });
//
// fn must not throw; it runs in order when concurrency or n is 1.
#pragma once

#include <cstddef>
#include <functional>

namespace runtime {

void parallel_for(size_t n, size_t concurrency, const std::function<void(size_t)>& fn);

}  // namespace runtime
