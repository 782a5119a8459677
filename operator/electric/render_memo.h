// What plan_reconcile worked out for each shard of one set, kept between
// reconciles so that an edit to one shard of 512 costs one shard's render:
// a shard whose inputs are unchanged, and whose live children still carry
// what was last rendered for them, is not rendered again.
//
//   electric::RenderMemo memo(app::owned_fields_digest);   // one per set
//   seen.child_current = ...;   // does the live child carry this digest?
//   plan_reconcile(parsed, seen, live_status, &memo);       // renders what changed
//
// It keeps digests, not bodies: a rendered Deployment is about 20 KB of heap,
// and four children of 1,000 shards would double the operator's memory.
// Not thread-safe: a set is reconciled by one worker at a time.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace electric {

// One shard's checks and its children's digests, for one set of inputs.
struct ShardRender {
  std::string inputs;  // a digest of everything the rest was derived from
  std::optional<std::string> pod_security_problem;
  // Only when the shard's Secret values were read:
  std::optional<std::string> database_url_problem;
  std::optional<std::string> config_hash;
  std::map<std::string, std::string> digests;  // child kind -> digest of its last rendered body
};

class RenderMemo {
 public:
  // `digest` maps a rendered body to what the live child is compared by;
  // without it the memo keeps the checks and every child is rendered.
  using Digest = std::function<std::string(const nlohmann::json&)>;
  explicit RenderMemo(Digest digest = nullptr) : digest_(std::move(digest)) {}

  // The kept entry of `shard` when it was made from `inputs`, else none.
  const ShardRender* find(const std::string& shard, const std::string& inputs) const;
  // Keeps `render` as the shard's entry (its digests start empty).
  ShardRender& keep(const std::string& shard, ShardRender render);
  // The digest last remembered for the shard's child of `kind`, if any.
  const std::string* digest(const std::string& shard, const std::string& kind) const;
  // Remembers the digest of `body`, the shard's child of `kind` just rendered.
  void remember(const std::string& shard, const std::string& kind, const nlohmann::json& body);
  // Drops the shards not in `shards` (removed from spec).
  void keep_only(const std::set<std::string>& shards);
  size_t size() const { return shards_.size(); }

 private:
  Digest digest_;
  std::map<std::string, ShardRender> shards_;
};

}  // namespace electric
