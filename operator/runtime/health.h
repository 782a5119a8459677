// Liveness (/healthz) and readiness (/readyz) checks.
//
//   runtime::HealthChecks health;
//   health.add_readiness("informers", runtime::ready_when([&] { return informers.synced(); },
//                                                         "caches not synced"));
//   runtime::Heartbeat worker_beat(clock);            // workers call beat()
//   health.add_liveness("workers", runtime::heartbeat_check(
//       worker_beat, clock, std::chrono::minutes(5), [&] { return queue.size() > 0; }));
//   health.serve_on(probe_server);                    // GET /healthz, /readyz
//
// Readiness answers "may traffic and leadership rely on me yet" (caches
// synced); liveness answers "am I wedged" (a worker or watcher stopped making
// progress while it had work), and a failing liveness probe gets the pod
// restarted, so liveness checks must only fail on a real hang.
//
// Replies list every check like kube-apiserver's ?verbose output:
//   [+]informers ok
//   [-]workers failed: no heartbeat for 6m0s while work is pending
//   healthz check failed
// A failing /healthz answers 500 (as controller-runtime and kube-apiserver
// do); a failing /readyz answers 503 (issue 6: "503 before sync").
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "runtime/clock.h"
#include "runtime/http_server.h"

namespace runtime {

struct CheckResult {
  bool ok = true;
  std::string detail;  // why it failed; shown after "failed: "

  static CheckResult passed() { return {true, {}}; }
  static CheckResult failed(std::string why) { return {false, std::move(why)}; }
};

using HealthCheck = std::function<CheckResult()>;

// Proof of progress from one loop (a worker, a watcher). Thread-safe and
// cheap: beat() is one atomic store.
class Heartbeat {
 public:
  // Counts as a beat at construction, so a fresh process is not stale.
  explicit Heartbeat(Clock& clock);
  void beat();
  TimePoint last() const;
  // True when the last beat is more than `threshold` before `now`.
  bool stale(TimePoint now, Duration threshold) const;

 private:
  Clock& clock_;
  std::atomic<TimePoint::rep> last_;
};

// Passes while `ok()` returns true; otherwise fails with `failure_detail`.
HealthCheck ready_when(std::function<bool()> ok, std::string failure_detail);

// Fails when `heartbeat` is older than `threshold` while `work_pending()`
// says there is something to do. An idle loop (nothing queued, a watch with
// no events) is not stuck, however old its last beat.
HealthCheck heartbeat_check(const Heartbeat& heartbeat, Clock& clock, Duration threshold,
                            std::function<bool()> work_pending);

// "6m0s", "1.5s", "250ms": Go's time.Duration style, for check details.
std::string format_duration(Duration d);

class HealthChecks {
 public:
  // Names are shown in replies; add every check before serving.
  void add_liveness(std::string name, HealthCheck check);
  void add_readiness(std::string name, HealthCheck check);

  HttpReply healthz() const;  // 200, or 500 when a liveness check fails
  HttpReply readyz() const;   // 200, or 503 when a readiness check fails

  // Registers /healthz and /readyz on `server`. The handlers refer to this
  // object: stop the server before destroying it.
  void serve_on(HttpServer& server) const;

 private:
  using Named = std::pair<std::string, HealthCheck>;
  static HttpReply evaluate(const std::vector<Named>& checks, const char* endpoint,
                            int failure_status);

  mutable std::mutex mu_;
  std::vector<Named> liveness_;
  std::vector<Named> readiness_;
};

}  // namespace runtime
