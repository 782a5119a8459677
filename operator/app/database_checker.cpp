#include "app/database_checker.h"

#include <spdlog/spdlog.h>

#include "app/stream_claims.h"  // set_key_of
#include "postgres/server_facts.h"
#include "runtime/parallel.h"

namespace app {
namespace {

using electric::DatabaseCheck;
using electric::DatabaseTarget;
using electric::ShardKey;

struct GroupResult {
  bool connected = false;
  std::map<ShardKey, DatabaseCheck> checks;
};

// One connection: what it read, evaluated for every shard that shares it.
GroupResult check_group(postgres::Connector& connector, const std::vector<DatabaseTarget>& group) {
  // Any of the group's databases will do: the facts are the server's and the role's.
  auto session = connector.connect(group.front().connection);
  base::Expected<postgres::ServerFacts, postgres::Failure> facts =
      session ? postgres::read_server_facts(**session, {electric::replication_slot_name(""),
                                                          electric::provider_replication_roles()})
              : base::Expected<postgres::ServerFacts, postgres::Failure>(session.error());
  std::vector<electric::CheckedShard> shards;
  shards.reserve(group.size());
  for (const auto& target : group) shards.push_back(target.shard);
  return {session.ok(), electric::evaluate_database_checks(facts, shards)};
}

}  // namespace

DatabaseChecker::DatabaseChecker(postgres::Connector& connector, DatabaseCheckerOptions options)
    : connector_(connector), options_(std::move(options)) {
  if (options_.metrics) register_metrics(*options_.metrics);
}

DatabaseChecker::~DatabaseChecker() = default;

void DatabaseChecker::register_metrics(runtime::Registry& registry) {
  const std::vector<std::string> shard_labels = {"namespace", "shard_set", "shard"};
  auto collect = [state = state_](bool retained) {
    return [state, retained] {
      std::vector<runtime::GaugeSample> out;
      std::lock_guard<std::mutex> lock(state->mu);
      for (const auto& [key, outcome] : state->outcomes) {
        const auto& slot = outcome.check.slot;
        if (!slot || (retained && !slot->retained_wal_bytes)) continue;
        double value = retained ? static_cast<double>(*slot->retained_wal_bytes) : (slot->active ? 1.0 : 0.0);
        out.push_back({{key.set_namespace, key.set_name, key.shard}, value});
      }
      return out;
    };
  };
  registry
      .gauge("electric_operator_replication_slot_retained_wal_bytes",
             "Bytes of WAL each shard's replication slot keeps on its server (at the last database check)",
             shard_labels)
      .set_collector(collect(true));
  registry
      .gauge("electric_operator_replication_slot_active",
             "1 when a WAL sender streams from the shard's replication slot (at the last database check), else 0",
             shard_labels)
      .set_collector(collect(false));
  connections_total_ = &registry.counter("electric_operator_database_check_connections_total",
                                         "Connections the database checks opened, by outcome", {"result"});
  failures_total_ = &registry.counter("electric_operator_database_check_failures_total",
                                      "Shards whose database check failed, per round, by reason", {"reason"});
  round_seconds_ = &registry.histogram("electric_operator_database_check_round_seconds",
                                       "Time of one round of database checks", {},
                                       runtime::exponential_buckets(0.005, 2, 14));
}

std::map<ShardKey, DatabaseCheck> DatabaseChecker::observe(const std::string& set_key,
                                                           std::vector<DatabaseTarget> targets) {
  std::map<ShardKey, DatabaseCheck> known;
  bool unchecked = false;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    for (const auto& target : targets) {
      auto it = state_->outcomes.find(target.shard.key);
      if (it != state_->outcomes.end() && it->second.fingerprint == target.fingerprint) known.emplace(it->first, it->second.check);
      else unchecked = true;
    }
    // Outcomes of shards the set no longer has go, and so do their metrics.
    if (auto old = targets_.find(set_key); old != targets_.end()) {
      std::set<ShardKey> kept;
      for (const auto& t : targets) kept.insert(t.shard.key);
      for (const auto& t : old->second)
        if (!kept.count(t.shard.key)) state_->outcomes.erase(t.shard.key);
    }
    if (targets.empty()) targets_.erase(set_key);
    else targets_[set_key] = std::move(targets);
  }
  if (unchecked) wake_.notify_all();
  return known;
}

void DatabaseChecker::forget(const std::string& set_key) { (void)observe(set_key, {}); }

bool DatabaseChecker::has_unchecked_locked() const {
  for (const auto& [set, targets] : targets_) {
    for (const auto& target : targets) {
      auto it = state_->outcomes.find(target.shard.key);
      if (it == state_->outcomes.end() || it->second.fingerprint != target.fingerprint) return true;
    }
  }
  return false;
}

size_t DatabaseChecker::run_round(bool all) {
  const auto started = std::chrono::steady_clock::now();
  std::map<std::string, std::vector<DatabaseTarget>> by_connection;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    for (const auto& [set, targets] : targets_) {
      for (const auto& target : targets) {
        auto it = state_->outcomes.find(target.shard.key);
        if (all || it == state_->outcomes.end() || it->second.fingerprint != target.fingerprint)
          by_connection[target.connection_key].push_back(target);
      }
    }
  }
  if (by_connection.empty()) return 0;
  std::vector<const std::vector<DatabaseTarget>*> groups;
  for (const auto& [key, group] : by_connection) groups.push_back(&group);
  std::vector<GroupResult> results(groups.size());
  runtime::parallel_for(groups.size(), options_.concurrency,
                        [&](size_t i) { results[i] = check_group(connector_, *groups[i]); });

  std::set<std::string> changed;
  // Newly failing shards, one log line per server and reason: a 512-shard
  // set on a misconfigured server must not write 512 lines.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> newly_failing;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    for (size_t i = 0; i < groups.size(); ++i) {
      for (const auto& target : *groups[i]) {
        const DatabaseCheck& check = results[i].checks.at(target.shard.key);
        if (failures_total_ && !check.passed()) failures_total_->with({check.reason}).inc();
        Outcome& kept = state_->outcomes[target.shard.key];
        if (kept.fingerprint != target.fingerprint || kept.check != check) {
          changed.insert(set_key_of(target.shard.key));
          if (!check.passed() && kept.check.reason != check.reason) {
            const std::string server = target.shard.host + ":" + std::to_string(target.shard.port);
            newly_failing[{server, check.reason}].push_back(set_key_of(target.shard.key) + "/" + target.shard.key.shard);
          }
        }
        kept = Outcome{target.fingerprint, check};
      }
    }
  }
  for (const auto& [where, shards] : newly_failing)
    spdlog::warn("database checks on {}: {} for {} shard(s), e.g. {}", where.first, where.second, shards.size(),
                 shards.front());
  if (connections_total_) {
    for (const auto& result : results) connections_total_->with({result.connected ? "connected" : "failed"}).inc();
  }
  if (round_seconds_)
    round_seconds_->with({}).observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (options_.on_change)
    for (const auto& key : changed) options_.on_change(key);
  return groups.size();
}

void DatabaseChecker::run() {
  auto next_full = std::chrono::steady_clock::now() + options_.interval;
  std::unique_lock<std::mutex> lock(state_->mu);
  while (!stopping_) {
    wake_.wait_until(lock, next_full, [&] { return stopping_ || has_unchecked_locked(); });
    if (stopping_) break;
    const bool all = std::chrono::steady_clock::now() >= next_full;
    lock.unlock();
    (void)run_round(all);
    lock.lock();
    if (all) next_full = std::chrono::steady_clock::now() + options_.interval;
  }
}

void DatabaseChecker::stop() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    stopping_ = true;
  }
  wake_.notify_all();
}

}  // namespace app
