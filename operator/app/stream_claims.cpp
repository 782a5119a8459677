#include "app/stream_claims.h"

namespace app {

using electric::ShardIdentity;
using electric::StreamClaimKey;

std::string set_key_of(const electric::ShardKey& shard) { return shard.set_namespace + "/" + shard.set_name; }

namespace {

// One set's claims grouped by key, each group ordered by shard.
std::map<StreamClaimKey, std::map<electric::ShardKey, ShardIdentity>> group(
    const std::vector<ShardIdentity>& claims) {
  std::map<StreamClaimKey, std::map<electric::ShardKey, ShardIdentity>> out;
  for (const ShardIdentity& claim : claims) out[electric::stream_claim_key(claim)].emplace(claim.key, claim);
  return out;
}

}  // namespace

std::set<std::string> StreamClaims::sets_claiming(const StreamClaimKey& key) const {
  std::set<std::string> out;
  auto found = by_key_.find(key);
  if (found == by_key_.end()) return out;
  for (const auto& [shard, identity] : found->second) out.insert(set_key_of(shard));
  return out;
}

std::set<std::string> StreamClaims::update_set(const std::string& set_key, std::vector<ShardIdentity> claims) {
  auto existing = by_set_.find(set_key);
  const auto before = group(existing == by_set_.end() ? std::vector<ShardIdentity>{} : existing->second);
  const auto after = group(claims);

  std::set<StreamClaimKey> changed;
  for (const auto& [key, members] : before) {
    auto same = after.find(key);
    if (same == after.end() || same->second != members) changed.insert(key);
  }
  for (const auto& [key, members] : after) {
    if (!before.count(key)) changed.insert(key);
  }
  if (changed.empty()) return {};

  std::set<std::string> wake;
  for (const StreamClaimKey& key : changed) {
    auto part = sets_claiming(key);
    wake.insert(part.begin(), part.end());
  }
  for (const auto& [key, members] : before) {
    Claimants& claimants = by_key_[key];
    for (const auto& [shard, identity] : members) claimants.erase(shard);
    if (claimants.empty()) by_key_.erase(key);
  }
  for (const auto& [key, members] : after) {
    for (const auto& [shard, identity] : members) by_key_[key].insert_or_assign(shard, identity);
  }
  if (claims.empty()) by_set_.erase(set_key);
  else by_set_[set_key] = std::move(claims);
  for (const StreamClaimKey& key : changed) {
    auto part = sets_claiming(key);
    wake.insert(part.begin(), part.end());
  }
  return wake;
}

std::map<electric::ShardKey, std::string> StreamClaims::conflicts_for(const std::string& set_key) const {
  std::map<electric::ShardKey, std::string> out;
  auto claims = by_set_.find(set_key);
  if (claims == by_set_.end()) return out;
  std::set<StreamClaimKey> done;
  for (const ShardIdentity& claim : claims->second) {
    const StreamClaimKey key = electric::stream_claim_key(claim);
    if (!done.insert(key).second) continue;
    const Claimants& claimants = by_key_.at(key);
    if (claimants.size() < 2) continue;
    std::vector<ShardIdentity> contenders;
    for (const auto& [shard, identity] : claimants) contenders.push_back(identity);
    auto losers = electric::find_stream_conflicts(contenders);
    out.insert(losers.begin(), losers.end());
  }
  return out;
}

}  // namespace app
