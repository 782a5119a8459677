// The queue between watch events and reconciles: keys ("namespace/name"),
// not objects, so a reconcile always reads the latest state from the store.
// client-go's rate-limited delaying workqueue semantics:
// - add() dedupes: a key waiting in the queue is there once.
// - A key is never handed to two workers at once: adding a key that is being
//   processed marks it dirty, and done() puts it back for one more run.
// - add_rate_limited() retries after the rate limiter's delay (by default
//   per-key 5 ms doubling to 1000 s, at most 10/s overall with burst 100);
//   forget() resets the key's backoff after a success.
// - add_after() re-adds a key once a delay has passed (RequeueAfter).
// - shutdown() stops handing out keys; shutdown_with_drain() also waits for
//   the keys being processed to be done().
//
//   runtime::WorkQueue queue("shardsets", clock);
//   while (auto key = queue.get()) {        // blocks; nullopt after shutdown
//     if (reconcile(*key)) queue.forget(*key); else queue.add_rate_limited(*key);
//     queue.done(*key);
//   }
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "runtime/clock.h"
#include "runtime/rate_limiter.h"

namespace runtime {

// Hooks for workqueue metrics (workqueue_depth, workqueue_adds_total,
// workqueue_retries_total, workqueue_queue_duration_seconds,
// workqueue_work_duration_seconds). Called with the queue's lock held: keep
// them cheap and do not call back into the queue.
class WorkQueueObserver {
 public:
  virtual ~WorkQueueObserver() = default;
  virtual void on_add() {}
  virtual void on_depth(size_t depth) {}
  virtual void on_retry() {}
  // From the time a key entered the queue until a worker got it.
  virtual void on_queue_latency(Duration waited) {}
  // From get() until done().
  virtual void on_work_duration(Duration worked) {}
};

// Keys handed out and not yet done(), as client-go's
// workqueue_unfinished_work_seconds (sum of their ages) and
// workqueue_longest_running_processor_seconds (the oldest) report them: a
// reconcile stuck on a hung call shows here long before it finishes.
struct UnfinishedWork {
  Duration total{};
  Duration longest{};
};

struct WorkQueueCounters {
  size_t depth = 0;      // keys ready to be handed out
  size_t waiting = 0;    // keys waiting for a delay (add_after, backoff)
  size_t in_flight = 0;  // keys handed out and not yet done()
  uint64_t adds_total = 0;
  uint64_t retries_total = 0;
};

class WorkQueue {
 public:
  // `limiter` null: default_controller_rate_limiter(clock).
  explicit WorkQueue(std::string name, Clock& clock = system_clock(),
                     std::unique_ptr<RateLimiter> limiter = nullptr,
                     std::shared_ptr<WorkQueueObserver> observer = nullptr);
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // All adds are ignored after shutdown.
  void add(const std::string& key);
  // Adds `key` once `delay` has passed; an earlier pending delay wins.
  void add_after(const std::string& key, Duration delay);
  // Adds `key` after the rate limiter's delay; counts a retry.
  void add_rate_limited(const std::string& key);
  // Resets the key's retry backoff.
  void forget(const std::string& key);
  int num_requeues(const std::string& key) const;

  // The next ready key, blocking until there is one; nullopt once shut down.
  // The caller owns the key until done(key).
  std::optional<std::string> get();
  // Like get() but returns nullopt at once when no key is ready.
  std::optional<std::string> try_get();
  void done(const std::string& key);

  void shutdown();
  // shutdown(), then waits until every handed-out key is done().
  void shutdown_with_drain();
  // Same, giving up after `timeout`; true when drained.
  bool shutdown_with_drain(Duration timeout);
  bool shutting_down() const;

  size_t len() const;  // depth
  WorkQueueCounters counters() const;
  UnfinishedWork unfinished_work() const;
  const std::string& name() const { return name_; }

 private:
  struct Delayed {
    TimePoint ready;
    uint64_t sequence;  // FIFO among equal ready times
    std::string key;
    bool operator>(const Delayed& other) const {
      return ready != other.ready ? ready > other.ready : sequence > other.sequence;
    }
  };

  void add_locked(const std::string& key, TimePoint now);
  void promote_due_locked(TimePoint now);
  std::string hand_out_locked(TimePoint now);

  const std::string name_;
  Clock& clock_;
  std::unique_ptr<RateLimiter> limiter_;
  std::shared_ptr<WorkQueueObserver> observer_;

  mutable std::mutex mu_;
  std::condition_variable ready_cv_;    // a key became ready, or shutdown
  std::condition_variable drained_cv_;  // a key was done()
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // needs a run (queued or processing)
  std::unordered_set<std::string> processing_;  // handed out, not done
  std::unordered_map<std::string, TimePoint> queued_at_;
  std::unordered_map<std::string, TimePoint> started_at_;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<Delayed>> delayed_;
  std::unordered_map<std::string, TimePoint> waiting_;  // key -> its earliest ready time
  uint64_t sequence_ = 0;
  bool shutting_down_ = false;
  uint64_t adds_total_ = 0;
  uint64_t retries_total_ = 0;
};

}  // namespace runtime
