#include "electric/database_check.h"

#include "electric/digest.h"
#include "electric/status.h"  // kReasonReplicationStreamConflict

namespace electric {
namespace {

std::string server_name(const CheckedShard& shard) {
  bool v6 = shard.host.find(':') != std::string::npos;
  return (v6 ? "[" + shard.host + "]" : shard.host) + ":" + std::to_string(shard.port);
}

// A role name as SQL wants it in the advice we print.
std::string sql_identifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

DatabaseCheck outcome(std::string_view reason, std::string message) {
  return DatabaseCheck{std::string(reason), std::move(message), std::nullopt};
}

DatabaseCheck connection_failure(const postgres::Failure& failure, const CheckedShard& shard) {
  const std::string where = server_name(shard);
  switch (failure.kind) {
    case postgres::FailureKind::AuthenticationFailed:
      return outcome(kReasonAuthenticationFailed,
                     "the database server " + where + " refused the credentials of the shard's database URL (" +
                         failure.message + "); fix the user name and password in its Secret, or the server's pg_hba.conf");
    case postgres::FailureKind::DatabaseNotFound:
      return outcome(kReasonDatabaseUnreachable, "the database server " + where + " has no database \"" +
                                                     shard.dbname + "\" (" + failure.message + ")");
    case postgres::FailureKind::QueryFailed:
      return outcome(kReasonDatabaseUnreachable,
                     "the checks could not read " + where + "'s replication settings: " + failure.message);
    case postgres::FailureKind::Unreachable:
      break;
  }
  return outcome(kReasonDatabaseUnreachable,
                 "the operator cannot reach the database server " + where + " (" + failure.message +
                     "); the shard runs regardless, since its pods may reach it (spec.databaseChecks: Disabled "
                     "turns the checks off)");
}

bool may_replicate(const postgres::ServerFacts& facts) {
  return facts.superuser || facts.replication_attribute || !facts.replication_roles_held.empty();
}

const postgres::ReplicationSlot* find_slot(const postgres::ServerFacts& facts, const std::string& name) {
  for (const auto& slot : facts.slots)
    if (slot.name == name) return &slot;
  return nullptr;
}

}  // namespace

DatabaseTarget database_target(const ShardKey& key, const std::string& stream_id, const DatabaseURL& url,
                               int64_t wal_retention_threshold_bytes) {
  DatabaseTarget t;
  t.shard = CheckedShard{key, stream_id, url.host, url.port, url.dbname, wal_retention_threshold_bytes};
  t.connection = connection_settings(url);
  const DatabaseLocation where = url.location();
  const std::string port = std::to_string(url.port), threshold = std::to_string(wal_retention_threshold_bytes);
  t.connection_key = sha256_hex_of_parts({where.host, port, url.user, url.password, url.sslmode});
  t.fingerprint = sha256_hex_of_parts({t.connection_key, url.dbname, stream_id, threshold});
  return t;
}

postgres::ConnectionSettings connection_settings(const DatabaseURL& url) {
  postgres::ConnectionSettings c;
  c.host = url.host;
  c.port = url.port;
  c.user = url.user;
  c.password = url.password;
  c.dbname = url.dbname;
  c.sslmode = url.sslmode;
  return c;
}

const std::vector<std::string>& provider_replication_roles() {
  static const std::vector<std::string> roles = {"rds_replication"};
  return roles;
}

bool DatabaseCheck::blocks_new_shard() const {
  return reason == kReasonAuthenticationFailed || reason == kReasonWalLevelNotLogical ||
         reason == kReasonMissingReplicationPrivilege || reason == kReasonNoFreeReplicationSlots ||
         reason == kReasonReplicationStreamConflict;
}

std::map<ShardKey, DatabaseCheck> evaluate_database_checks(
    const base::Expected<postgres::ServerFacts, postgres::Failure>& seen, const std::vector<CheckedShard>& shards) {
  std::map<ShardKey, DatabaseCheck> out;
  if (!seen) {
    for (const auto& shard : shards) out[shard.key] = connection_failure(seen.error(), shard);
    return out;
  }
  const postgres::ServerFacts& facts = *seen;
  int free_slots = facts.max_replication_slots - facts.replication_slots_used;
  int free_senders = facts.max_wal_senders - facts.wal_senders_used;
  for (const auto& shard : shards) {
    const std::string where = server_name(shard);
    const std::string slot_name = replication_slot_name(shard.stream_id);
    const postgres::ReplicationSlot* slot = find_slot(facts, slot_name);
    DatabaseCheck& check = out[shard.key];
    if (slot) check.slot = *slot;
    if (facts.wal_level != "logical") {
      check = outcome(kReasonWalLevelNotLogical,
                      "wal_level is \"" + facts.wal_level + "\" on " + where +
                          "; Electric needs logical replication: run ALTER SYSTEM SET wal_level = logical; and "
                          "restart PostgreSQL (on AWS RDS, set rds.logical_replication = 1 in the parameter group)");
    } else if (!may_replicate(facts)) {
      const std::string role = sql_identifier(facts.role);
      check = outcome(kReasonMissingReplicationPrivilege,
                      "role " + role + " may not replicate on " + where + ": run ALTER ROLE " + role +
                          " WITH REPLICATION; (on AWS RDS: GRANT rds_replication TO " + role + ";)");
    } else if (slot && slot->database != shard.dbname) {
      check = outcome(kReasonReplicationStreamConflict,
                      "replication slot " + slot_name + " already exists in database \"" + slot->database + "\" on " +
                          where + ", and slot names are unique per server; give this shard another "
                          "replicationStreamID, or drop the slot if nothing uses it");
    } else if (!slot && free_slots <= 0) {
      check = outcome(kReasonNoFreeReplicationSlots,
                      where + " has no free replication slot for " + slot_name + " (" +
                          std::to_string(facts.replication_slots_used) + " of max_replication_slots = " +
                          std::to_string(facts.max_replication_slots) +
                          " in use): raise max_replication_slots and restart PostgreSQL, or drop unused slots");
    } else if (!(slot && slot->active) && free_senders <= 0) {
      check = outcome(kReasonNoFreeReplicationSlots,
                      where + " has no free WAL sender for " + slot_name + " (" +
                          std::to_string(facts.wal_senders_used) + " of max_wal_senders = " +
                          std::to_string(facts.max_wal_senders) + " in use): raise max_wal_senders and restart PostgreSQL");
    }
    if (check.passed() && slot && slot->retained_wal_bytes && shard.wal_retention_threshold_bytes > 0 &&
        *slot->retained_wal_bytes > shard.wal_retention_threshold_bytes) {
      // No number in the message: it would change every round, and so would status.
      check = outcome(kReasonWALRetentionHigh,
                      "replication slot " + slot_name + " on " + where + " keeps more WAL than spec.walRetentionThreshold (" +
                          std::to_string(shard.wal_retention_threshold_bytes) + " bytes)" +
                          (slot->active ? "; Electric is consuming it slowly"
                                        : "; no Electric consumes it, and the WAL grows until the disk fills: start "
                                          "the shard, or drop the slot if it is gone for good") +
                          " (electric_operator_replication_slot_retained_wal_bytes)");
    }
    if (!check.passed()) {
      if (slot) check.slot = *slot;
      continue;
    }
    if (!slot) --free_slots;
    if (!(slot && slot->active)) --free_senders;
  }
  return out;
}

}  // namespace electric
