#include "electric/database_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "electric/status.h"

namespace electric {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Seen = base::Expected<postgres::ServerFacts, postgres::Failure>;

postgres::ServerFacts healthy() {
  postgres::ServerFacts f;
  f.wal_level = "logical";
  f.max_replication_slots = 10;
  f.replication_slots_used = 2;
  f.max_wal_senders = 10;
  f.wal_senders_used = 1;
  f.role = "electric";
  f.replication_attribute = true;
  f.database = "app";
  return f;
}

CheckedShard shard(const std::string& name, const std::string& dbname = "app") {
  return CheckedShard{{"prod", "myapp", name}, "prod_myapp_" + name, "db.prod", 5432, dbname};
}

DatabaseCheck only(const Seen& seen, const CheckedShard& s) { return evaluate_database_checks(seen, {s}).at(s.key); }

TEST(DatabaseCheck, AHealthyServerPassesAndReportsTheShardsSlot) {
  auto facts = healthy();
  facts.slots.push_back({"electric_slot_prod_myapp_0", "app", true, 4096});
  auto check = only(facts, shard("0"));
  EXPECT_TRUE(check.passed());
  ASSERT_TRUE(check.slot);
  EXPECT_EQ(check.slot->retained_wal_bytes, 4096);
  EXPECT_FALSE(only(facts, shard("1")).slot);  // not created yet: passes, no slot
  EXPECT_TRUE(only(facts, shard("1")).passed());
}

TEST(DatabaseCheck, ConnectionFailuresByKind) {
  struct Case {
    postgres::FailureKind kind;
    std::string_view reason;
    bool blocks;
  };
  for (const Case& c : {Case{postgres::FailureKind::Unreachable, kReasonDatabaseUnreachable, false},
                        Case{postgres::FailureKind::AuthenticationFailed, kReasonAuthenticationFailed, true},
                        Case{postgres::FailureKind::DatabaseNotFound, kReasonDatabaseUnreachable, false},
                        Case{postgres::FailureKind::QueryFailed, kReasonDatabaseUnreachable, false}}) {
    Seen seen = postgres::Failure{c.kind, "FATAL: something", ""};
    auto check = only(seen, shard("0"));
    EXPECT_EQ(check.reason, c.reason);
    EXPECT_EQ(check.blocks_new_shard(), c.blocks) << check.reason;
    EXPECT_THAT(check.message, HasSubstr("db.prod:5432"));
    EXPECT_THAT(check.message, HasSubstr("FATAL: something"));
  }
}

TEST(DatabaseCheck, WalLevelAndPrivilegeSayWhatToRun) {
  auto replica = healthy();
  replica.wal_level = "replica";
  auto check = only(replica, shard("0"));
  EXPECT_EQ(check.reason, kReasonWalLevelNotLogical);
  EXPECT_THAT(check.message, HasSubstr("ALTER SYSTEM SET wal_level = logical"));
  EXPECT_TRUE(check.blocks_new_shard());

  auto plain = healthy();
  plain.replication_attribute = false;
  check = only(plain, shard("0"));
  EXPECT_EQ(check.reason, kReasonMissingReplicationPrivilege);
  EXPECT_THAT(check.message, HasSubstr("ALTER ROLE \"electric\" WITH REPLICATION"));

  auto super = plain;
  super.superuser = true;
  EXPECT_TRUE(only(super, shard("0")).passed());
  auto rds = plain;
  rds.replication_roles_held = {"rds_replication"};
  EXPECT_TRUE(only(rds, shard("0")).passed());
}

TEST(DatabaseCheck, FreeSlotsGoToTheFirstNewShards) {
  auto facts = healthy();
  facts.max_replication_slots = 3;
  facts.replication_slots_used = 1;  // room for two
  facts.slots.push_back({"electric_slot_prod_myapp_0", "app", false, 0});
  auto out = evaluate_database_checks(facts, {shard("0"), shard("1"), shard("2"), shard("3")});
  EXPECT_TRUE(out.at(shard("0").key).passed());  // its slot exists already
  EXPECT_TRUE(out.at(shard("1").key).passed());
  EXPECT_TRUE(out.at(shard("2").key).passed());
  EXPECT_EQ(out.at(shard("3").key).reason, kReasonNoFreeReplicationSlots);
  EXPECT_THAT(out.at(shard("3").key).message, HasSubstr("max_replication_slots = 3"));
}

TEST(DatabaseCheck, AnActiveSlotNeedsNoFreeWalSender) {
  auto facts = healthy();
  facts.max_wal_senders = 1;
  facts.wal_senders_used = 1;
  facts.slots.push_back({"electric_slot_prod_myapp_0", "app", true, 0});
  auto out = evaluate_database_checks(facts, {shard("0"), shard("1")});
  EXPECT_TRUE(out.at(shard("0").key).passed());
  EXPECT_EQ(out.at(shard("1").key).reason, kReasonNoFreeReplicationSlots);
  EXPECT_THAT(out.at(shard("1").key).message, HasSubstr("max_wal_senders"));
}

TEST(DatabaseCheck, ASameNameSlotInAnotherDatabaseIsAConflict) {
  auto facts = healthy();
  facts.slots.push_back({"electric_slot_prod_myapp_0", "other_app", false, 0});
  auto check = only(facts, shard("0", "app"));
  EXPECT_EQ(check.reason, kReasonReplicationStreamConflict);
  EXPECT_THAT(check.message, HasSubstr("\"other_app\""));
  EXPECT_TRUE(check.blocks_new_shard());
  EXPECT_TRUE(only(facts, shard("0", "other_app")).passed());  // that database's own slot
}

TEST(DatabaseCheck, ASlotBeyondTheThresholdIsReportedWithoutItsNumber) {
  auto facts = healthy();
  facts.slots.push_back({"electric_slot_prod_myapp_0", "app", false, 5000});
  auto s = shard("0");
  s.wal_retention_threshold_bytes = 4096;
  auto check = only(facts, s);
  EXPECT_EQ(check.reason, kReasonWALRetentionHigh);
  EXPECT_FALSE(check.blocks_new_shard());
  EXPECT_THAT(check.message, Not(HasSubstr("5000")));  // a moving number would rewrite status every round
  facts.slots[0].retained_wal_bytes = 6000;
  EXPECT_EQ(only(facts, s), check);
  facts.slots[0].retained_wal_bytes = 4096;
  EXPECT_TRUE(only(facts, s).passed());
}

TEST(DatabaseCheck, TargetsShareAConnectionPerServerAndCredentials) {
  auto url = [](const std::string& text) { return parse_database_url(text).value(); };
  auto a = database_target({"prod", "s", "0"}, "id0", url("postgresql://u:pw@DB.prod/one"));
  auto b = database_target({"prod", "s", "1"}, "id1", url("postgresql://u:pw@db.prod/two"));
  auto c = database_target({"prod", "s", "2"}, "id2", url("postgresql://u:other@db.prod/one"));
  EXPECT_EQ(a.connection_key, b.connection_key);  // another database, one connection
  EXPECT_NE(a.connection_key, c.connection_key);  // other credentials
  EXPECT_NE(a.fingerprint, b.fingerprint);
  EXPECT_THAT(a.fingerprint, Not(HasSubstr("pw")));
  EXPECT_EQ(a.connection.sslmode, "prefer");
}

}  // namespace
}  // namespace electric
