// Issue 10's database checks against real PostgreSQL servers
// (tests/postgres/postgres): every reason produced by a real server, a
// running shard reported and never stopped, the WAL metric growing after
// writes until WALRetentionHigh, one connection per server and credentials per round, and no
// password anywhere the operator writes. Electric cannot run here (kwok runs
// no containers), so the tests play its part inside Postgres: they create
// the slot Electric would create.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "postgres_support.h"
#include "support.h"

namespace itest {
namespace {

class DatabaseChecksTest : public OperatorSuite {
 protected:
  void SetUp() override {
    OperatorSuite::SetUp();
    if (IsSkipped()) return;
    if (!PostgresServers::available()) GTEST_SKIP() << "no PostgreSQL servers (tests/postgres/postgres up)";
  }
  void TearDown() override {
    for (auto it = cleanup_.rbegin(); it != cleanup_.rend(); ++it) pg().exec(it->server, it->db, it->sql);
  }

  static PostgresServers& pg() { return PostgresServers::get(); }
  // SQL names from the namespace ("dbchk-x1y2" -> "x1y2"), so tests that
  // share a server never share a role, database or slot.
  static std::string suffix(const TestNamespace& ns) {
    std::string s = ns.name().substr(ns.name().rfind('-') + 1);
    for (char& c : s)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return s;
  }
  void later(const std::string& server, const std::string& db, const std::string& sql) {
    cleanup_.push_back({server, db, sql});
  }
  // A LOGIN role (REPLICATION when asked) owning database `db` on `server`.
  void role_and_database(const std::string& server, const std::string& role, const std::string& password,
                         bool replication, const std::string& db) {
    pg().exec(server, "postgres",
              "CREATE ROLE " + role + " LOGIN " + (replication ? "REPLICATION" : "") + " PASSWORD '" + password + "'");
    later(server, "postgres", "DROP ROLE IF EXISTS " + role);  // cleanup runs last to first
    pg().exec(server, "postgres", "CREATE DATABASE " + db + " OWNER " + role);
    later(server, "postgres", "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  }
  // What Electric does first on a new shard's database.
  void create_slot_as_electric(const std::string& server, const std::string& db, const std::string& stream_id) {
    pg().exec(server, db, "SELECT pg_create_logical_replication_slot('electric_slot_" + stream_id + "', 'pgoutput')");
    later(server, db, drop_slot_sql("electric_slot_" + stream_id));
  }
  static std::string drop_slot_sql(const std::string& slot) {
    return "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + slot + "'";
  }
  // One shard entry reading Secret pg-<name> key url.
  static json shard(const std::string& name, const std::string& stream_id) {
    return {{"name", name},
            {"replicationStreamID", stream_id},
            {"databaseURLSecretRef", {{"name", "pg-" + name}, {"key", "url"}}}};
  }
  static json set_of(const std::string& ns, const std::string& name, const json& shards, bool checks = true) {
    json set = shard_set(ns, name, 1);
    set["spec"]["shards"] = shards;
    if (!checks) set["spec"]["databaseChecks"] = "Disabled";
    return set;
  }
  static bool has_deployment(const std::string& ns, const std::string& name) {
    return !get_object(kube::kDeployments, ns, name).is_null();
  }
  static std::string reason(const std::string& ns, const std::string& set, const std::string& shard) {
    return shard_status(ns, set, shard).value("reason", "");
  }

  // Lets the test's sets go while its operator still runs, releasing their
  // slot finalizer without dropping (the tests drop their own slots): no
  // namespace is left Terminating for a later operator to find.
  static void release_sets(const std::string& ns, const std::vector<std::string>& names) {
    const json skip = {{"metadata", {{"annotations", {{"electric-operator.dev/skip-replication-slot-cleanup", "true"}}}}}};
    for (const auto& name : names) {
      EXPECT_TRUE(client().merge_patch(shard_sets(), ns, name, skip).ok());
      EXPECT_TRUE(client().remove(shard_sets(), ns, name).ok());
    }
    for (const auto& name : names)
      EXPECT_TRUE(eventually([&] { return get_object(shard_sets(), ns, name).is_null(); }, 60s)) << name;
  }

  struct Cleanup {
    std::string server, db, sql;
  };
  std::vector<Cleanup> cleanup_;
};

TEST_F(DatabaseChecksTest, EveryReasonComesFromARealServer) {
  TestNamespace ns("dbchk");
  const std::string s = suffix(ns), role = "repl_" + s, app = "app_" + s;
  const std::string pw = "Pw-Repl-" + s, no_repl_pw = "Pw-NoRepl-" + s, wrong_pw = "Pw-Wrong-" + s;
  for (const char* server : {"logical", "replica", "small"}) role_and_database(server, role, pw, true, app);
  pg().exec("logical", "postgres", "CREATE ROLE norepl_" + s + " LOGIN PASSWORD '" + no_repl_pw + "'");
  later("logical", "postgres", "DROP ROLE IF EXISTS norepl_" + s);
  // A same-name slot in another database of the server; and a server whose slots are all taken.
  pg().exec("logical", "postgres", "CREATE DATABASE other_" + s);
  later("logical", "postgres", "DROP DATABASE IF EXISTS other_" + s + " WITH (FORCE)");
  create_slot_as_electric("logical", "other_" + s, "conflict_" + s);
  for (const char* filler : {"a", "b"}) {
    const std::string slot = std::string("filler_") + filler + "_" + s;
    pg().exec("small", "postgres", "SELECT pg_create_physical_replication_slot('" + slot + "')");
    later("small", "postgres", drop_slot_sql(slot));
  }
  const int closed_port = free_port();
  const std::map<std::string, std::string> urls = {
      {"ok", pg().url("logical", role, pw, app)},
      {"wal", pg().url("replica", role, pw, app)},
      {"norepl", pg().url("logical", "norepl_" + s, no_repl_pw, app)},
      {"badpw", pg().url("logical", role, wrong_pw, app)},
      {"down", "postgresql://" + role + ":" + pw + "@127.0.0.1:" + std::to_string(closed_port) + "/" + app},
      {"conflict", pg().url("logical", role, pw, app)},
      {"full", pg().url("small", role, pw, app)},
      // Electric ignores a password given as a query parameter, and so do the checks.
      {"querypw", "postgresql://" + role + "@127.0.0.1:" + std::to_string(pg().port("logical")) + "/" + app +
                      "?password=" + pw},
  };
  json shards = json::array();
  for (const auto& [name, url] : urls) {
    put_secret(ns.name(), "pg-" + name, {{"url", url}});
    shards.push_back(shard(name, name + "_" + s));
  }
  put_secret(ns.name(), "pg-unchecked", {{"url", pg().url("replica", role, pw, app)}});

  OperatorProcess op({"--namespace", ns.name(), "--database-check-interval", "60s"});
  apply_set(set_of(ns.name(), "db", shards));
  apply_set(set_of(ns.name(), "nochecks", json::array({shard("unchecked", "unchecked_" + s)}), false));

  const std::map<std::string, std::string> expected = {
      {"wal", "WalLevelNotLogical"},           {"norepl", "MissingReplicationPrivilege"},
      {"badpw", "AuthenticationFailed"},       {"down", "DatabaseUnreachable"},
      {"conflict", "ReplicationStreamConflict"}, {"full", "NoFreeReplicationSlots"},
      {"querypw", "AuthenticationFailed"},
  };
  for (const auto& [name, want] : expected) {
    EXPECT_TRUE(eventually([&] { return reason(ns.name(), "db", name) == want; }, 60s))
        << name << ": " << shard_status(ns.name(), "db", name).dump() << "\n" << op.log_tail();
  }
  EXPECT_TRUE(eventually([&] { return shard_status(ns.name(), "db", "ok").value("phase", "") == "Ready"; }, 90s))
      << shard_status(ns.name(), "db", "ok").dump();
  for (const auto& [name, want] : expected) {
    const bool definitive = want != "DatabaseUnreachable";
    if (definitive) EXPECT_EQ(shard_status(ns.name(), "db", name).value("phase", ""), "Failed") << name;
    EXPECT_EQ(has_deployment(ns.name(), "db-shard-" + name), !definitive) << name;
  }
  EXPECT_THAT(shard_status(ns.name(), "db", "wal").value("message", ""), ::testing::HasSubstr("wal_level = logical"));
  EXPECT_EQ(condition(get_object(shard_sets(), ns.name(), "db"), "Degraded").value("status", ""), "True");
  // Checks off: a replica-level server, and the shard starts unchallenged.
  EXPECT_TRUE(eventually([&] { return set_ready(ns.name(), "nochecks", 1); }, 90s)) << op.log_tail();
  EXPECT_EQ(reason(ns.name(), "nochecks", "unchecked"), "Available");

  // A fixed Secret is checked again at once, and the shard starts.
  put_secret(ns.name(), "pg-badpw", {{"url", pg().url("logical", role, pw, app)}});
  EXPECT_TRUE(eventually([&] { return has_deployment(ns.name(), "db-shard-badpw"); }, 60s)) << op.log_tail();

  // No password in status, Events or the operator's log.
  std::string written = get_object(shard_sets(), ns.name(), "db").dump() + op.log();
  auto events = client().list(kube::kEvents, ns.name());
  ASSERT_TRUE(events.ok());
  for (const json& event : events.value().items) written += event.dump();
  for (const std::string& secret : {pw, no_repl_pw, wrong_pw, pg().superuser_password()})
    EXPECT_EQ(written.find(secret), std::string::npos) << "a password reached status, an Event or the log";
  // libpq writes nothing of its own to the operator's stderr: every line is the operator's JSON.
  std::istringstream lines(op.log());
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) EXPECT_EQ(line.front(), '{') << line;
  release_sets(ns.name(), {"db", "nochecks"});
}

TEST_F(DatabaseChecksTest, OneConnectionPerServerAndCredentialsPerRound) {
  TestNamespace ns("dbconn");
  const std::string s = suffix(ns), role = "many_" + s, pw = "Pw-Many-" + s;
  role_and_database("second", role, pw, true, "one_" + s);
  pg().exec("second", "postgres", "CREATE DATABASE two_" + s + " OWNER " + role);
  later("second", "postgres", "DROP DATABASE IF EXISTS two_" + s + " WITH (FORCE)");
  json shards = json::array();
  for (int i = 0; i < 6; ++i) {
    const std::string name = std::to_string(i);
    put_secret(ns.name(), "pg-" + name, {{"url", pg().url("second", role, pw, i % 2 ? "one_" + s : "two_" + s)}});
    shards.push_back(shard(name, "many_" + name + "_" + s));
  }
  OperatorProcess op({"--namespace", ns.name(), "--database-check-interval", "1s"});
  apply_set(set_of(ns.name(), "many", shards));
  ASSERT_TRUE(eventually([&] { return set_ready(ns.name(), "many", 6); }, 120s)) << op.log_tail();
  ASSERT_TRUE(eventually([&] { return op.metric("electric_operator_database_check_round_seconds_count") >= 3; }, 30s));
  const double rounds = op.metric("electric_operator_database_check_round_seconds_count");
  const double connections = op.metric("electric_operator_database_check_connections_total", {{"result", "connected"}});
  // Read in that order, a round may finish between the two reads.
  EXPECT_GE(connections, rounds);
  EXPECT_LE(connections, rounds + 1) << "six shards on one server with one role: one connection per round";
  EXPECT_EQ(op.metric("electric_operator_database_check_connections_total", {{"result", "failed"}}), 0);
  EXPECT_TRUE(reconciles_without_writing(op, ns.name(), "many")) << "steady checks write nothing";
  release_sets(ns.name(), {"many"});
}

TEST_F(DatabaseChecksTest, ARunningShardIsReportedNeverStoppedAndTheWalMetricGrows) {
  TestNamespace ns("dbrun");
  const std::string s = suffix(ns), role = "run_" + s, pw = "Pw-Run-" + s, app = "app_" + s;
  const std::string stream = "run_" + s;
  role_and_database("logical", role, pw, true, app);
  put_secret(ns.name(), "pg-0", {{"url", pg().url("logical", role, pw, app)}});
  OperatorProcess op({"--namespace", ns.name(), "--database-check-interval", "1s"});
  json set = set_of(ns.name(), "run", json::array({shard("0", stream)}));
  set["spec"]["walRetentionThreshold"] = "2Mi";
  apply_set(set);
  ASSERT_TRUE(eventually([&] { return set_ready(ns.name(), "run", 1); }, 90s)) << op.log_tail();

  // Electric's part: its slot, then writes it has not consumed.
  create_slot_as_electric("logical", app, stream);
  const std::vector<std::pair<std::string, std::string>> labels = {
      {"namespace", ns.name()}, {"shard_set", "run"}, {"shard", "0"}};
  auto retained = [&] { return op.metric("electric_operator_replication_slot_retained_wal_bytes", labels); };
  auto slot_seen = [&] {
    std::string body;
    op.http_get(op.metrics_port(), "/metrics", &body);
    return body.find("electric_operator_replication_slot_active{namespace=\"" + ns.name()) != std::string::npos;
  };
  ASSERT_TRUE(eventually(slot_seen, 30s)) << "the next round finds the slot";
  const double before = retained();
  pg().exec("logical", app, "CREATE TABLE IF NOT EXISTS items (id int, body text)");
  pg().exec("logical", app, "INSERT INTO items SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g");
  EXPECT_TRUE(eventually([&] { return retained() > before + 2e6; }, 30s)) << "retained WAL " << retained();
  EXPECT_EQ(op.metric("electric_operator_replication_slot_active", labels), 0);
  // Beyond the set's threshold: reported and warned about, the shard still runs.
  ASSERT_TRUE(eventually([&] { return reason(ns.name(), "run", "0") == "WALRetentionHigh"; }, 30s)) << op.log_tail();
  EXPECT_EQ(condition(get_object(shard_sets(), ns.name(), "run"), "Degraded").value("status", ""), "True");
  EXPECT_TRUE(eventually([&] {
    auto events = client().list(kube::kEvents, ns.name());
    if (!events.ok()) return false;
    for (const json& e : events.value().items)
      if (e.value("reason", "") == "WALRetentionHigh" && e.value("type", "") == "Warning") return true;
    return false;
  }, 30s));

  // The role loses REPLICATION: reported, never stopped.
  pg().exec("logical", "postgres", "ALTER ROLE " + role + " NOREPLICATION");
  ASSERT_TRUE(eventually([&] { return reason(ns.name(), "run", "0") == "MissingReplicationPrivilege"; }, 30s))
      << op.log_tail();
  EXPECT_EQ(shard_status(ns.name(), "run", "0").value("phase", ""), "Ready");
  EXPECT_TRUE(has_deployment(ns.name(), "run-shard-0"));
  EXPECT_EQ(condition(get_object(shard_sets(), ns.name(), "run"), "Degraded").value("status", ""), "True");
  pg().exec("logical", "postgres", "ALTER ROLE " + role + " REPLICATION");
  EXPECT_TRUE(eventually([&] { return reason(ns.name(), "run", "0") == "WALRetentionHigh"; }, 30s)) << op.log_tail();
  // The slot goes (as an operator would drop it): the shard is healthy again.
  pg().exec("logical", app, drop_slot_sql("electric_slot_" + stream));
  EXPECT_TRUE(eventually([&] { return reason(ns.name(), "run", "0") == "Available"; }, 30s)) << op.log_tail();
  EXPECT_EQ(condition(get_object(shard_sets(), ns.name(), "run"), "Degraded").value("status", ""), "False");
  release_sets(ns.name(), {"run"});
}

// pg_recvlogical streaming from a slot, as a running Electric would: the
// slot is active until this goes.
class SlotHolder {
 public:
  SlotHolder(const std::string& server, const std::string& db, const std::string& slot,
             const std::string& publication) {
    const std::string port = std::to_string(PostgresServers::get().port(server));
    const std::string program = PostgresServers::get().bin("pg_recvlogical");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setenv("PGPASSWORD", PostgresServers::get().superuser_password().c_str(), 1);
      const std::string pubs = "publication_names=" + publication;
      ::execl(program.c_str(), "pg_recvlogical", "-h", "127.0.0.1", "-p", port.c_str(), "-U", "postgres", "-d",
              db.c_str(), "--slot", slot.c_str(), "--start", "-f", "/dev/null", "-o", "proto_version=1", "-o",
              pubs.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~SlotHolder() { release(); }
  void release() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

TEST_F(DatabaseChecksTest, SlotsOfRemovedShardsAndOfADeletedSetAreDroppedOrListed) {
  TestNamespace ns("dbslot");
  const std::string s = suffix(ns), role = "slot_" + s, pw = "Pw-Slot-" + s, app = "app_" + s;
  role_and_database("logical", role, pw, true, app);
  auto id = [&](const std::string& set, const std::string& shard) { return set + "_" + shard + "_" + s; };
  auto count = [&](const std::string& sql) { return pg().exec("logical", app, sql).at(0); };
  auto slot_exists = [&](const std::string& stream) {
    return count("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'electric_slot_" + stream + "'") == "1";
  };
  auto publication_exists = [&](const std::string& stream) {
    return count("SELECT count(*) FROM pg_publication WHERE pubname = 'electric_publication_" + stream + "'") == "1";
  };
  auto slot_active = [&](const std::string& stream) {
    return count("SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name = 'electric_slot_" + stream +
                 "'") == "1";
  };
  auto retained_slots = [&](const std::string& set) {
    return get_object(shard_sets(), ns.name(), set)["status"].value("retainedReplicationSlots", json::array());
  };
  auto has_event = [&](const std::string& reason) {
    auto events = client().list(kube::kEvents, ns.name());
    if (!events.ok()) return false;
    for (const json& e : events.value().items)
      if (e.value("reason", "") == reason) return true;
    return false;
  };
  // Electric's part once its pod would run: the slot and the publication.
  auto play_electric = [&](const std::string& stream) {
    create_slot_as_electric("logical", app, stream);
    pg().exec("logical", app, "CREATE PUBLICATION electric_publication_" + stream);
    pg().exec("logical", app, "ALTER PUBLICATION electric_publication_" + stream + " OWNER TO " + role);
    later("logical", app, "DROP PUBLICATION IF EXISTS electric_publication_" + stream);
  };
  put_secret(ns.name(), "pg-0", {{"url", pg().url("logical", role, pw, app)}});
  put_secret(ns.name(), "pg-1", {{"url", pg().url("logical", role, pw, app)}});
  put_secret(ns.name(), "pg-2", {{"url", pg().url("logical", role, pw, app)}});

  OperatorProcess op({"--namespace", ns.name(), "--database-check-interval", "1s"});
  json drop = set_of(ns.name(), "drop", json::array({shard("0", id("drop", "0")), shard("1", id("drop", "1")),
                                                     shard("2", id("drop", "2"))}));
  json keep = set_of(ns.name(), "keep", json::array({shard("0", id("keep", "0")), shard("1", id("keep", "1"))}));
  keep["spec"]["replicationSlotRetentionPolicy"] = {{"whenShardRemoved", "Retain"}};
  apply_set(drop);
  apply_set(keep);
  ASSERT_TRUE(eventually([&] { return set_ready(ns.name(), "drop", 3) && set_ready(ns.name(), "keep", 2); }, 120s))
      << op.log_tail();
  for (const std::string shard : {"0", "1", "2"}) play_electric(id("drop", shard));
  for (const std::string shard : {"0", "1"}) play_electric(id("keep", shard));
  const json finalizers = get_object(shard_sets(), ns.name(), "drop")["metadata"].value("finalizers", json::array());
  EXPECT_EQ(finalizers, json::array({"electric-operator.dev/replication-slots"}));

  // Shard 1's slot stays active after its pod is gone (someone else streams
  // from it): the cleanup waits, says so, and keeps the shard's Secret.
  SlotHolder holder("logical", app, "electric_slot_" + id("drop", "1"), "electric_publication_" + id("drop", "1"));
  ASSERT_TRUE(eventually([&] { return slot_active(id("drop", "1")); }, 30s)) << "pg_recvlogical holds the slot";
  drop["spec"]["shards"].erase(1);
  apply_set(drop);
  ASSERT_TRUE(eventually([&] {
    json slots = retained_slots("drop");
    return slots.size() == 1 && slots[0].value("message", "").find("active") != std::string::npos;
  }, 90s)) << retained_slots("drop").dump() << "\n" << op.log_tail();
  EXPECT_FALSE(has_deployment(ns.name(), "drop-shard-1")) << "never while its pods may run";
  EXPECT_EQ(retained_slots("drop")[0].value("server", ""), "127.0.0.1:" + std::to_string(pg().port("logical")));
  EXPECT_FALSE(get_object(kube::kSecrets, ns.name(), "drop-shard-1").is_null()) << "kept for the cleanup";
  EXPECT_TRUE(slot_exists(id("drop", "1")));
  EXPECT_TRUE(publication_exists(id("drop", "1")));
  holder.release();
  EXPECT_TRUE(eventually([&] { return !slot_exists(id("drop", "1")); }, 60s)) << op.log_tail();
  EXPECT_FALSE(publication_exists(id("drop", "1")));
  EXPECT_TRUE(eventually([&] { return retained_slots("drop").empty(); }, 30s)) << retained_slots("drop").dump();
  EXPECT_TRUE(eventually([&] { return get_object(kube::kSecrets, ns.name(), "drop-shard-1").is_null(); }, 30s));
  EXPECT_TRUE(has_event("ReplicationSlotDropped"));
  EXPECT_TRUE(slot_exists(id("drop", "0"))) << "only the removed shard's slot";

  // Retain: listed with its server and a Warning; nothing is dropped.
  keep["spec"]["shards"].erase(1);
  apply_set(keep);
  ASSERT_TRUE(eventually([&] { return retained_slots("keep").size() == 1; }, 60s)) << op.log_tail();
  const json kept = retained_slots("keep")[0];
  EXPECT_EQ(kept.value("slot", ""), "electric_slot_" + id("keep", "1"));
  EXPECT_EQ(kept.value("publication", ""), "electric_publication_" + id("keep", "1"));
  EXPECT_EQ(kept.value("server", ""), "127.0.0.1:" + std::to_string(pg().port("logical")));
  EXPECT_THAT(kept.value("message", ""), ::testing::HasSubstr("Retain"));
  EXPECT_TRUE(eventually([&] { return has_event("ReplicationSlotRetained"); }, 30s));
  EXPECT_TRUE(eventually([&] { return !has_deployment(ns.name(), "keep-shard-1"); }, 60s));
  EXPECT_TRUE(slot_exists(id("keep", "1")));
  EXPECT_TRUE(publication_exists(id("keep", "1")));

  // Deleting the set: every shard's Electric stops, every slot goes, then the set.
  ASSERT_TRUE(client().remove(shard_sets(), ns.name(), "drop").ok());
  EXPECT_TRUE(eventually([&] { return get_object(shard_sets(), ns.name(), "drop").is_null(); }, 120s))
      << get_object(shard_sets(), ns.name(), "drop").dump() << "\n" << op.log_tail();
  EXPECT_FALSE(slot_exists(id("drop", "0")));
  EXPECT_FALSE(slot_exists(id("drop", "2")));
  EXPECT_FALSE(publication_exists(id("drop", "0")));
  EXPECT_FALSE(publication_exists(id("drop", "2")));

  // The annotation releases the finalizer without dropping anything.
  ASSERT_TRUE(client().merge_patch(shard_sets(), ns.name(), "keep",
                                   {{"metadata", {{"annotations", {{"electric-operator.dev/skip-replication-slot-cleanup",
                                                                    "true"}}}}}})
                  .ok());
  ASSERT_TRUE(client().remove(shard_sets(), ns.name(), "keep").ok());
  EXPECT_TRUE(eventually([&] { return get_object(shard_sets(), ns.name(), "keep").is_null(); }, 60s)) << op.log_tail();
  EXPECT_TRUE(slot_exists(id("keep", "0")));
  EXPECT_TRUE(has_event("ReplicationSlotsRetained"));

  // No password in the log, status or Events of all this.
  std::string written = op.log();
  auto events = client().list(kube::kEvents, ns.name());
  ASSERT_TRUE(events.ok());
  for (const json& event : events.value().items) written += event.dump();
  EXPECT_EQ(written.find(pw), std::string::npos);
}

// A namespace going takes the set's Secrets with it: a slot no one can
// connect to any more (here the database never answered) does not hold it.
TEST_F(DatabaseChecksTest, DeletingANamespaceIsNotBlockedByTheSlotFinalizer) {
  auto ns = std::make_unique<TestNamespace>("dbgone");
  const std::string name = ns->name();
  put_secret(name, "pg-0", {{"url", "postgresql://u:Pw-Gone@127.0.0.1:" + std::to_string(free_port()) + "/app"}});
  OperatorProcess op({"--namespace", name, "--database-check-interval", "1s"});
  apply_set(set_of(name, "gone", json::array({shard("0", "gone_" + suffix(*ns))})));
  ASSERT_TRUE(eventually([&] {
    json set = get_object(shard_sets(), name, "gone");
    return set.contains("metadata") && set["metadata"].value("finalizers", json::array()).size() == 1;
  }, 60s)) << op.log_tail();
  ASSERT_TRUE(eventually([&] { return has_deployment(name, "gone-shard-0"); }, 60s)) << "unreachable: created anyway";
  ns.reset();  // deletes the namespace
  EXPECT_TRUE(eventually([&] { return get_object(kube::kNamespaces, "", name).is_null(); }, 180s))
      << get_object(shard_sets(), name, "gone").dump() << "\n" << op.log_tail();
}

}  // namespace
}  // namespace itest
