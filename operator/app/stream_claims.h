// The stream claims of every set the operator sees, kept up to date as sets
// and their database Secrets change, so no reconcile has to parse every set
// and read every Secret to find its conflicts.
//
//   app::StreamClaims claims;
//   auto wake = claims.update_set("prod/orders", electric::shard_identities(parsed, read));
//   for (const auto& key : wake) queue.add(key);      // sets whose contention changed
//   observed.stream_conflicts = claims.conflicts_for("prod/orders");
//
// Who wins stays electric::find_stream_conflicts' rule, applied per claim key
// (electric::stream_claim_key): the index only avoids recomputing what did
// not change. Not thread-safe: its owner (app::ReferencedSecrets) locks.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "electric/stream_conflict.h"

namespace app {

class StreamClaims {
 public:
  // Replaces the claims of set `set_key` ("namespace/name") with `claims`
  // (its shards' identities; empty when it claims nothing or is gone).
  // Returns the keys of the sets whose conflicts may have changed: every set
  // with a claim on a key whose claimants changed, as they were before and
  // after the change. Unchanged claims wake no one.
  std::set<std::string> update_set(const std::string& set_key, std::vector<electric::ShardIdentity> claims);
  std::set<std::string> remove_set(const std::string& set_key) { return update_set(set_key, {}); }

  // The losing shards among those that share a key with `set_key`'s claims,
  // as find_stream_conflicts over every set would report them.
  std::map<electric::ShardKey, std::string> conflicts_for(const std::string& set_key) const;

  // Claim keys with at least one claimant (for tests and metrics).
  size_t keys() const { return by_key_.size(); }

 private:
  using Claimants = std::map<electric::ShardKey, electric::ShardIdentity>;
  std::set<std::string> sets_claiming(const electric::StreamClaimKey& key) const;

  std::map<std::string, std::vector<electric::ShardIdentity>> by_set_;
  std::map<electric::StreamClaimKey, Claimants> by_key_;
};

// "namespace/name" of the set a shard belongs to.
std::string set_key_of(const electric::ShardKey& shard);

}  // namespace app
