#include "electric/stream_conflict.h"

#include <algorithm>

#include "electric/naming.h"

namespace electric {

ShardIdentity shard_identity(const ShardSet& set, const Shard& shard, const DatabaseURL& url) {
  return {{set.namespace_name, set.name, shard.name}, set.creation_timestamp, effective_stream_id(set, shard),
          url.location()};
}

StreamClaimKey stream_claim_key(const ShardIdentity& shard) {
  return {shard.stream_id, shard.database.host, shard.database.port};
}

std::map<ShardKey, std::string> find_stream_conflicts(const std::vector<ShardIdentity>& shards) {
  std::map<StreamClaimKey, std::vector<const ShardIdentity*>> groups;
  for (const auto& s : shards) groups[stream_claim_key(s)].push_back(&s);

  std::map<ShardKey, std::string> losers;
  for (auto& [group, members] : groups) {
    if (members.size() < 2) continue;
    auto older = [](const ShardIdentity* a, const ShardIdentity* b) {
      return std::tie(a->set_creation_timestamp, a->key) <
             std::tie(b->set_creation_timestamp, b->key);
    };
    const ShardIdentity* winner = *std::min_element(members.begin(), members.end(), older);
    const auto& db = winner->database;
    for (const ShardIdentity* m : members) {
      if (m == winner || m->key == winner->key) continue;
      losers[m->key] = "replication stream ID \"" + m->stream_id + "\" on the Postgres server at " + db.host +
                       ":" + std::to_string(db.port) + " is already used by shard \"" + winner->key.shard +
                       "\" of set " + winner->key.set_namespace + "/" + winner->key.set_name + " (database \"" +
                       db.dbname + "\"; slot names are unique per server, whatever the database; the older "
                       "set keeps it; set replicationStreamID to a unique value)";
    }
  }
  return losers;
}

}  // namespace electric
