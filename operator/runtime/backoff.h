// Jittered exponential backoff that starts over after a quiet period, for
// retrying a failing watch without hammering a struggling API server and
// without thousands of watches reconnecting in lock-step.
//
//   runtime::Backoff backoff({}, clock, random);   // 800 ms doubling to 30 s
//   Duration delay = backoff.next();               // after each failure
//
// Semantics follow kube-rs's default watcher backoff (ResetTimerBackoff over
// an exponential backoff): when no failure happened for `reset_after`, the
// next failure starts again from `initial`.
#pragma once

#include <chrono>

#include "runtime/clock.h"

namespace runtime {

struct BackoffPolicy {
  Duration initial = std::chrono::milliseconds(800);
  double factor = 2.0;
  Duration max = std::chrono::seconds(30);  // cap of the un-jittered delay
  // The delay is base * (1 + jitter * u), u uniform in [0, 1): jitter only
  // lengthens, so the first retry is never sooner than `initial`.
  double jitter = 0.5;
  Duration reset_after = std::chrono::minutes(2);
};

class Backoff {
 public:
  Backoff(BackoffPolicy policy, Clock& clock, Random& random);

  // The delay to wait after a failure that happens now.
  Duration next();
  // Forget past failures (e.g. a healthy period observed by the caller).
  void reset();
  // Failures counted since the last reset.
  int failures() const { return failures_; }

 private:
  BackoffPolicy policy_;
  Clock& clock_;
  Random& random_;
  int failures_ = 0;
  TimePoint last_failure_{};
};

}  // namespace runtime
