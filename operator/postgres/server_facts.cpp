#include "postgres/server_facts.h"

#include <nlohmann/json.hpp>

namespace postgres {
namespace {

// One statement, so a round costs one round trip per server. Slots and the
// roles held come back as JSON arrays to keep it one row.
constexpr const char* kFactsSql = R"SQL(
SELECT current_setting('wal_level'),
       current_setting('max_replication_slots')::int,
       (SELECT count(*) FROM pg_replication_slots)::int,
       current_setting('max_wal_senders')::int,
       (SELECT count(*) FROM pg_stat_replication)::int,
       r.rolname, r.rolsuper, r.rolreplication,
       coalesce((SELECT json_agg(p.rolname ORDER BY p.rolname) FROM pg_roles p
                 WHERE p.rolname = ANY($2::text[]) AND pg_has_role(r.oid, p.oid, 'MEMBER')), '[]'),
       current_database(),
       pg_is_in_recovery(),
       coalesce((SELECT json_agg(json_build_object(
                   'name', s.slot_name, 'database', coalesce(s.database::text, ''), 'active', s.active,
                   'retained', CASE WHEN pg_is_in_recovery() OR s.restart_lsn IS NULL THEN NULL
                                    ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint END)
                   ORDER BY s.slot_name)
                 FROM pg_replication_slots s WHERE starts_with(s.slot_name::text, $1)), '[]')
FROM pg_roles r WHERE r.rolname = current_user
)SQL";

// Postgres' text[] literal of `items`, each quoted.
std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ",";
    out += "\"";
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"";
  }
  return out + "}";
}

Failure malformed(const std::string& what) {
  return Failure{FailureKind::QueryFailed, "unexpected answer from the server: " + what, ""};
}

int to_int(const std::optional<std::string>& v) { return v ? std::stoi(*v) : 0; }
bool to_bool(const std::optional<std::string>& v) { return v && *v == "t"; }

}  // namespace

base::Expected<ServerFacts, Failure> read_server_facts(Session& session, const FactsQuery& query) {
  auto rows = session.query(kFactsSql, {query.slot_name_prefix, text_array(query.replication_role_names)});
  if (!rows) return rows.error();
  if (rows->size() != 1 || (*rows)[0].size() != 12) return malformed("expected one row of 12 columns");
  const Row& row = (*rows)[0];
  ServerFacts facts;
  try {
    facts.wal_level = row[0].value_or("");
    facts.max_replication_slots = to_int(row[1]);
    facts.replication_slots_used = to_int(row[2]);
    facts.max_wal_senders = to_int(row[3]);
    facts.wal_senders_used = to_int(row[4]);
    facts.role = row[5].value_or("");
    facts.superuser = to_bool(row[6]);
    facts.replication_attribute = to_bool(row[7]);
    for (const auto& role : nlohmann::json::parse(row[8].value_or("[]"))) facts.replication_roles_held.push_back(role);
    facts.database = row[9].value_or("");
    facts.in_recovery = to_bool(row[10]);
    for (const auto& s : nlohmann::json::parse(row[11].value_or("[]"))) {
      ReplicationSlot slot;
      slot.name = s.at("name");
      slot.database = s.at("database");
      slot.active = s.at("active");
      if (!s.at("retained").is_null()) slot.retained_wal_bytes = s.at("retained").get<int64_t>();
      facts.slots.push_back(std::move(slot));
    }
  } catch (const std::exception& e) {  // a number or JSON that is not one
    return malformed(e.what());
  }
  return facts;
}

base::Expected<SlotDrop, Failure> drop_inactive_slot(Session& session, const std::string& slot_name) {
  auto dropped = session.query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active",
      {slot_name});
  if (!dropped) return dropped.error();
  if (!dropped->empty()) return SlotDrop::Dropped;
  auto left = session.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", {slot_name});
  if (!left) return left.error();
  return left->empty() ? SlotDrop::Missing : SlotDrop::Active;
}

base::Expected<bool, Failure> drop_publication(Session& session, const std::string& publication_name) {
  // An identifier cannot be a parameter; quote_ident makes any name safe.
  auto quoted = session.query("SELECT quote_ident($1)", {publication_name});
  if (!quoted) return quoted.error();
  if (quoted->size() != 1 || !(*quoted)[0][0]) return malformed("quote_ident returned nothing");
  auto dropped = session.query("DROP PUBLICATION IF EXISTS " + *(*quoted)[0][0]);
  if (!dropped) return dropped.error();
  return true;
}

}  // namespace postgres
