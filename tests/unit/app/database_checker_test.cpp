// The checker's bookkeeping over a scripted Connector: one connection per
// server and credentials per round, outcomes tied to fingerprints, and a
// set woken only when its outcomes change.
#include "app/database_checker.h"

#include <algorithm>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/metrics.h"

namespace app {
namespace {

using electric::DatabaseTarget;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class ScriptedSession : public postgres::Session {
 public:
  explicit ScriptedSession(std::string wal_level) : wal_level_(std::move(wal_level)) {}
  base::Expected<std::vector<postgres::Row>, postgres::Failure> query(const std::string&,
                                                                      const std::vector<std::string>&) override {
    return std::vector<postgres::Row>{{wal_level_, "10", "0", "10", "0", "electric", "f", "t", "[]", "app", "f",
                                       R"([{"name":"electric_slot_s0","database":"app","active":true,"retained":77}])"}};
  }
  std::string wal_level_;
};

// Hosts named "down" do not answer; every other host answers with wal_level_by_host.
class ScriptedConnector : public postgres::Connector {
 public:
  base::Expected<std::unique_ptr<postgres::Session>, postgres::Failure> connect(
      const postgres::ConnectionSettings& settings) override {
    std::lock_guard<std::mutex> lock(mu);
    connects.push_back(settings.host + "/" + settings.user);
    if (settings.host == "down") return postgres::Failure{postgres::FailureKind::Unreachable, "timeout expired", ""};
    return std::unique_ptr<postgres::Session>(new ScriptedSession(wal_level[settings.host]));
  }
  std::mutex mu;
  std::vector<std::string> connects;
  std::map<std::string, std::string> wal_level;
};

DatabaseTarget target(const std::string& set, const std::string& shard, const std::string& url) {
  return electric::database_target({"prod", set, shard}, "s" + shard, electric::parse_database_url(url).value());
}

class DatabaseCheckerTest : public ::testing::Test {
 protected:
  DatabaseCheckerTest() {
    connector_.wal_level = {{"db1", "logical"}, {"db2", "logical"}};
    DatabaseCheckerOptions options;
    options.concurrency = 2;
    options.metrics = &registry_;
    options.on_change = [this](const std::string& key) { woken_.push_back(key); };
    checker_ = std::make_unique<DatabaseChecker>(connector_, options);
  }
  ScriptedConnector connector_;
  runtime::Registry registry_;
  std::vector<std::string> woken_;
  std::unique_ptr<DatabaseChecker> checker_;
};

TEST_F(DatabaseCheckerTest, OneConnectionPerServerAndCredentialsPerRound) {
  std::vector<DatabaseTarget> a = {target("a", "0", "postgresql://u:p@db1/app"), target("a", "1", "postgresql://u:p@db1/other"),
                                   target("a", "2", "postgresql://u:p@db2/app")};
  std::vector<DatabaseTarget> b = {target("b", "0", "postgresql://u:p@db1/app"), target("b", "1", "postgresql://v:p@db1/app")};
  EXPECT_THAT(checker_->observe("prod/a", a), IsEmpty());  // nothing checked yet
  EXPECT_THAT(checker_->observe("prod/b", b), IsEmpty());
  EXPECT_EQ(checker_->run_round(false), 3u);  // db1 as u, db1 as v, db2 as u
  EXPECT_EQ(connector_.connects.size(), 3u);
  EXPECT_THAT(woken_, ElementsAre("prod/a", "prod/b"));
  EXPECT_EQ(checker_->observe("prod/a", a).size(), 3u);
  EXPECT_EQ(checker_->run_round(false), 0u);  // nothing new
}

TEST_F(DatabaseCheckerTest, AnUnchangedRoundWakesNoSetAndAChangedOneWakesOnlyItsSet) {
  checker_->observe("prod/a", {target("a", "0", "postgresql://u:p@db1/app")});
  checker_->observe("prod/b", {target("b", "0", "postgresql://u:p@db2/app")});
  checker_->run_round(true);
  woken_.clear();
  checker_->run_round(true);
  EXPECT_THAT(woken_, IsEmpty());
  connector_.wal_level["db2"] = "replica";
  checker_->run_round(true);
  EXPECT_THAT(woken_, ElementsAre("prod/b"));
  auto outcomes = checker_->observe("prod/b", {target("b", "0", "postgresql://u:p@db2/app")});
  EXPECT_EQ(outcomes.at({"prod", "b", "0"}).reason, electric::kReasonWalLevelNotLogical);
}

TEST_F(DatabaseCheckerTest, AnEditedURLIsCheckedAgainBeforeItsOutcomeCounts) {
  checker_->observe("prod/a", {target("a", "0", "postgresql://u:p@db1/app")});
  checker_->run_round(false);
  EXPECT_THAT(checker_->observe("prod/a", {target("a", "0", "postgresql://u:p@down/app")}), IsEmpty());
  checker_->run_round(false);
  auto outcomes = checker_->observe("prod/a", {target("a", "0", "postgresql://u:p@down/app")});
  EXPECT_EQ(outcomes.at({"prod", "a", "0"}).reason, electric::kReasonDatabaseUnreachable);
}

TEST_F(DatabaseCheckerTest, SlotMetricsFollowTheKnownShardsOnly) {
  checker_->observe("prod/a", {target("a", "0", "postgresql://u:p@db1/app")});
  checker_->run_round(false);
  std::string text = registry_.render();
  EXPECT_NE(text.find(R"(electric_operator_replication_slot_retained_wal_bytes{namespace="prod",shard_set="a",shard="0"} 77)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(electric_operator_replication_slot_active{namespace="prod",shard_set="a",shard="0"} 1)"),
            std::string::npos);
  checker_->forget("prod/a");
  EXPECT_EQ(registry_.render().find("shard_set=\"a\""), std::string::npos);
}

TEST_F(DatabaseCheckerTest, RunChecksNewTargetsAtOnceAndStops) {
  std::thread loop([this] { checker_->run(); });
  checker_->observe("prod/a", {target("a", "0", "postgresql://u:p@db1/app")});
  for (int i = 0; i < 200 && checker_->observe("prod/a", {target("a", "0", "postgresql://u:p@db1/app")}).empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(checker_->observe("prod/a", {target("a", "0", "postgresql://u:p@db1/app")}).size(), 1u);
  checker_->stop();
  loop.join();
}

// --- Dropping slots -------------------------------------------------------------

// A server with one slot: held (active) on host "held", inactive elsewhere.
// Records each statement it runs, first word of the SQL.
class SlotSession : public postgres::Session {
 public:
  SlotSession(bool active, std::vector<std::string>& log, std::mutex& mu) : active_(active), log_(log), mu_(mu) {}
  base::Expected<std::vector<postgres::Row>, postgres::Failure> query(const std::string& sql,
                                                                      const std::vector<std::string>& params) override {
    {
      std::lock_guard<std::mutex> lock(mu_);  // sessions run on the checker's threads
      log_.push_back(sql.substr(0, sql.find(' ', 7)) + (params.empty() ? "" : " " + params[0]));
    }
    if (sql.find("pg_drop_replication_slot") != std::string::npos)
      return active_ ? std::vector<postgres::Row>{} : std::vector<postgres::Row>{{std::string()}};
    if (sql.rfind("SELECT 1", 0) == 0) return std::vector<postgres::Row>{{std::string("1")}};
    if (sql.find("quote_ident") != std::string::npos) return std::vector<postgres::Row>{{params[0]}};
    return std::vector<postgres::Row>{};
  }
  bool active_;
  std::vector<std::string>& log_;
  std::mutex& mu_;
};

class SlotConnector : public postgres::Connector {
 public:
  base::Expected<std::unique_ptr<postgres::Session>, postgres::Failure> connect(
      const postgres::ConnectionSettings& settings) override {
    std::lock_guard<std::mutex> lock(mu);
    log.push_back("connect " + settings.host + "/" + settings.dbname);
    if (settings.host == "down") return postgres::Failure{postgres::FailureKind::Unreachable, "connection refused", ""};
    return std::unique_ptr<postgres::Session>(new SlotSession(settings.host == "held", log, mu));
  }
  std::mutex mu;
  std::vector<std::string> log;
};

DatabaseChecker::SlotCleanup cleanup(const std::string& shard, const std::string& host) {
  postgres::ConnectionSettings c;
  c.host = host;
  c.dbname = "app";
  return {shard, "electric_slot_" + shard, "electric_publication_" + shard, c};
}

class SlotCleanupTest : public ::testing::Test {
 protected:
  SlotCleanupTest() {
    DatabaseCheckerOptions options;
    options.interval = std::chrono::milliseconds(0);  // every retry is due at once: no waiting in tests
    options.on_change = [this](const std::string& key) { woken_.push_back(key); };
    checker_ = std::make_unique<DatabaseChecker>(connector_, options);
  }
  electric::SlotCleanupOutcome outcome(const std::string& shard) { return checker_->slot_cleanups("prod/a").at(shard); }
  SlotConnector connector_;
  std::vector<std::string> woken_;
  std::unique_ptr<DatabaseChecker> checker_;
};

TEST_F(SlotCleanupTest, DropsTheSlotThenThePublicationInTheSlotsDatabase) {
  checker_->clean_slots("prod/a", {cleanup("0", "db1")});
  EXPECT_EQ(outcome("0").state, electric::SlotCleanupState::Pending);
  EXPECT_EQ(checker_->run_cleanups(), 1u);
  EXPECT_EQ(outcome("0").state, electric::SlotCleanupState::Dropped);
  EXPECT_THAT(connector_.log, ElementsAre("connect db1/app", "SELECT pg_drop_replication_slot(slot_name) electric_slot_0",
                                          "SELECT quote_ident($1) electric_publication_0", "DROP PUBLICATION"));
  EXPECT_THAT(woken_, ElementsAre("prod/a"));
  EXPECT_EQ(checker_->run_cleanups(), 0u) << "a dropped slot is done";
}

TEST_F(SlotCleanupTest, AnActiveSlotOrAnUnreachableServerIsRetriedAndTheSetWokenOnlyOnChange) {
  checker_->clean_slots("prod/a", {cleanup("0", "held"), cleanup("1", "down")});
  checker_->run_cleanups();
  EXPECT_EQ(outcome("0").state, electric::SlotCleanupState::Active);
  EXPECT_EQ(outcome("1").state, electric::SlotCleanupState::Failed);
  EXPECT_EQ(outcome("1").message, "cannot drop the slot (Unreachable: connection refused); retrying");
  // The publication stays while the slot does.
  EXPECT_EQ(std::count(connector_.log.begin(), connector_.log.end(), "DROP PUBLICATION"), 0);
  EXPECT_THAT(woken_, ElementsAre("prod/a"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the backoff's floor
  EXPECT_EQ(checker_->run_cleanups(), 2u);
  EXPECT_THAT(woken_, ElementsAre("prod/a")) << "the same outcomes again wake no one";
}

TEST_F(SlotCleanupTest, HeldCleanupsGoOnWithoutCredentialsAndOthersAreForgotten) {
  checker_->clean_slots("prod/a", {cleanup("0", "held"), cleanup("1", "held")});
  checker_->run_cleanups();
  DatabaseChecker::SlotCleanup held = cleanup("0", "");
  held.connection.reset();
  checker_->clean_slots("prod/a", {held});  // shard 1 is no longer due
  EXPECT_EQ(checker_->slot_cleanups("prod/a").size(), 1u);
  EXPECT_EQ(outcome("0").state, electric::SlotCleanupState::Active);
  // Without credentials and not held: nothing to start.
  DatabaseChecker::SlotCleanup unknown = cleanup("2", "");
  unknown.connection.reset();
  checker_->clean_slots("prod/a", {held, unknown});
  EXPECT_EQ(checker_->slot_cleanups("prod/a").count("2"), 0u);
  checker_->settle_slot("prod/a", "2", {electric::SlotCleanupState::Unresolvable, "electric_slot_2", "no URL"});
  checker_->clean_slots("prod/a", {held, unknown});
  EXPECT_EQ(outcome("2").state, electric::SlotCleanupState::Unresolvable);
  checker_->forget("prod/a");
  EXPECT_THAT(checker_->slot_cleanups("prod/a"), IsEmpty());
}

TEST_F(SlotCleanupTest, NewCredentialsAreTriedAtOnceAndADroppedSlotStaysDropped) {
  checker_->clean_slots("prod/a", {cleanup("0", "down")});
  checker_->run_cleanups();
  EXPECT_EQ(outcome("0").state, electric::SlotCleanupState::Failed);
  EXPECT_EQ(checker_->run_cleanups(), 0u) << "backing off";
  checker_->clean_slots("prod/a", {cleanup("0", "db1")});  // the URL was fixed
  EXPECT_EQ(checker_->run_cleanups(), 1u);
  EXPECT_EQ(outcome("0").state, electric::SlotCleanupState::Dropped);
  // Its Secret goes once the slot is dropped: that does not undo "dropped".
  checker_->settle_slot("prod/a", "0", {electric::SlotCleanupState::Unresolvable, "electric_slot_0", "no URL"});
  EXPECT_EQ(outcome("0").state, electric::SlotCleanupState::Dropped);
}

}  // namespace
}  // namespace app
