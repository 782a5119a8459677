// The operator's own series, beside the controller-runtime and client-go ones
// that runtime::OperatorMetrics registers: runtime/ knows no Electric names.
#pragma once

#include "runtime/metrics.h"

namespace app {

struct ShardMetrics {
  explicit ShardMetrics(runtime::Registry& registry);

  runtime::GaugeFamily& shards;      // {namespace, shard_set, phase}
  runtime::GaugeFamily& shard_sets;  // no labels
};

}  // namespace app
