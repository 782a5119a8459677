// Runs the database checks (api.md, "Database checks") on a thread of its
// own, so a slow or unreachable database never holds a reconcile: the
// reconciler hands it each set's targets and reads back the outcomes known
// so far; a round connects once per server and set of credentials, reads
// every fact in one query (postgres/server_facts.h), and asks
// electric::evaluate_database_checks what they mean.
//
//   app::DatabaseChecker checker(*connector, options);   // options.on_change enqueues a set
//   std::thread t([&] { checker.run(); });
//   auto outcomes = checker.observe("prod/myapp", electric::database_targets(parsed, read));
//   ...
//   checker.stop(); t.join();
//
// Rounds: at once for targets not checked yet (a new shard, an edited URL or
// password: a new fingerprint), and every `interval` for all. When a set's
// outcomes change, on_change(set key) runs (on the checker's thread), so the
// set is reconciled with them; an unchanged round changes nothing, and a
// steady set writes nothing. Thread-safe: observe and forget from any thread.
//
// It also drops slots (replicationSlotRetentionPolicy: Delete): the
// reconciler hands it a set's cleanups that are due (the shard's pods are
// gone), and it drops each slot once inactive, then its publication,
// retrying with backoff (from 1s, doubling, at most `interval`) while the slot
// is active or the database cannot be reached.
//
//   checker.clean_slots("prod/myapp", {{"2", "electric_slot_x", "electric_publication_x", settings}});
//   checker.slot_cleanups("prod/myapp")["2"].state == SlotCleanupState::Dropped
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "electric/database_check.h"
#include "postgres/session.h"
#include "runtime/metrics.h"

namespace app {

struct DatabaseCheckerOptions {
  std::chrono::milliseconds interval = std::chrono::seconds(60);
  // Servers checked side by side in a round (one unreachable server costs
  // its connect timeout, not everyone's).
  size_t concurrency = 4;
  std::function<void(const std::string& set_key)> on_change;
  // Gauges and counters (see the metric names in database_checker.cpp);
  // none when null.
  runtime::Registry* metrics = nullptr;
};

class DatabaseChecker {
 public:
  DatabaseChecker(postgres::Connector& connector, DatabaseCheckerOptions options);
  ~DatabaseChecker();

  // Registers `targets` as the set's (replacing its last ones) and returns
  // the outcomes known for them: a target whose fingerprint has none yet is
  // left out, and checked in the next round, which starts at once.
  std::map<electric::ShardKey, electric::DatabaseCheck> observe(const std::string& set_key,
                                                                std::vector<electric::DatabaseTarget> targets);
  void forget(const std::string& set_key);

  struct SlotCleanup {
    std::string shard;
    std::string slot;
    std::string publication;
    // Into the slot's database (a logical slot is dropped from there),
    // password included. None for a cleanup the checker already holds.
    std::optional<postgres::ConnectionSettings> connection;
  };
  // The set's cleanups from now on: one it holds for the same shard and slot
  // goes on (tried again at once when its connection changed), a new one
  // with a connection starts at once; the set's others are forgotten.
  void clean_slots(const std::string& set_key, const std::vector<SlotCleanup>& due);
  // Records an outcome reached without connecting (no URL to connect with);
  // a slot already dropped stays dropped.
  void settle_slot(const std::string& set_key, const std::string& shard, electric::SlotCleanupOutcome outcome);
  // What the set's cleanups came to so far, by shard.
  std::map<std::string, electric::SlotCleanupOutcome> slot_cleanups(const std::string& set_key) const;
  // Tries every cleanup that is due now, on the caller's thread; returns how many.
  size_t run_cleanups();

  // The loop; returns after stop().
  void run();
  void stop();
  // One round now, on the caller's thread: every target when `all`, else
  // those not checked yet. Returns the connections it opened.
  size_t run_round(bool all);

 private:
  struct Outcome {
    std::string fingerprint;
    electric::DatabaseCheck check;
  };
  // Shared with the metrics collectors, which a scrape may run after the
  // checker is gone.
  struct State {
    std::mutex mu;
    std::map<electric::ShardKey, Outcome> outcomes;
  };
  struct HeldCleanup {
    SlotCleanup work;
    electric::SlotCleanupOutcome outcome;
    int attempts = 0;
    std::chrono::steady_clock::time_point next_attempt;  // max() once settled
  };
  // The outcome kept for `target`'s shard, when it is for the target's fingerprint.
  const Outcome* outcome_for_locked(const electric::DatabaseTarget& target) const;
  bool has_unchecked_locked() const;
  std::chrono::steady_clock::time_point next_cleanup_locked() const;
  void register_metrics(runtime::Registry& registry);

  postgres::Connector& connector_;
  DatabaseCheckerOptions options_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::condition_variable wake_;
  bool stopping_ = false;                                                   // guarded by state_->mu
  std::map<std::string, std::vector<electric::DatabaseTarget>> targets_;  // by set key; guarded by state_->mu
  std::map<std::string, std::map<std::string, HeldCleanup>> cleanups_;   // by set key, shard; guarded by state_->mu
  runtime::CounterFamily* connections_total_ = nullptr;
  runtime::CounterFamily* failures_total_ = nullptr;
  runtime::HistogramFamily* round_seconds_ = nullptr;
};

}  // namespace app
