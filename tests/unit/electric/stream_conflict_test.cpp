#include "electric/stream_conflict.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace electric {
namespace {

ShardIdentity identity(std::string ns, std::string set, std::string shard, std::string created, std::string stream,
                       DatabaseLocation db) {
  return {{std::move(ns), std::move(set), std::move(shard)}, std::move(created), std::move(stream), std::move(db)};
}

const DatabaseLocation kDb{"db.example", 5432, "app"};

TEST(StreamConflicts, NoneWhenIDsOrServersDiffer) {
  std::vector<ShardIdentity> shards = {
      identity("a", "s", "0", "2024-01-01T00:00:00Z", "same", kDb),
      identity("b", "s", "0", "2024-01-02T00:00:00Z", "other", kDb),
      identity("d", "s", "0", "2024-01-04T00:00:00Z", "same", {"db.example", 5433, "app"}),
      identity("e", "s", "0", "2024-01-05T00:00:00Z", "same", {"db2.example", 5432, "app"}),
  };
  EXPECT_TRUE(find_stream_conflicts(shards).empty());
}

// Slot names are unique per server: another database of the same server is
// the same slot.
TEST(StreamConflicts, OneServerWhateverTheDatabase) {
  std::vector<ShardIdentity> shards = {
      identity("a", "s", "0", "2024-01-01T00:00:00Z", "same", kDb),
      identity("c", "s", "0", "2024-01-03T00:00:00Z", "same", {"db.example", 5432, "otherdb"}),
  };
  auto losers = find_stream_conflicts(shards);
  ASSERT_EQ(losers.size(), 1u);
  const std::string& message = losers.at({"c", "s", "0"});
  EXPECT_NE(message.find("Postgres server at db.example:5432"), std::string::npos) << message;
  EXPECT_NE(message.find("unique per server"), std::string::npos) << message;
}

TEST(StreamConflicts, NewerSetLosesAcrossNamespaces) {
  std::vector<ShardIdentity> shards = {
      identity("team-b", "newer", "0", "2024-02-01T00:00:00Z", "shared_id", kDb),
      identity("team-a", "older", "3", "2024-01-01T00:00:00Z", "shared_id", kDb),
  };
  auto losers = find_stream_conflicts(shards);
  ASSERT_EQ(losers.size(), 1u);
  auto it = losers.find({"team-b", "newer", "0"});
  ASSERT_NE(it, losers.end());
  EXPECT_NE(it->second.find("shard \"3\" of set team-a/older"), std::string::npos) << it->second;
  EXPECT_NE(it->second.find("shared_id"), std::string::npos);
}

TEST(StreamConflicts, SameCreationTimeTieBreaksOnNamespaceThenName) {
  std::vector<ShardIdentity> shards = {
      identity("b", "a", "0", "2024-01-01T00:00:00Z", "x", kDb),
      identity("a", "z", "0", "2024-01-01T00:00:00Z", "x", kDb),
      identity("a", "y", "0", "2024-01-01T00:00:00Z", "x", kDb),
  };
  auto losers = find_stream_conflicts(shards);
  EXPECT_EQ(losers.size(), 2u);
  EXPECT_EQ(losers.count({"a", "y", "0"}), 0u);
  EXPECT_EQ(losers.count({"a", "z", "0"}), 1u);
  EXPECT_EQ(losers.count({"b", "a", "0"}), 1u);
}

TEST(StreamConflicts, WithinOneSetTheLaterShardNameLoses) {
  std::vector<ShardIdentity> shards = {
      identity("ns", "s", "b", "2024-01-01T00:00:00Z", "x", kDb),
      identity("ns", "s", "a", "2024-01-01T00:00:00Z", "x", kDb),
  };
  auto losers = find_stream_conflicts(shards);
  ASSERT_EQ(losers.size(), 1u);
  EXPECT_EQ(losers.begin()->first, (ShardKey{"ns", "s", "b"}));
}

TEST(StreamConflicts, OrderOfInputDoesNotMatter) {
  std::vector<ShardIdentity> shards = {
      identity("n", "old", "0", "2023-01-01T00:00:00Z", "x", kDb),
      identity("n", "new", "0", "2024-01-01T00:00:00Z", "x", kDb),
  };
  auto forward = find_stream_conflicts(shards);
  std::reverse(shards.begin(), shards.end());
  EXPECT_EQ(forward, find_stream_conflicts(shards));
  EXPECT_EQ(forward.begin()->first.set_name, "new");
}

TEST(StreamConflicts, TheClaimKeyIsTheStreamIDOnAServer) {
  auto a = identity("a", "s", "0", "2024-01-01T00:00:00Z", "x", kDb);
  auto b = identity("b", "t", "9", "2025-01-01T00:00:00Z", "x", kDb);
  EXPECT_EQ(stream_claim_key(a), stream_claim_key(b));
  b.database.dbname = "otherdb";
  EXPECT_EQ(stream_claim_key(a), stream_claim_key(b));
  b.database.port = 5433;
  EXPECT_NE(stream_claim_key(a), stream_claim_key(b));
  EXPECT_EQ(stream_claim_key(a), (StreamClaimKey{"x", "db.example", 5432}));
}

TEST(StreamConflicts, IdentityFromSetAndUrl) {
  ShardSet set = electric_test::sample_set();
  auto url = parse_database_url("postgresql://u:pw@DB.example:5432/app");
  ASSERT_TRUE(url.ok());
  ShardIdentity id = shard_identity(set, set.spec.shards[2], *url);
  EXPECT_EQ(id.key, (ShardKey{"prod", "myapp", "2"}));
  EXPECT_EQ(id.set_creation_timestamp, "2024-05-01T12:00:00Z");
  EXPECT_EQ(id.stream_id, "custom_two");
  EXPECT_EQ(id.database, (DatabaseLocation{"db.example", 5432, "app"}));
}

}  // namespace
}  // namespace electric
