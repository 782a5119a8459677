// The incremental claims index against the rule it must not change:
// find_stream_conflicts over every set the operator knows.
#include "app/stream_claims.h"

#include <gtest/gtest.h>

namespace app {
namespace {

using electric::DatabaseLocation;
using electric::ShardIdentity;
using electric::ShardKey;

const DatabaseLocation kDb{"db.example", 5432, "app"};
const DatabaseLocation kOtherDb{"db2.example", 5432, "app"};

ShardIdentity claim(std::string ns, std::string set, std::string shard, std::string created, std::string stream,
                    DatabaseLocation db = kDb) {
  return {{std::move(ns), std::move(set), std::move(shard)}, std::move(created), std::move(stream), std::move(db)};
}

using Keys = std::set<std::string>;

TEST(StreamClaims, AFirstClaimWakesOnlyItsOwnSet) {
  StreamClaims claims;
  EXPECT_EQ(claims.update_set("a/old", {claim("a", "old", "0", "2024-01-01T00:00:00Z", "s")}), Keys{"a/old"});
  EXPECT_EQ(claims.update_set("b/other", {claim("b", "other", "0", "2024-01-02T00:00:00Z", "t")}),
            Keys{"b/other"});
  EXPECT_TRUE(claims.conflicts_for("a/old").empty());
  EXPECT_TRUE(claims.conflicts_for("b/other").empty());
  EXPECT_EQ(claims.keys(), 2u);
}

TEST(StreamClaims, AContendingClaimWakesEveryClaimantAndTheOlderSetWins) {
  StreamClaims claims;
  claims.update_set("a/old", {claim("a", "old", "0", "2024-01-01T00:00:00Z", "s")});
  claims.update_set("c/bystander", {claim("c", "bystander", "0", "2024-01-01T00:00:00Z", "u")});
  EXPECT_EQ(claims.update_set("b/new", {claim("b", "new", "0", "2024-02-01T00:00:00Z", "s")}),
            (Keys{"a/old", "b/new"}));
  auto losers = claims.conflicts_for("b/new");
  ASSERT_EQ(losers.size(), 1u);
  EXPECT_EQ(losers.begin()->first, (ShardKey{"b", "new", "0"}));
  EXPECT_NE(losers.begin()->second.find("shard \"0\" of set a/old"), std::string::npos) << losers.begin()->second;
  // The winner's view of its group is the same decision.
  EXPECT_EQ(claims.conflicts_for("a/old"), losers);
  EXPECT_TRUE(claims.conflicts_for("c/bystander").empty());
}

TEST(StreamClaims, TheSameClaimsAgainWakeNoOne) {
  StreamClaims claims;
  claims.update_set("a/old", {claim("a", "old", "0", "2024-01-01T00:00:00Z", "s")});
  claims.update_set("b/new", {claim("b", "new", "0", "2024-02-01T00:00:00Z", "s")});
  EXPECT_TRUE(claims.update_set("b/new", {claim("b", "new", "0", "2024-02-01T00:00:00Z", "s")}).empty());
}

TEST(StreamClaims, AMovedClaimWakesTheOldAndTheNewClaimantsOnly) {
  StreamClaims claims;
  claims.update_set("a/old", {claim("a", "old", "0", "2024-01-01T00:00:00Z", "s")});
  claims.update_set("b/new", {claim("b", "new", "0", "2024-02-01T00:00:00Z", "s")});
  claims.update_set("c/third", {claim("c", "third", "0", "2024-01-15T00:00:00Z", "t")});
  claims.update_set("d/far", {claim("d", "far", "0", "2024-01-15T00:00:00Z", "v")});
  // b moves its shard from stream s to stream t: a (s) and c (t) are touched, d is not.
  EXPECT_EQ(claims.update_set("b/new", {claim("b", "new", "0", "2024-02-01T00:00:00Z", "t")}),
            (Keys{"a/old", "b/new", "c/third"}));
  EXPECT_TRUE(claims.conflicts_for("a/old").empty());
  auto losers = claims.conflicts_for("b/new");
  ASSERT_EQ(losers.size(), 1u);
  EXPECT_NE(losers.begin()->second.find("set c/third"), std::string::npos);
}

TEST(StreamClaims, ADatabaseChangeIsAMoveToo) {
  StreamClaims claims;
  claims.update_set("a/old", {claim("a", "old", "0", "2024-01-01T00:00:00Z", "s")});
  claims.update_set("b/new", {claim("b", "new", "0", "2024-02-01T00:00:00Z", "s")});
  EXPECT_EQ(claims.update_set("b/new", {claim("b", "new", "0", "2024-02-01T00:00:00Z", "s", kOtherDb)}),
            (Keys{"a/old", "b/new"}));
  EXPECT_TRUE(claims.conflicts_for("b/new").empty());
}

TEST(StreamClaims, ARemovedWinnerWakesTheLoserWhichThenWins) {
  StreamClaims claims;
  claims.update_set("a/old", {claim("a", "old", "0", "2024-01-01T00:00:00Z", "s")});
  claims.update_set("b/new", {claim("b", "new", "0", "2024-02-01T00:00:00Z", "s")});
  ASSERT_EQ(claims.conflicts_for("b/new").size(), 1u);
  EXPECT_EQ(claims.remove_set("a/old"), (Keys{"a/old", "b/new"}));
  EXPECT_TRUE(claims.conflicts_for("b/new").empty());
  EXPECT_TRUE(claims.conflicts_for("a/old").empty());
  EXPECT_EQ(claims.keys(), 1u);
  EXPECT_TRUE(claims.remove_set("nobody/here").empty());
}

TEST(StreamClaims, AgreesWithTheWholeScanOnAMixOfSets) {
  std::vector<std::pair<std::string, std::vector<ShardIdentity>>> sets = {
      {"a/s1", {claim("a", "s1", "0", "2024-01-01T00:00:00Z", "x"), claim("a", "s1", "1", "2024-01-01T00:00:00Z", "y")}},
      {"b/s2", {claim("b", "s2", "0", "2024-01-01T00:00:00Z", "x"), claim("b", "s2", "1", "2024-01-01T00:00:00Z", "z")}},
      {"a/s3", {claim("a", "s3", "0", "2023-06-01T00:00:00Z", "z"), claim("a", "s3", "1", "2023-06-01T00:00:00Z", "y", kOtherDb)}},
      {"c/s4", {claim("c", "s4", "b", "2024-03-01T00:00:00Z", "w"), claim("c", "s4", "a", "2024-03-01T00:00:00Z", "w")}},
  };
  StreamClaims claims;
  std::vector<ShardIdentity> all;
  for (const auto& [key, identities] : sets) {
    claims.update_set(key, identities);
    all.insert(all.end(), identities.begin(), identities.end());
  }
  const auto expected = electric::find_stream_conflicts(all);
  std::map<ShardKey, std::string> got;
  for (const auto& [key, identities] : sets) {
    auto part = claims.conflicts_for(key);
    got.insert(part.begin(), part.end());
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(expected.size(), 3u);  // b/s2/0 (x), b/s2/1 (z, a/s3 is older), c/s4/b (w)
}

}  // namespace
}  // namespace app
