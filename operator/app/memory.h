// Keeping the operator's resident memory near what its caches hold.
//
// glibc gives each thread that allocates its own heap arena (up to 8 per
// core), and keeps freed memory in the process. The operator's ~50 threads
// (watchers, workers, the HTTP client's pool) each parse JSON now and then: a
// LIST of 500 Deployments is megabytes parsed and then cut to projections of
// a few hundred bytes each. Measured at 500 shards: 150 MiB resident with the
// defaults, 64 MiB with two arenas, 37 MiB once free pages went back.
//
//   app::limit_malloc_arenas();   // first thing in main, before any thread
//   app::return_free_memory();    // after the caches synced, then now and then
#pragma once

namespace app {

void limit_malloc_arenas();
// Gives free heap pages back to the kernel (malloc_trim). Costs a walk over
// the heap's free chunks: milliseconds at tens of MiB.
void return_free_memory();

}  // namespace app
