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

using electric::SlotCleanupOutcome;
using electric::SlotCleanupState;
constexpr auto kNever = std::chrono::steady_clock::time_point::max();

// One attempt at dropping a slot and then its publication.
SlotCleanupOutcome attempt_cleanup(postgres::Connector& connector, const DatabaseChecker::SlotCleanup& work) {
  auto failed = [&](const char* what, const postgres::Failure& f) {
    return SlotCleanupOutcome{SlotCleanupState::Failed, work.slot,
                              std::string(what) + " (" + postgres::to_string(f.kind) + ": " + f.message + "); retrying"};
  };
  auto session = connector.connect(*work.connection);
  if (!session) return failed("cannot drop the slot", session.error());
  auto dropped = postgres::drop_inactive_slot(**session, work.slot);
  if (!dropped) return failed("cannot drop the slot", dropped.error());
  if (*dropped == postgres::SlotDrop::Active)
    return {SlotCleanupState::Active, work.slot,
            "the slot is active (a WAL sender streams from it), so it is not dropped; retrying"};
  auto publication = postgres::drop_publication(**session, work.publication);
  // Electric's role owns the publication it created; the URL's role is that one.
  if (!publication) return failed("the slot is gone, but the publication cannot be dropped", publication.error());
  return {SlotCleanupState::Dropped, work.slot, "dropped"};
}

// 1s, 2s, 4s, ... at most `cap` (and at least 1s).
std::chrono::milliseconds cleanup_backoff(int attempts, std::chrono::milliseconds cap) {
  std::chrono::milliseconds wait(1000);
  for (int i = 1; i < attempts && wait < cap; ++i) wait *= 2;
  return std::max(std::chrono::milliseconds(1000), std::min(wait, cap));
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
      if (const Outcome* outcome = outcome_for_locked(target)) known.emplace(target.shard.key, outcome->check);
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

void DatabaseChecker::forget(const std::string& set_key) {
  (void)observe(set_key, {});
  std::lock_guard<std::mutex> lock(state_->mu);
  cleanups_.erase(set_key);
}

void DatabaseChecker::clean_slots(const std::string& set_key, const std::vector<SlotCleanup>& due) {
  bool added = false;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    std::map<std::string, HeldCleanup>& held = cleanups_[set_key];
    std::map<std::string, HeldCleanup> next;
    for (const SlotCleanup& work : due) {
      auto it = held.find(work.shard);
      if (it != held.end() && it->second.work.slot == work.slot) {
        HeldCleanup& kept = it->second;
        // New credentials (a fixed password) are tried at once.
        if (work.connection && kept.outcome.state != SlotCleanupState::Dropped &&
            kept.work.connection != work.connection) {
          kept.work.connection = work.connection;
          kept.next_attempt = std::chrono::steady_clock::now();
          added = true;
        }
        next.emplace(work.shard, std::move(kept));
      } else if (work.connection) {
        HeldCleanup fresh;
        fresh.work = work;
        fresh.outcome = {SlotCleanupState::Pending, work.slot, electric::kSlotDroppingMessage};
        fresh.next_attempt = std::chrono::steady_clock::now();
        next.emplace(work.shard, std::move(fresh));
        added = true;
      }
    }
    if (next.empty()) cleanups_.erase(set_key);
    else held = std::move(next);
  }
  if (added) wake_.notify_all();
}

void DatabaseChecker::settle_slot(const std::string& set_key, const std::string& shard, SlotCleanupOutcome outcome) {
  std::lock_guard<std::mutex> lock(state_->mu);
  HeldCleanup& held = cleanups_[set_key][shard];
  if (held.work.slot == outcome.slot && held.outcome.state == SlotCleanupState::Dropped) return;
  held.work = {shard, outcome.slot, "", std::nullopt};
  held.outcome = std::move(outcome);
  held.next_attempt = kNever;
}

std::map<std::string, SlotCleanupOutcome> DatabaseChecker::slot_cleanups(const std::string& set_key) const {
  std::map<std::string, SlotCleanupOutcome> out;
  std::lock_guard<std::mutex> lock(state_->mu);
  if (auto it = cleanups_.find(set_key); it != cleanups_.end())
    for (const auto& [shard, held] : it->second) out.emplace(shard, held.outcome);
  return out;
}

std::chrono::steady_clock::time_point DatabaseChecker::next_cleanup_locked() const {
  auto next = kNever;
  for (const auto& [set, held] : cleanups_)
    for (const auto& [shard, cleanup] : held) next = std::min(next, cleanup.next_attempt);
  return next;
}

size_t DatabaseChecker::run_cleanups() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, SlotCleanup>> due;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    for (const auto& [set, held] : cleanups_)
      for (const auto& [shard, cleanup] : held)
        if (cleanup.next_attempt <= now) due.emplace_back(set, cleanup.work);
  }
  std::vector<SlotCleanupOutcome> outcomes(due.size());
  runtime::parallel_for(due.size(), options_.concurrency,
                        [&](size_t i) { outcomes[i] = attempt_cleanup(connector_, due[i].second); });
  std::set<std::string> changed;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    for (size_t i = 0; i < due.size(); ++i) {
      const auto& [set, work] = due[i];
      auto held_set = cleanups_.find(set);
      if (held_set == cleanups_.end()) continue;
      auto held = held_set->second.find(work.shard);
      // Forgotten or replaced meanwhile: the outcome is for a cleanup no one waits for.
      if (held == held_set->second.end() || held->second.work.slot != work.slot) continue;
      HeldCleanup& cleanup = held->second;
      if (!(cleanup.outcome == outcomes[i])) changed.insert(set);
      cleanup.outcome = outcomes[i];
      ++cleanup.attempts;
      cleanup.next_attempt = cleanup.outcome.state == SlotCleanupState::Dropped
                                 ? kNever
                                 : std::chrono::steady_clock::now() + cleanup_backoff(cleanup.attempts, options_.interval);
    }
  }
  for (size_t i = 0; i < due.size(); ++i)
    if (outcomes[i].state == SlotCleanupState::Dropped)
      spdlog::info("dropped replication slot {} and publication {} for {}/{}", due[i].second.slot,
                   due[i].second.publication, due[i].first, due[i].second.shard);
  if (options_.on_change)
    for (const auto& key : changed) options_.on_change(key);
  return due.size();
}

const DatabaseChecker::Outcome* DatabaseChecker::outcome_for_locked(const DatabaseTarget& target) const {
  auto it = state_->outcomes.find(target.shard.key);
  return it != state_->outcomes.end() && it->second.fingerprint == target.fingerprint ? &it->second : nullptr;
}

bool DatabaseChecker::has_unchecked_locked() const {
  for (const auto& [set, targets] : targets_) {
    for (const auto& target : targets) {
      if (!outcome_for_locked(target)) return true;
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
        if (all || !outcome_for_locked(target))
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
    wake_.wait_until(lock, std::min(next_full, next_cleanup_locked()), [&] {
      return stopping_ || has_unchecked_locked() || next_cleanup_locked() <= std::chrono::steady_clock::now();
    });
    if (stopping_) break;
    const bool all = std::chrono::steady_clock::now() >= next_full;
    lock.unlock();
    (void)run_round(all);
    (void)run_cleanups();
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
