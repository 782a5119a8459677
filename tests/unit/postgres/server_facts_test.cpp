// read_server_facts over a scripted Session: what one row of the facts
// query becomes, and a malformed answer as a Failure, not a crash.
#include "postgres/server_facts.h"

#include <gtest/gtest.h>

namespace postgres {
namespace {

class ScriptedSession : public Session {
 public:
  explicit ScriptedSession(std::vector<Row> rows) : rows_(std::move(rows)) {}
  base::Expected<std::vector<Row>, Failure> query(const std::string& sql, const std::vector<std::string>& params) override {
    sql_.push_back(sql);
    params_ = params;
    if (fail_) return *fail_;
    return rows_;
  }
  std::vector<Row> rows_;
  std::optional<Failure> fail_;
  std::vector<std::string> sql_;
  std::vector<std::string> params_;
};

Row facts_row(const std::string& slots) {
  return {"logical", "10", "3", "8", "2", "electric", "f", "t", "[\"rds_replication\"]", "app", "f", slots};
}

TEST(ServerFacts, OneRowBecomesTheFacts) {
  ScriptedSession session({facts_row(
      R"([{"name":"electric_slot_a","database":"app","active":true,"retained":1024},)"
      R"({"name":"electric_slot_b","database":"","active":false,"retained":null}])")});
  auto facts = read_server_facts(session, {"electric_slot_", {"rds_replication"}});
  ASSERT_TRUE(facts.ok()) << facts.error().message;
  EXPECT_EQ(facts->wal_level, "logical");
  EXPECT_EQ(facts->max_replication_slots, 10);
  EXPECT_EQ(facts->replication_slots_used, 3);
  EXPECT_EQ(facts->max_wal_senders, 8);
  EXPECT_EQ(facts->wal_senders_used, 2);
  EXPECT_EQ(facts->role, "electric");
  EXPECT_FALSE(facts->superuser);
  EXPECT_TRUE(facts->replication_attribute);
  EXPECT_EQ(facts->replication_roles_held, std::vector<std::string>{"rds_replication"});
  ASSERT_EQ(facts->slots.size(), 2u);
  EXPECT_TRUE(facts->slots[0].active);
  EXPECT_EQ(facts->slots[0].retained_wal_bytes, 1024);
  EXPECT_FALSE(facts->slots[1].retained_wal_bytes);
  EXPECT_EQ(session.sql_.size(), 1u);  // one round trip
  EXPECT_EQ(session.params_, (std::vector<std::string>{"electric_slot_", "{\"rds_replication\"}"}));
}

TEST(ServerFacts, AMalformedAnswerIsAFailure) {
  ScriptedSession wrong_shape({{"logical"}});
  EXPECT_FALSE(read_server_facts(wrong_shape, {}).ok());
  ScriptedSession bad_json({facts_row("[{not json")});
  auto facts = read_server_facts(bad_json, {});
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().kind, FailureKind::QueryFailed);
  ScriptedSession bad_number({{"logical", "ten", "3", "8", "2", "e", "f", "t", "[]", "app", "f", "[]"}});
  EXPECT_FALSE(read_server_facts(bad_number, {}).ok());
}

TEST(ServerFacts, AFailedQueryIsPassedOn) {
  ScriptedSession session({});
  session.fail_ = Failure{FailureKind::QueryFailed, "canceling statement due to statement timeout", "57014"};
  auto facts = read_server_facts(session, {});
  ASSERT_FALSE(facts.ok());
  EXPECT_EQ(facts.error().sqlstate, "57014");
}

TEST(ServerFacts, RoleNamesAreQuotedInTheArrayLiteral) {
  ScriptedSession session({facts_row("[]")});
  (void)read_server_facts(session, {"p", {"a\"b", "c\\d"}});
  EXPECT_EQ(session.params_[1], R"({"a\"b","c\\d"})");
}

}  // namespace
}  // namespace postgres
