// Two Electrics on one replication slot corrupt each other's state, so a
// stream ID may be used by only one shard per Postgres server, across all
// sets and namespaces. The older set keeps it; the newer set's shard fails with
// ReplicationStreamConflict and gets no Deployment.
//
//   std::vector<electric::ShardIdentity> all = ...;  // every valid shard the operator knows
//   auto losers = electric::find_stream_conflicts(all);
//   if (auto it = losers.find(key_of(mine)); it != losers.end()) -> Failed, it->second
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "electric/database_url.h"
#include "electric/shard_set.h"

namespace electric {

struct ShardKey {
  std::string set_namespace;
  std::string set_name;
  std::string shard;

  friend bool operator<(const ShardKey& a, const ShardKey& b) {
    return std::tie(a.set_namespace, a.set_name, a.shard) <
           std::tie(b.set_namespace, b.set_name, b.shard);
  }
  friend bool operator==(const ShardKey& a, const ShardKey& b) {
    return a.set_namespace == b.set_namespace && a.set_name == b.set_name && a.shard == b.shard;
  }
};

struct ShardIdentity {
  ShardKey key;
  // The set's metadata.creationTimestamp (RFC 3339, compared as text).
  std::string set_creation_timestamp;
  std::string stream_id;
  DatabaseLocation database;

  friend bool operator==(const ShardIdentity& a, const ShardIdentity& b) {
    return a.key == b.key && a.set_creation_timestamp == b.set_creation_timestamp &&
           a.stream_id == b.stream_id && a.database == b.database;
  }
  friend bool operator!=(const ShardIdentity& a, const ShardIdentity& b) { return !(a == b); }
};

// What shards contend on: two shards with equal keys claim one replication
// stream, and only one may run. The one definition of it, used by
// find_stream_conflicts and by the operator's incremental claims index
// (app/stream_claims.h), so changing what contends is a change here only.
// Keyed by server (host, port), not database: replication slot names are
// unique per Postgres server, so one stream ID on two databases of one
// server is one slot for two Electrics (electric-sql/electric #2220).
using StreamClaimKey = std::tuple<std::string, std::string, int>;  // (stream ID, host, port)
StreamClaimKey stream_claim_key(const ShardIdentity& shard);

// The identity of one shard whose DATABASE_URL parsed as `url`.
ShardIdentity shard_identity(const ShardSet& set, const Shard& shard, const DatabaseURL& url);

// The shards that must not run, each with a message naming the shard that
// keeps the stream (no URL, no password). Among shards with the same claim
// key (stream ID on the same database), the oldest (creationTimestamp, then
// namespace, set name and shard name) wins and every other loses. Different
// databases never conflict.
std::map<ShardKey, std::string> find_stream_conflicts(const std::vector<ShardIdentity>& shards);

}  // namespace electric
