// `electric-operator render -f set.yaml`: the children of a set as YAML,
// offline, for reviewing a change before it merges (GitOps). It reads no
// cluster, so Secret values are shown as placeholders naming their source.
#pragma once

#include <iosfwd>
#include <string>

#include "app/options.h"

namespace app {

// Writes the children of every ElectricShardSet in the file to `out`; errors
// to `err`, one a line (unknown fields included). Returns the exit code: 0;
// 1 when any set is invalid or names a field the schema does not define,
// with nothing written to `out`; 2 for an unreadable file or bad YAML.
int run_render(const RenderOptions& options, std::ostream& out, std::ostream& err);

}  // namespace app
