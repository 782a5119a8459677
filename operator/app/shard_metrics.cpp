#include "app/shard_metrics.h"

namespace app {

ShardMetrics::ShardMetrics(runtime::Registry& registry)
    : shards(registry.gauge("electric_operator_shards", "Shards of each ElectricShardSet by phase",
                            {"namespace", "shard_set", "phase"})),
      shard_sets(registry.gauge("electric_operator_shard_sets", "ElectricShardSets the operator manages")) {}

}  // namespace app
