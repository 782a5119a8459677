#include "electric/labels.h"

#include <gtest/gtest.h>

namespace electric {
namespace {

TEST(Labels, PerShardPerSetAndSelectors) {
  Labels shard = shard_labels("myapp", "0");
  EXPECT_EQ(shard, (Labels{{"app.kubernetes.io/name", "electric"},
                           {"app.kubernetes.io/managed-by", "electric-operator"},
                           {"app.kubernetes.io/component", "shard"},
                           {"electric-operator.dev/shard-set", "myapp"},
                           {"electric-operator.dev/shard", "0"}}));
  EXPECT_EQ(set_labels("myapp", "routing").at("app.kubernetes.io/component"), "routing");
  EXPECT_EQ(set_labels("myapp", "routing").count("electric-operator.dev/shard"), 0u);
  EXPECT_EQ(shard.count("app.kubernetes.io/instance"), 0u);
  EXPECT_EQ(shard_selector("myapp", "0"),
            (Labels{{"electric-operator.dev/shard-set", "myapp"}, {"electric-operator.dev/shard", "0"}}));
  EXPECT_EQ(managed_children_selector(), "app.kubernetes.io/managed-by=electric-operator");
  EXPECT_EQ(children_selector("myapp"),
            "app.kubernetes.io/managed-by=electric-operator,electric-operator.dev/shard-set=myapp");
}

}  // namespace
}  // namespace electric
