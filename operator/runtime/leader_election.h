// Leader election on a coordination.k8s.io/v1 Lease, like client-go's
// leaderelection package: only the process holding the Lease runs workers.
//
//   runtime::ClientLeaseStore store(client, "electric-system", "electric-operator-leader");
//   runtime::LeaderElectionConfig config;
//   config.identity = pod_name + "_" + random_suffix;
//   runtime::LeaderCallbacks callbacks;
//   callbacks.on_started_leading = [&] { controller.start_workers(); };
//   callbacks.on_stopped_leading = [&] { controller.stop_workers(); };  // returns once stopped
//   callbacks.on_new_leader = [](const std::string& who) { spdlog::info("leader is {}", who); };
//   runtime::LeaderElector elector(config, store, callbacks);
//   elector.start();
//   ...                       // SIGTERM: drain workers first, then
//   elector.stop();           // stops renewing and releases the Lease
//
// The rules (client-go's, made stricter where noted):
// - A Lease held by another identity is taken over only once it has expired,
//   judged by OUR clock: leaseDurationSeconds after the moment we last saw
//   the record change (client-go's observedTime). Clocks of different
//   machines are never compared; renewTime is informational.
// - Writes use the resourceVersion read just before (optimistic concurrency):
//   of two candidates racing for an expired Lease one gets 409 and stays a
//   follower.
// - The leader renews every retry_period. If no renewal has succeeded for
//   renew_deadline (measured from the start of the last successful attempt,
//   which is never later than the server's write; client-go counts from the
//   first retry, retry_period later), on_stopped_leading runs;
//   renew_deadline < lease_duration leaves the margin in which the old
//   leader stops before anyone may take over (no two writers). A watchdog
//   thread enforces the deadline even while a Lease call hangs.
// - A leader that finds the Lease held by someone else stops at once.
// - stop() calls on_stopped_leading first, then releases the Lease
//   (holderIdentity "", leaseDurationSeconds 1, client-go's ReleaseOnCancel)
//   so a follower takes over at its next retry instead of waiting out the
//   lease duration.
// - After losing the Lease the elector is a candidate again and may lead
//   again later (on_started_leading runs once more). controller-runtime
//   exits the process instead; a caller wanting that can exit after
//   on_stopped_leading has stopped its workers.
//
// Callbacks run on the elector's threads, one at a time and in order
// (started, stopped, started, ...). on_started_leading must return promptly
// (start workers and return: renewals wait for it); on_stopped_leading
// should return only once workers have stopped writing. Callbacks must not
// call stop().
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "kube/result.h"
#include "runtime/clock.h"
#include "runtime/wall_time.h"

namespace kube {
class Client;
}

namespace runtime {

// The spec of a Lease as leader election uses it.
struct LeaseRecord {
  std::string holder_identity;  // "" = free
  int lease_duration_seconds = 0;
  std::string acquire_time;  // metav1.MicroTime text, informational
  std::string renew_time;    // metav1.MicroTime text, informational
  int lease_transitions = 0;

  bool operator==(const LeaseRecord& o) const {
    return holder_identity == o.holder_identity &&
           lease_duration_seconds == o.lease_duration_seconds &&
           acquire_time == o.acquire_time && renew_time == o.renew_time &&
           lease_transitions == o.lease_transitions;
  }
  bool operator!=(const LeaseRecord& o) const { return !(*this == o); }
};

struct ObservedLease {
  LeaseRecord record;
  std::string resource_version;
};

// The three calls leader election makes on its one Lease. Errors are
// kube::Error values: 404 from get when there is no Lease, 409 from create
// when one appeared meanwhile and from update when the resourceVersion is
// stale.
class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  virtual kube::Result<ObservedLease> get() = 0;
  virtual kube::Result<ObservedLease> create(const LeaseRecord& record) = 0;
  virtual kube::Result<ObservedLease> update(const LeaseRecord& record,
                                             const std::string& resource_version) = 0;
  // "namespace/name", for logs.
  virtual std::string describe() const = 0;
};

// LeaseStore over the API server (GET, POST, PUT on leases). Give it a
// kube::Client whose calls return well within renew_deadline (few retries,
// short timeouts): the watchdog keeps leadership safe when a call hangs, but
// a hung call also delays re-acquisition.
class ClientLeaseStore final : public LeaseStore {
 public:
  ClientLeaseStore(kube::Client& client, std::string ns, std::string name);
  kube::Result<ObservedLease> get() override;
  kube::Result<ObservedLease> create(const LeaseRecord& record) override;
  kube::Result<ObservedLease> update(const LeaseRecord& record,
                                     const std::string& resource_version) override;
  std::string describe() const override { return ns_ + "/" + name_; }

 private:
  kube::Client& client_;
  std::string ns_;
  std::string name_;
};

// The Lease object for `record` ("resourceVersion" only when not empty).
nlohmann::json lease_to_json(const std::string& ns, const std::string& name,
                             const LeaseRecord& record, const std::string& resource_version);
// Reads spec and metadata.resourceVersion; absent fields keep defaults.
ObservedLease lease_from_json(const nlohmann::json& lease);

struct LeaderElectionConfig {
  std::string identity;  // must be unique per process: pod name + "_" + random
  Duration lease_duration = std::chrono::seconds(15);
  Duration renew_deadline = std::chrono::seconds(10);
  Duration retry_period = std::chrono::seconds(2);
  // A candidate waits retry_period * (1 + jitter * u), u in [0, 1), so that
  // candidates do not poll in lock-step. client-go uses 1.2; 0.2 keeps the
  // worst-case takeover after a crash (about retry + lease + retry) under
  // 20 s with the default durations.
  double retry_jitter = 0.2;
  bool release_on_stop = true;
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  // The holder we observe changed to a non-empty identity (ours included).
  std::function<void(const std::string& identity)> on_new_leader;
};

class LeaderElector {
 public:
  // Throws std::invalid_argument when identity is empty or the durations do
  // not satisfy lease_duration > renew_deadline > retry_period > 0.
  LeaderElector(LeaderElectionConfig config, LeaseStore& store, LeaderCallbacks callbacks,
                Clock& clock = system_clock(), Random& random = system_random(),
                WallNow wall_now = system_wall_now);
  ~LeaderElector();  // stop()
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Starts the election thread and the renew-deadline watchdog.
  void start();
  // Stops renewing; if leading, runs on_stopped_leading; then releases the
  // Lease if we hold it and release_on_stop. Waits for a Lease call in
  // flight. Idempotent.
  void stop();

  bool is_leader() const;
  // The holder identity last observed ("" when none or unknown).
  std::string leader() const;

  // One round of the election loop, which start()'s thread runs: enforces
  // the renew deadline, then tries to acquire (as candidate) or renew (as
  // leader) when an attempt is due. Returns when the next round is due.
  // Public so tests can drive the election step by step with a FakeClock;
  // not to be mixed with start().
  TimePoint step();

 private:
  enum class Attempt { Ok, HeldByOther, Failed };
  Attempt try_acquire_or_renew();
  void observe(const ObservedLease& lease, TimePoint now);
  void become_leader(TimePoint attempt_start);
  // Ends term `term` (if still current); runs on_stopped_leading.
  void lose(uint64_t term, const std::string& why);
  void release();
  void run_loop();
  void run_watchdog();
  Duration jittered_retry();

  LeaderElectionConfig config_;
  LeaseStore& store_;
  LeaderCallbacks callbacks_;
  Clock& clock_;
  Random& random_;
  WallNow wall_now_;

  // Serialises callbacks and leadership transitions; taken before mu_.
  std::mutex transition_mu_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool leading_ = false;
  uint64_t term_ = 0;
  TimePoint renewed_at_{};   // start of the last successful acquire/renew
  TimePoint next_attempt_{}; // when step() next talks to the API server
  bool stopping_ = false;
  bool stopped_ = false;
  bool started_ = false;

  // Touched only by step() (one thread at a time) and stop() after joining.
  bool have_observed_ = false;
  ObservedLease observed_;
  TimePoint observed_time_{};
  std::string leader_;  // guarded by mu_

  std::thread loop_thread_;
  std::thread watchdog_thread_;
};

}  // namespace runtime
