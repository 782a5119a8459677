// What the database checks' facts mean for each shard (api.md, "Database
// checks"). Pure: the app connects once per server and set of credentials
// (postgres/), hands what it read here, and gets one outcome per shard.
//
//   std::vector<electric::CheckedShard> on_server = ...;   // same server and credentials
//   auto outcomes = electric::evaluate_database_checks(facts_or_failure, on_server);
//   outcomes[key].reason == "WalLevelNotLogical"; .blocks_new_shard() == true
//
// A definitive outcome keeps a new shard from getting its Deployment; a
// running shard is never stopped by one, only reported (Degraded).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "electric/naming.h"
#include "electric/stream_conflict.h"
#include "postgres/server_facts.h"

namespace electric {

inline constexpr std::string_view kReasonDatabaseUnreachable = "DatabaseUnreachable";
inline constexpr std::string_view kReasonAuthenticationFailed = "AuthenticationFailed";
inline constexpr std::string_view kReasonWalLevelNotLogical = "WalLevelNotLogical";
inline constexpr std::string_view kReasonMissingReplicationPrivilege = "MissingReplicationPrivilege";
inline constexpr std::string_view kReasonNoFreeReplicationSlots = "NoFreeReplicationSlots";
inline constexpr std::string_view kReasonWALRetentionHigh = "WALRetentionHigh";
// Pending, not failing: a new shard waits for its first check (seconds).
inline constexpr std::string_view kReasonCheckingDatabase = "CheckingDatabase";


// Roles of managed Postgres services whose members may replicate without
// the REPLICATION attribute (AWS RDS and Aurora).
const std::vector<std::string>& provider_replication_roles();

// One shard as the checks see it.
struct CheckedShard {
  ShardKey key;
  std::string stream_id;
  std::string host;  // as in its URL, for messages
  int port = 0;
  std::string dbname;
  // spec.walRetentionThreshold in bytes; 0: none.
  int64_t wal_retention_threshold_bytes = 0;
};

// A shard and what its check connects with.
struct DatabaseTarget {
  CheckedShard shard;
  postgres::ConnectionSettings connection;  // password included: for the checker only
  // Digest of everything the outcome depends on (connection settings and
  // stream ID): an outcome belongs to one fingerprint, so an edited URL or
  // password is checked again before it counts.
  std::string fingerprint;
  // Equal for shards on one server with one set of credentials: they share
  // one connection per round, whatever their database.
  std::string connection_key;
};
DatabaseTarget database_target(const ShardKey& key, const std::string& stream_id, const DatabaseURL& url,
                               int64_t wal_retention_threshold_bytes = 0);
// How the checks connect for `url`: its parts, password included (for the
// checker only), never its text.
postgres::ConnectionSettings connection_settings(const DatabaseURL& url);

// Where dropping one shard's replication slot and publication stands
// (replicationSlotRetentionPolicy: Delete).
enum class SlotCleanupState {
  Pending,       // not tried yet
  Dropped,       // neither is left
  Active,        // a WAL sender still streams from the slot: retried
  Failed,        // cannot connect, or a statement failed: retried
  Unresolvable,  // no URL to connect with (its Secret is gone or invalid): the user drops them
};
// What status says of a slot whose drop is under way (or not tried yet).
inline constexpr const char* kSlotDroppingMessage = "dropping the slot and publication";
struct SlotCleanupOutcome {
  SlotCleanupState state = SlotCleanupState::Pending;
  std::string slot;     // the slot it is about
  std::string message;  // for status: what happens next; never a password
  friend bool operator==(const SlotCleanupOutcome& a, const SlotCleanupOutcome& b) {
    return a.state == b.state && a.slot == b.slot && a.message == b.message;
  }
};

struct DatabaseCheck {
  std::string reason;   // "" when every check passed
  std::string message;  // what to change; never a password
  // Its slot, when the server has it (for the WAL metrics).
  std::optional<postgres::ReplicationSlot> slot;

  bool passed() const { return reason.empty(); }
  // Definitive: a new shard gets no Deployment. Unreachable is not, since
  // the pods' network path may differ from the operator's; nor is a slot
  // that retains too much WAL, which exists only once Electric ran.
  bool blocks_new_shard() const;
  friend bool operator==(const DatabaseCheck& a, const DatabaseCheck& b) {
    return a.reason == b.reason && a.message == b.message;
  }
  friend bool operator!=(const DatabaseCheck& a, const DatabaseCheck& b) { return !(a == b); }
};

// `shards` share one server and one set of credentials; `seen` is what their
// one connection read, or why it failed. Free slots and WAL senders are
// handed out in the order given, so with one slot left only the first new
// shard gets it.
std::map<ShardKey, DatabaseCheck> evaluate_database_checks(
    const base::Expected<postgres::ServerFacts, postgres::Failure>& seen, const std::vector<CheckedShard>& shards);

}  // namespace electric
