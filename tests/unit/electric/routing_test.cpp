#include "electric/routing.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace electric {
namespace {

using nlohmann::json;

TEST(RoutingShardsJson, ExactBytesOfApiMdExample) {
  json obj = electric_test::sample_object();
  obj["spec"]["shards"] = json::array({obj["spec"]["shards"][0]});
  ShardSet set = electric_test::parse_ok(obj);
  ShardStatus ready;
  ready.name = "0";
  ready.ready = true;
  EXPECT_EQ(render_shards_json(set, {ready}, "cluster.local"),
            R"({"apiVersion":"electric-operator.dev/v1alpha1","shardSet":"myapp","namespace":"prod",)"
            R"("shards":[{"name":"0","url":"http://myapp-shard-0.prod.svc.cluster.local:3000",)"
            R"("ready":true,"replicationStreamID":"prod_myapp_0"}]})");
}

TEST(RoutingShardsJson, SpecOrderReadinessByNameAndExplicitIDs) {
  ShardSet set = electric_test::sample_set();
  std::swap(set.spec.shards[0], set.spec.shards[2]);  // spec order: 2, 1, 0
  ShardStatus one;
  one.name = "1";
  one.ready = true;
  EXPECT_EQ(render_shards_json(set, {one}, "corp.internal"),
            R"({"apiVersion":"electric-operator.dev/v1alpha1","shardSet":"myapp","namespace":"prod","shards":[)"
            R"({"name":"2","url":"http://myapp-shard-2.prod.svc.corp.internal:3000","ready":false,"replicationStreamID":"custom_two"},)"
            R"({"name":"1","url":"http://myapp-shard-1.prod.svc.corp.internal:3000","ready":true,"replicationStreamID":"prod_myapp_1"},)"
            R"({"name":"0","url":"http://myapp-shard-0.prod.svc.corp.internal:3000","ready":false,"replicationStreamID":"prod_myapp_0"}]})");
}

TEST(RoutingConfigMap, MetadataAndPerShardKeys) {
  ShardSet set = electric_test::sample_set();
  json cm = render_routing_configmap(set, {}, "cluster.local");
  EXPECT_EQ(cm["apiVersion"], "v1");
  EXPECT_EQ(cm["kind"], "ConfigMap");
  EXPECT_EQ(cm["metadata"]["name"], "myapp-routing");
  EXPECT_EQ(cm["metadata"]["namespace"], "prod");
  EXPECT_EQ(cm["metadata"]["labels"], json({{"app.kubernetes.io/name", "electric"},
                                            {"app.kubernetes.io/managed-by", "electric-operator"},
                                            {"app.kubernetes.io/component", "routing"},
                                            {"electric-operator.dev/shard-set", "myapp"}}));
  EXPECT_EQ(cm["metadata"]["ownerReferences"][0]["uid"], "1111-2222");
  EXPECT_EQ(cm["metadata"]["ownerReferences"][0]["controller"], true);
  EXPECT_EQ(cm["data"].size(), 4u);
  EXPECT_EQ(cm["data"]["0"], "http://myapp-shard-0.prod.svc.cluster.local:3000");
  EXPECT_EQ(cm["data"]["2"], "http://myapp-shard-2.prod.svc.cluster.local:3000");
  EXPECT_EQ(cm["data"]["shards.json"], render_shards_json(set, {}, "cluster.local"));
  set.spec.routing_config_map_name = "custom-routes";
  EXPECT_EQ(render_routing_configmap(set, {}, "cluster.local")["metadata"]["name"], "custom-routes");
}

TEST(RoutingConfigMap, SameInputSameBytesAndNoSecrets) {
  ShardSet set = electric_test::sample_set();
  ShardStatus s;
  s.name = "0";
  s.ready = true;
  s.message = "anything";
  std::string a = render_routing_configmap(set, {s}, "cluster.local").dump();
  std::string b = render_routing_configmap(electric_test::sample_set(), {s}, "cluster.local").dump();
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.find("pg-shard"), std::string::npos);  // not even secret names
}

}  // namespace
}  // namespace electric
