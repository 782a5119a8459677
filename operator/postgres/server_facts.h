// What the database checks read from one Postgres server, in one round trip:
// its replication settings, the connected role's privileges, and the
// replication slots whose names start with a given prefix. Facts only; what
// they mean for a shard is decided in electric/database_check.h.
//
//   auto facts = postgres::read_server_facts(*session, {"electric_slot_", {"rds_replication"}});
//   if (!facts) -> facts.error() (a Failure, as from Session::query)
//   facts->wal_level == "logical"; facts->slots[0].retained_wal_bytes
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "postgres/session.h"

namespace postgres {

struct ReplicationSlot {
  std::string name;
  std::string database;  // "" for a physical slot
  bool active = false;   // a WAL sender streams from it now
  // Bytes of WAL the slot keeps from being recycled; none on a standby or
  // for a slot that never reserved WAL.
  std::optional<int64_t> retained_wal_bytes;
};

struct ServerFacts {
  std::string wal_level;
  int max_replication_slots = 0;
  int replication_slots_used = 0;  // every slot, of any kind or name
  int max_wal_senders = 0;
  int wal_senders_used = 0;
  std::string role;  // current_user
  bool superuser = false;
  bool replication_attribute = false;  // rolreplication
  std::vector<std::string> replication_roles_held;  // of the roles asked for, those the role is a member of
  std::string database;                             // current_database()
  bool in_recovery = false;                         // a standby
  std::vector<ReplicationSlot> slots;               // whose names start with the prefix, by name
};

struct FactsQuery {
  std::string slot_name_prefix;                    // e.g. "electric_slot_"; "_" and "%" match literally
  std::vector<std::string> replication_role_names;  // provider roles that grant replication
};

base::Expected<ServerFacts, Failure> read_server_facts(Session& session, const FactsQuery& query);

enum class SlotDrop { Dropped, Missing, Active };
// DROP the slot, only while no WAL sender holds it. A logical slot can be
// dropped only from the database it was created in.
base::Expected<SlotDrop, Failure> drop_inactive_slot(Session& session, const std::string& slot_name);
// DROP PUBLICATION IF EXISTS, in the session's database.
base::Expected<bool, Failure> drop_publication(Session& session, const std::string& publication_name);

}  // namespace postgres
