#include "electric/naming.h"

#include <gtest/gtest.h>

#include "electric/constants.h"
#include "fixtures.h"

namespace electric {
namespace {

TEST(ChildNames, FollowApiMd) {
  EXPECT_EQ(shard_child_name("myapp", "0"), "myapp-shard-0");
  EXPECT_EQ(shard_pvc_name("myapp", "0"), "myapp-shard-0-data");
  EXPECT_EQ(api_secret_name("myapp"), "myapp-api-secret");
  EXPECT_EQ(default_routing_config_map_name("myapp"), "myapp-routing");
  EXPECT_EQ(instance_id("prod", "myapp", "0"), "prod/myapp-shard-0");
}

TEST(ChildNames, LongestAllowedNamesStayValidLabels) {
  // set + shard = 50 characters: the longest child name is still a DNS label.
  std::string set(25, 'a'), shard(25, 'b');
  EXPECT_TRUE(is_dns1035_label(shard_pvc_name(set, shard)));
  EXPECT_LE(shard_pvc_name(set, shard).size(), 63u);
  EXPECT_TRUE(is_dns1035_label(shard_child_name(set, shard)));
}

TEST(Constants, AgreeWithEachOther) {
  EXPECT_EQ(std::to_string(kContainerPort), kContainerPortString);
  EXPECT_EQ(std::string(kApiVersion), std::string(kGroup) + "/" + std::string(kVersion));
  EXPECT_EQ(kStreamIDPrefixLength + 1 + kStreamIDHashHexDigits, kMaxStreamIDLength);
  EXPECT_EQ(kFieldManager, "electric-operator");
  EXPECT_TRUE(is_managed_env_name("DATABASE_URL"));
  EXPECT_FALSE(is_managed_env_name("ELECTRIC_LOG_LEVEL"));
}

TEST(DeriveStreamID, SimpleNames) {
  EXPECT_EQ(derive_stream_id("prod", "myapp", "0"), "prod_myapp_0");
}

TEST(DeriveStreamID, HyphensBecomeUnderscores) {
  EXPECT_EQ(derive_stream_id("team-a", "my-app", "eu-west-1"), "team_a_my_app_eu_west_1");
}

TEST(DeriveStreamID, LeadingDigitGetsUnderscorePrefix) {
  EXPECT_EQ(derive_stream_id("9prod", "myapp", "0"), "_9prod_myapp_0");
}

TEST(DeriveStreamID, UppercaseAndOtherCharactersAreNormalised) {
  EXPECT_EQ(derive_stream_id("Prod", "My.App", "A/b"), "prod_my_app_a_b");
}

TEST(DeriveStreamID, ExactlyFortyTwoCharactersKeepsNoHash) {
  // "x_y_" + 38 characters = 42.
  EXPECT_EQ(derive_stream_id("x", "y", "01234567890123456789012345678901234567"),
            "x_y_01234567890123456789012345678901234567");
}

TEST(DeriveStreamID, FortyThreeCharactersGetHashSuffix) {
  // printf %s x_y_012345678901234567890123456789012345678 | sha256sum
  //   -> 24d60aecced3ae30...
  EXPECT_EQ(derive_stream_id("x", "y", "012345678901234567890123456789012345678"),
            "x_y_01234567890123456789012345678_24d60aec");
}

TEST(DeriveStreamID, LongNamesGetPrefixPlusHashOfWholeDerivedString) {
  // printf %s production_europe_west_analytics_platform_shard_0001 | sha256sum
  //   -> 58ecef5214575cea...
  std::string id = derive_stream_id("production-europe-west", "analytics-platform", "shard-0001");
  EXPECT_EQ(id, "production_europe_west_analytics__58ecef52");
  EXPECT_EQ(id.size(), 42u);
  EXPECT_TRUE(is_valid_stream_id(id));
  // A sibling with the same 33-character prefix gets a different ID.
  // printf %s production_europe_west_analytics_platform_shard_0002 | sha256sum -> 531beae4...
  EXPECT_EQ(derive_stream_id("production-europe-west", "analytics-platform", "shard-0002"),
            "production_europe_west_analytics__531beae4");
}

TEST(DeriveStreamID, DerivedIDsAlwaysMatchThePattern) {
  for (auto ns : {"a", "9", "x-y", "kube-system", "verylongnamespacewithmanycharacters0123456789"})
    for (auto shard : {"0", "a-b", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"})
      EXPECT_TRUE(is_valid_stream_id(derive_stream_id(ns, "set", shard))) << ns << " " << shard;
}

TEST(EffectiveStreamID, ExplicitOverrideWins) {
  ShardSet set = electric_test::sample_set();
  EXPECT_EQ(effective_stream_id(set, set.spec.shards[0]), "prod_myapp_0");
  EXPECT_EQ(effective_stream_id(set, set.spec.shards[2]), "custom_two");
}

TEST(PostgresNames, SlotAndPublicationFollowElectric) {
  EXPECT_EQ(replication_slot_name("prod_myapp_0"), "electric_slot_prod_myapp_0");
  EXPECT_EQ(publication_name("prod_myapp_0"), "electric_publication_prod_myapp_0");
  // The longest stream ID keeps both within Postgres' 63-byte identifiers.
  const std::string longest(kMaxStreamIDLength, 'a');
  EXPECT_EQ(publication_name(longest).size(), 63u);
  EXPECT_LT(replication_slot_name(longest).size(), 63u);
}

TEST(ServiceURL, UsesNamespaceClusterDomainAndServicePort) {
  EXPECT_EQ(shard_service_url("prod", "myapp", "0", 3000, "cluster.local"),
            "http://myapp-shard-0.prod.svc.cluster.local:3000");
  ShardSet set = electric_test::sample_set();
  set.spec.service.port = 8080;
  EXPECT_EQ(shard_service_url(set, set.spec.shards[1], "corp.example"),
            "http://myapp-shard-1.prod.svc.corp.example:8080");
}

TEST(NameRules, Dns1035Label) {
  EXPECT_TRUE(is_dns1035_label("myapp"));
  EXPECT_TRUE(is_dns1035_label("a-1"));
  EXPECT_FALSE(is_dns1035_label("1app"));
  EXPECT_FALSE(is_dns1035_label("app-"));
  EXPECT_FALSE(is_dns1035_label("My-app"));
  EXPECT_FALSE(is_dns1035_label(""));
  EXPECT_FALSE(is_dns1035_label("my_app"));
  EXPECT_TRUE(is_dns1035_label(std::string(63, 'a')));
  EXPECT_FALSE(is_dns1035_label(std::string(64, 'a')));
}

TEST(NameRules, ShardName) {
  EXPECT_TRUE(is_valid_shard_name("0"));
  EXPECT_TRUE(is_valid_shard_name("eu-1"));
  EXPECT_FALSE(is_valid_shard_name("-1"));
  EXPECT_FALSE(is_valid_shard_name("a_b"));
  EXPECT_FALSE(is_valid_shard_name("A"));
  EXPECT_FALSE(is_valid_shard_name(""));
}

TEST(NameRules, StreamIDPattern) {
  EXPECT_TRUE(is_valid_stream_id("prod_myapp_0"));
  EXPECT_TRUE(is_valid_stream_id("_0"));
  EXPECT_TRUE(is_valid_stream_id(std::string(42, 'a')));
  EXPECT_FALSE(is_valid_stream_id(std::string(43, 'a')));
  EXPECT_FALSE(is_valid_stream_id("0abc"));
  EXPECT_FALSE(is_valid_stream_id("has-hyphen"));
  EXPECT_FALSE(is_valid_stream_id("Upper"));
  EXPECT_FALSE(is_valid_stream_id(""));
}

TEST(NameRules, Dns1123Subdomain) {
  EXPECT_TRUE(is_dns1123_subdomain("pg-shard-0"));
  EXPECT_TRUE(is_dns1123_subdomain("a.b-c.d"));
  EXPECT_FALSE(is_dns1123_subdomain("a..b"));
  EXPECT_FALSE(is_dns1123_subdomain("A"));
  EXPECT_FALSE(is_dns1123_subdomain(".a"));
  EXPECT_FALSE(is_dns1123_subdomain(std::string(254, 'a')));
}

}  // namespace
}  // namespace electric
