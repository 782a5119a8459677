#include "app/shard_metrics.h"

#include <string>

#include <gtest/gtest.h>

namespace {

TEST(ShardMetrics, RegistersTheOperatorsOwnFamilies) {
  runtime::Registry registry;
  app::ShardMetrics metrics(registry);
  metrics.shards.with({"prod", "myapp", "Ready"}).set(3);
  const std::string text = registry.render();
  for (const char* line : {
           "# TYPE electric_operator_shards gauge\n",
           "electric_operator_shards{namespace=\"prod\",shard_set=\"myapp\",phase=\"Ready\"} 3\n",
           "# TYPE electric_operator_shard_sets gauge\n",
           "electric_operator_shard_sets 0\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << " in:\n" << text;
  }
}

TEST(ShardMetrics, TheRuntimeFamiliesCarryNoElectricNames) {
  runtime::Registry registry;
  runtime::OperatorMetrics metrics(registry);
  metrics.init_controller("c", 1);
  EXPECT_EQ(registry.render().find("electric"), std::string::npos);
}

}  // namespace
