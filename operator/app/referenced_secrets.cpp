#include "app/referenced_secrets.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "electric/naming.h"

namespace app {

using nlohmann::json;

namespace {

// After a failed GET (the client has already retried), before the next one.
constexpr auto kFetchRetryDelay = std::chrono::seconds(1);

std::string join_key(const std::string& ns, const std::string& name) { return ns + "/" + name; }

std::string namespace_of(const std::string& key) { return key.substr(0, key.find('/')); }
std::string name_of(const std::string& key) { return key.substr(key.find('/') + 1); }

}  // namespace

std::map<std::string, std::set<std::string>> referenced_secret_keys(const electric::ShardSet& set) {
  std::map<std::string, std::set<std::string>> out;
  auto add = [&](const electric::SecretKeyRef& ref) {
    if (!ref.name.empty()) out[ref.name].insert(ref.key);
  };
  if (set.spec.api_secret_ref) add(*set.spec.api_secret_ref);
  for (const electric::Shard& shard : set.spec.shards) {
    add(shard.database_url_secret_ref);
    if (shard.pooled_database_url_secret_ref) add(*shard.pooled_database_url_secret_ref);
  }
  return out;
}

ReferencedSecrets::ReferencedSecrets(Fetch fetch) : fetch_(std::move(fetch)) {}

ReferencedSecrets::~ReferencedSecrets() { stop_fetcher(); }

void ReferencedSecrets::set_wake(Wake wake) {
  std::lock_guard<std::mutex> lock(wake_mu_);
  wake_ = std::move(wake);
}

void ReferencedSecrets::wake_all(const std::set<std::string>& keys) {
  if (keys.empty()) return;
  std::lock_guard<std::mutex> lock(wake_mu_);
  if (!wake_) return;
  for (const std::string& key : keys) wake_(key);
}

electric::SecretLookup ReferencedSecrets::lookup_locked(const std::string& ns,
                                                        const electric::SecretKeyRef& ref) const {
  auto found = secrets_.find(join_key(ns, ref.name));
  if (found == secrets_.end() || !found->second.exists) return {};
  auto value = found->second.values.find(ref.key);
  if (value == found->second.values.end()) return {electric::SecretLookup::State::KeyMissing, {}};
  return value->second;
}

std::set<std::string> ReferencedSecrets::wanted_keys_locked(const std::string& secret_key) const {
  std::set<std::string> keys;
  auto entry = secrets_.find(secret_key);
  if (entry == secrets_.end()) return keys;
  const std::string name = name_of(secret_key);
  for (const std::string& set_key : entry->second.referenced_by) {
    const SetEntry& set = sets_.at(set_key);
    auto refs = set.refs.find(name);
    if (refs != set.refs.end()) keys.insert(refs->second.begin(), refs->second.end());
  }
  return keys;
}

bool ReferencedSecrets::needs_fetch_locked(const std::string& secret_key, const SecretEntry& entry) const {
  if (!entry.fetched) return true;
  if (!entry.exists) return false;  // its creation comes as a watch event
  for (const std::string& key : wanted_keys_locked(secret_key)) {
    if (!entry.values.count(key)) return true;
  }
  return false;
}

std::set<std::string> ReferencedSecrets::update_claims_locked(const std::string& set_key) {
  auto set = sets_.find(set_key);
  if (set == sets_.end()) return claims_.remove_set(set_key);
  const std::string& ns = set->second.ns;
  electric::SecretReader read = [&](const electric::SecretKeyRef& ref) { return lookup_locked(ns, ref); };
  std::vector<electric::ShardIdentity> identities;
  for (electric::ClaimSource source : set->second.claims) {
    if (live_stream_id_) {
      auto live = live_stream_id_(ns, electric::shard_child_name(source.key.set_name, source.key.shard));
      if (live && !live->empty()) source.stream_id = *live;
    }
    if (auto identity = electric::resolve_claim(source, read)) identities.push_back(std::move(*identity));
  }
  return claims_.update_set(set_key, std::move(identities));
}

void ReferencedSecrets::on_set(const std::string& set_key, const electric::ParsedShardSet* parsed) {
  std::set<std::string> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, std::set<std::string>> old_refs;
    if (auto existing = sets_.find(set_key); existing != sets_.end()) old_refs = existing->second.refs;
    const std::string ns = namespace_of(set_key);
    if (parsed) {
      SetEntry& entry = sets_[set_key];
      entry.ns = ns;
      entry.claims = electric::claim_sources(*parsed);
      entry.refs = referenced_secret_keys(parsed->set);
    } else {
      sets_.erase(set_key);
    }
    const std::map<std::string, std::set<std::string>> no_refs;
    const auto& new_refs = parsed ? sets_.at(set_key).refs : no_refs;
    for (const auto& [name, keys] : old_refs) {
      if (new_refs.count(name)) continue;
      const std::string secret_key = join_key(ns, name);
      SecretEntry& secret = secrets_[secret_key];
      secret.referenced_by.erase(set_key);
      if (secret.referenced_by.empty()) {
        secrets_.erase(secret_key);  // nobody reads it: keep nothing of it
        pending_.erase(secret_key);
      }
    }
    for (const auto& [name, keys] : new_refs) {
      const std::string secret_key = join_key(ns, name);
      SecretEntry& secret = secrets_[secret_key];
      secret.referenced_by.insert(set_key);
      if (needs_fetch_locked(secret_key, secret)) pending_.insert(secret_key);
    }
    wake = update_claims_locked(set_key);
  }
  pending_cv_.notify_all();
  wake_all(wake);
}

void ReferencedSecrets::on_secret(const std::string& secret_key, const std::string& resource_version) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto entry = secrets_.find(secret_key);
    if (entry == secrets_.end()) return;  // unreferenced: not even its metadata is kept
    const SecretEntry& secret = entry->second;
    if (in_flight_ == secret_key) {
      in_flight_newest_version_ = resource_version;  // decided when the GET answers
      return;
    }
    if (secret.fetched && secret.exists && secret.resource_version == resource_version) return;
    pending_.insert(secret_key);
  }
  pending_cv_.notify_all();
}

void ReferencedSecrets::on_secret_deleted(const std::string& secret_key) {
  std::set<std::string> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!secrets_.count(secret_key)) return;
    wake = store_facts_locked(secret_key, nullptr);
    // A GET under way may answer with the object as it was: fetch once more.
    if (in_flight_ == secret_key) pending_.insert(secret_key);
    else pending_.erase(secret_key);
  }
  pending_cv_.notify_all();
  wake_all(wake);
}

std::set<std::string> ReferencedSecrets::store_facts_locked(const std::string& secret_key, const json* secret) {
  SecretEntry& entry = secrets_.at(secret_key);
  SecretEntry next;
  next.referenced_by = entry.referenced_by;
  next.fetched = true;
  next.exists = secret != nullptr;
  if (secret) {
    next.resource_version = secret->value(json::json_pointer("/metadata/resourceVersion"), "");
    for (const std::string& key : wanted_keys_locked(secret_key))
      next.values[key] = electric::lookup_secret_key(*secret, key);
  }
  auto same_values = [](const SecretEntry& a, const SecretEntry& b) {
    if (a.exists != b.exists || a.values.size() != b.values.size()) return false;
    for (const auto& [key, lookup] : a.values) {
      auto other = b.values.find(key);
      if (other == b.values.end() || other->second.state != lookup.state || other->second.value != lookup.value)
        return false;
    }
    return true;
  };
  const bool changed = !entry.fetched || !same_values(entry, next);
  entry = std::move(next);
  std::set<std::string> wake;
  if (!changed) return wake;
  for (const std::string& set_key : entry.referenced_by) {
    wake.insert(set_key);  // its rendered values (or its wait) changed
    auto moved = update_claims_locked(set_key);
    wake.insert(moved.begin(), moved.end());
  }
  return wake;
}

bool ReferencedSecrets::fetch_next(bool* failed) {
  std::string key;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.empty()) return false;
    key = *pending_.begin();
    pending_.erase(pending_.begin());
    in_flight_ = key;
    in_flight_newest_version_.clear();
    ++fetches_;
  }
  if (fetch_counter_) fetch_counter_->inc();
  kube::Result<json> got = fetch_(namespace_of(key), name_of(key));
  std::set<std::string> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_.clear();
    if (!secrets_.count(key)) return true;  // no longer referenced
    if (got.ok()) {
      wake = store_facts_locked(key, &got.value());
      // The watch saw a version the GET did not return: it may be newer.
      if (!in_flight_newest_version_.empty() && in_flight_newest_version_ != secrets_.at(key).resource_version)
        pending_.insert(key);
    } else if (got.error().is_not_found()) {
      wake = store_facts_locked(key, nullptr);
      if (!in_flight_newest_version_.empty()) pending_.insert(key);  // recreated meanwhile?
    } else {
      spdlog::warn("cannot read referenced Secret {}: {}; will retry", key, got.error().describe());
      pending_.insert(key);
      if (failed) *failed = true;
    }
  }
  wake_all(wake);
  return true;
}

void ReferencedSecrets::start_fetcher() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fetcher_.joinable() || stopping_) return;
  fetcher_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      if (pending_.empty()) {
        pending_cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
        continue;
      }
      lock.unlock();
      bool failed = false;
      fetch_next(&failed);
      lock.lock();
      if (failed) pending_cv_.wait_for(lock, kFetchRetryDelay, [this] { return stopping_; });
    }
  });
}

void ReferencedSecrets::stop_fetcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  pending_cv_.notify_all();
  if (fetcher_.joinable()) fetcher_.join();
}

bool ReferencedSecrets::idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.empty() && in_flight_.empty();
}

electric::SecretReader ReferencedSecrets::reader(const std::string& ns) const {
  return [this, ns](const electric::SecretKeyRef& ref) {
    std::lock_guard<std::mutex> lock(mu_);
    return lookup_locked(ns, ref);
  };
}

bool ReferencedSecrets::waiting_for(const std::string& set_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto set = sets_.find(set_key);
  if (set == sets_.end()) return false;
  for (const auto& [name, keys] : set->second.refs) {
    const std::string secret_key = join_key(set->second.ns, name);
    if (pending_.count(secret_key) || in_flight_ == secret_key) {
      const SecretEntry& entry = secrets_.at(secret_key);
      if (!entry.fetched) return true;
      if (!entry.exists) continue;
      for (const std::string& key : keys) {
        if (!entry.values.count(key)) return true;
      }
    }
  }
  return false;
}

std::map<electric::ShardKey, std::string> ReferencedSecrets::stream_conflicts(const std::string& set_key) {
  std::set<std::string> wake;
  std::map<electric::ShardKey, std::string> conflicts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake = update_claims_locked(set_key);
    conflicts = claims_.conflicts_for(set_key);
  }
  wake.erase(set_key);  // it is being reconciled with what changed
  wake_all(wake);
  return conflicts;
}

void ReferencedSecrets::refresh_all_claims() {
  std::set<std::string> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [set_key, entry] : sets_) {
      auto more = update_claims_locked(set_key);
      wake.insert(more.begin(), more.end());
    }
  }
  wake_all(wake);
}

std::vector<std::string> ReferencedSecrets::sets_referencing(const std::string& ns, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto entry = secrets_.find(join_key(ns, name));
  if (entry == secrets_.end()) return {};
  return {entry->second.referenced_by.begin(), entry->second.referenced_by.end()};
}

ReferencedSecrets::Totals ReferencedSecrets::totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  Totals totals;
  totals.secrets = secrets_.size();
  totals.fetches = fetches_;
  for (const auto& [key, entry] : secrets_) {
    for (const auto& [name, lookup] : entry.values) totals.value_bytes += lookup.value.size();
  }
  return totals;
}

}  // namespace app
