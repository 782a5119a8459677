#include "electric/render_memo.h"

namespace electric {

const ShardRender* RenderMemo::find(const std::string& shard, const std::string& inputs) const {
  auto it = shards_.find(shard);
  if (it == shards_.end() || inputs.empty() || it->second.inputs != inputs) return nullptr;
  return &it->second;
}

ShardRender& RenderMemo::keep(const std::string& shard, ShardRender render) {
  render.digests.clear();
  return shards_.insert_or_assign(shard, std::move(render)).first->second;
}

const std::string* RenderMemo::digest(const std::string& shard, const std::string& kind) const {
  auto it = shards_.find(shard);
  if (it == shards_.end()) return nullptr;
  auto d = it->second.digests.find(kind);
  return d == it->second.digests.end() ? nullptr : &d->second;
}

void RenderMemo::remember(const std::string& shard, const std::string& kind, const nlohmann::json& body) {
  auto it = shards_.find(shard);
  if (!digest_ || it == shards_.end()) return;
  it->second.digests[kind] = digest_(body);
}

void RenderMemo::keep_only(const std::set<std::string>& shards) {
  for (auto it = shards_.begin(); it != shards_.end();) {
    if (shards.count(it->first)) ++it;
    else it = shards_.erase(it);
  }
}

}  // namespace electric
