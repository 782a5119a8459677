// `electric-operator run`: the operator process. Loads the cluster config,
// starts the caches, the ElectricShardSet controller, /metrics, /healthz and
// /readyz, optionally leader election, and shuts down gracefully on
// SIGTERM/SIGINT (a second signal exits at once).
#pragma once

#include "app/options.h"

namespace app {

// Returns the process exit code: 0 after a clean shutdown, 1 when start-up
// fails (bad kubeconfig, port in use, caches never sync).
int run_operator(const RunOptions& options);

}  // namespace app
