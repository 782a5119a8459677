#include "electric/secret_values.h"

#include <map>

#include <gtest/gtest.h>

#include "electric/digest.h"
#include "fixtures.h"

namespace electric {
namespace {

using nlohmann::json;

class SecretValuesTest : public ::testing::Test {
 protected:
  void put(const std::string& name, std::map<std::string, std::string> values) {
    json data = json::object();
    for (const auto& [k, v] : values) data[k] = base64_encode(v);
    secrets_[name] = {{"metadata", {{"name", name}}}, {"data", data}};
  }
  // A reader over Secret objects, as the reconciler's over its cache.
  SecretReader reader() {
    return [this](const SecretKeyRef& ref) {
      auto it = secrets_.find(ref.name);
      return it == secrets_.end() ? SecretLookup{} : lookup_secret_key(it->second, ref.key);
    };
  }
  base::Expected<ShardSecretValues, std::string> resolve(const ShardSet& set, const Shard& shard,
                                                   std::optional<std::string> generated = std::nullopt) {
    return resolve_shard_secret_values(shard, reader(), resolve_api_secret(set, reader(), generated));
  }
  std::map<std::string, json> secrets_;
};

TEST_F(SecretValuesTest, ResolvesUrlApiSecretAndPooledUrl) {
  ShardSet set = electric_test::sample_set();
  put("pg-shard-1", {{"url", "postgresql://u:pw@db1/app"}, {"pooled", "postgresql://u:pw@pool1/app"}});
  auto values = resolve(set, set.spec.shards[1], "generated");
  ASSERT_TRUE(values.ok()) << values.error();
  EXPECT_EQ(values->database_url, "postgresql://u:pw@db1/app");
  EXPECT_EQ(values->electric_secret, "generated");
  EXPECT_EQ(values->pooled_database_url, std::optional<std::string>("postgresql://u:pw@pool1/app"));
  values = resolve(set, set.spec.shards[0], "generated");
  ASSERT_FALSE(values.ok());  // pg-shard-0 is not there
}

TEST_F(SecretValuesTest, ApiSecretFromApiSecretRefWinsOverGenerated) {
  ShardSet set = electric_test::sample_set();
  set.spec.api_secret_ref = SecretKeyRef{"electric-api", "token"};
  put("pg-shard-0", {{"url", "postgresql://u:pw@db/app"}});
  auto values = resolve(set, set.spec.shards[0], "generated");
  EXPECT_EQ(values.error(), "Secret \"electric-api\" not found");
  put("electric-api", {{"token", "from-user"}});
  values = resolve(set, set.spec.shards[0], "generated");
  ASSERT_TRUE(values.ok()) << values.error();
  EXPECT_EQ(values->electric_secret, "from-user");
}

TEST_F(SecretValuesTest, MissingSecretOrKeyNamesOnlyNames) {
  ShardSet set = electric_test::sample_set();
  auto values = resolve(set, set.spec.shards[0]);
  ASSERT_FALSE(values.ok());
  EXPECT_EQ(values.error(), "Secret \"pg-shard-0\" not found");

  put("pg-shard-0", {{"other", "postgresql://u:hunter2@db/app"}});
  values = resolve(set, set.spec.shards[0]);
  EXPECT_EQ(values.error(), "Secret \"pg-shard-0\" has no key \"url\"");
  EXPECT_EQ(values.error().find("hunter2"), std::string::npos);

  put("pg-shard-0", {{"url", "postgresql://u:hunter2@db/app"}});
  values = resolve(set, set.spec.shards[0]);
  ASSERT_FALSE(values.ok());
  EXPECT_NE(values.error().find("Secret \"myapp-api-secret\""), std::string::npos) << values.error();
  EXPECT_NE(values.error().find("does not exist yet"), std::string::npos) << values.error();
  EXPECT_EQ(values.error().find("hunter2"), std::string::npos);

  put("pg-shard-1", {{"url", "postgresql://u:pw@db1/app"}});
  values = resolve(set, set.spec.shards[1], "generated");
  EXPECT_EQ(values.error(), "Secret \"pg-shard-1\" has no key \"pooled\"");

  secrets_["pg-shard-1"] = {{"data", {{"url", "not base64!"}}}};
  values = resolve(set, set.spec.shards[1], "generated");
  EXPECT_EQ(values.error(), "Secret \"pg-shard-1\" key \"url\" is not valid base64");
}

TEST(LookupSecretKey, StatesOfASecretObject) {
  EXPECT_EQ(lookup_secret_key(json(), "k").state, SecretLookup::State::SecretMissing);
  EXPECT_EQ(lookup_secret_key(json{{"metadata", json::object()}}, "k").state, SecretLookup::State::KeyMissing);
  EXPECT_EQ(lookup_secret_key(json{{"data", {{"k", 5}}}}, "k").state, SecretLookup::State::KeyMissing);
  EXPECT_EQ(lookup_secret_key(json{{"data", {{"k", "%%%%"}}}}, "k").state, SecretLookup::State::NotBase64);
  SecretLookup got = lookup_secret_key(json{{"data", {{"k", "aGVsbG8="}}}}, "k");
  EXPECT_EQ(got.state, SecretLookup::State::Found);
  EXPECT_EQ(got.value, "hello");
}


TEST(Sha256, KnownVector) {
  // printf %s abc | sha256sum
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace electric
