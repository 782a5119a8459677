#include "runtime/manager.h"

#include <string.h>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include <spdlog/spdlog.h>

namespace runtime {

// The stop request, shared with the signal thread.
struct Manager::StopState {
  std::mutex mu;
  std::condition_variable cv;
  bool requested = false;  // guarded by mu
  int exit_code = 0;       // guarded by mu
  ExitFunction exit;       // set before any thread sees this

  void request(int code) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (requested) return;
      requested = true;
      exit_code = code;
    }
    cv.notify_all();
  }
};

namespace {

void flush_and_exit(int code) {
  spdlog::default_logger()->flush();
  std::_Exit(code);
}

long long whole_seconds(Duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

// Waits for the first shutdown signal, then for a second one. Detached: it
// may still wait after the manager and run()'s caller have returned (a stop
// that did not come from a signal), so it holds nothing but `state`.
void take_signals(std::shared_ptr<Manager::StopState> state) {
  const sigset_t signals = shutdown_signals();
  int sig = 0;
  if (sigwait(&signals, &sig) != 0) return;
  spdlog::info("received {}, shutting down (a second signal exits at once)", strsignal(sig));
  state->request(0);
  if (sigwait(&signals, &sig) != 0) return;
  spdlog::warn("second signal: exiting now");
  state->exit(kAbandonedExitCode);
}

}  // namespace

sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

void block_shutdown_signals() {
  const sigset_t set = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// Ends the process with the stop's exit code once the stop outlasts its
// budget. Owned by stop_all()'s frame, which joins its thread.
class Manager::Deadline {
 public:
  Deadline(Clock& clock, ExitFunction exit, int code, Duration budget)
      : clock_(clock), exit_(std::move(exit)), code_(code), budget_(budget), at_(clock.now() + budget) {
    thread_ = std::thread([this] { watch(); });
  }
  ~Deadline() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // The stop now waits for `name`, which the warning names if time runs out.
  void stopping(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = name;
  }
  // The drain is over: what is left gets `budget` from now.
  void drained(Duration budget) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      budget_ = budget;
      at_ = clock_.now() + budget;
      after_drain_ = true;
    }
    cv_.notify_all();
  }

 private:
  void watch() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!done_) {
      if (clock_.now() < at_) {
        clock_.wait_until(cv_, lock, at_);
        continue;
      }
      const std::string what = current_.empty() ? "" : " (stopping " + current_ + "; an API call hangs?)";
      if (after_drain_) {
        spdlog::warn("shutdown did not finish within {}s of the drain{}; exiting now", whole_seconds(budget_),
                     what);
      } else {
        spdlog::warn("shutdown did not finish within {}s{}; exiting now", whole_seconds(budget_), what);
      }
      lock.unlock();
      exit_(code_);
      return;
    }
  }

  Clock& clock_;
  const ExitFunction exit_;
  const int code_;
  std::mutex mu_;
  std::condition_variable cv_;
  Duration budget_;           // guarded by mu_
  TimePoint at_;              // guarded by mu_
  bool after_drain_ = false;  // guarded by mu_
  std::string current_;       // guarded by mu_
  bool done_ = false;         // guarded by mu_
  std::thread thread_;
};

Manager::Manager(ManagerOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : system_clock()),
      stop_(std::make_shared<StopState>()) {
  if (!options_.exit) options_.exit = flush_and_exit;
  stop_->exit = options_.exit;
  leading_ = !options_.leader_election;
}

Manager::~Manager() {
  if (starter_.joinable()) starter_.join();
}

void Manager::add(Runnable runnable) {
  if (!runnable.start || !runnable.stop) throw std::invalid_argument("runnable " + runnable.name + " needs start and stop");
  entries_.push_back(Entry{std::move(runnable)});
}

void Manager::every(Duration interval, std::function<void()> tick) {
  if (interval <= Duration::zero()) throw std::invalid_argument("a tick interval must be positive");
  ticks_.push_back(Tick{interval, std::move(tick)});
}

int Manager::run() {
  if (options_.handle_signals) std::thread(take_signals, stop_).detach();
  starter_ = std::thread([this] { start_ungated(); });
  wait_for_stop_request();
  const int code = stop_all();
  spdlog::info("stopped");
  return code;
}

void Manager::request_stop(int exit_code) { stop_->request(exit_code); }

bool Manager::stopping() const {
  std::lock_guard<std::mutex> lock(stop_->mu);
  return stop_->requested;
}

void Manager::set_leading(bool leading) {
  bool lost = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lost = leading_ && !leading;
    leading_ = leading;
  }
  if (!update_gated(nullptr)) {
    abandon();
    return;
  }
  if (lost && !stopping()) {
    spdlog::error("leader election lost; exiting");
    options_.exit(kAbandonedExitCode);
    request_stop(kAbandonedExitCode);  // reached only when `exit` returns (tests)
  }
}

bool Manager::leading() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leading_;
}

std::vector<Manager::Entry*> Manager::entries(bool leader_gated) {
  std::vector<Entry*> out;
  for (Entry& entry : entries_)
    if (entry.runnable.leader_gated == leader_gated) out.push_back(&entry);
  return out;
}

void Manager::start_failed(const std::string& message) {
  if (stopping()) {
    spdlog::warn("{}", message);
    return;
  }
  spdlog::error("{}", message);
  request_stop(kStartFailedExitCode);
}

void Manager::start_ungated() {
  for (Entry* entry : entries(false)) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      entry->phase = Phase::Starting;
    }
    const kube::Done started = entry->runnable.start();
    {
      std::lock_guard<std::mutex> lock(mu_);
      entry->phase = Phase::Started;
    }
    if (!started.ok()) {
      start_failed(started.error().message);
      return;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    all_started_ = true;
  }
  if (!update_gated(nullptr)) abandon();
}

bool Manager::update_gated(Deadline* deadline) {
  std::lock_guard<std::mutex> gate(gate_mu_);
  bool want = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    want = all_started_ && leading_ && !stopping_;
  }
  if (want == gated_running_) return true;
  gated_running_ = want;
  std::vector<Entry*> gated = entries(true);
  if (want) {
    for (Entry* entry : gated) {
      entry->phase = Phase::Started;  // stopped even if its start fails
      const kube::Done started = entry->runnable.start();
      if (!started.ok()) {
        start_failed(started.error().message);
        break;
      }
    }
    return true;
  }
  for (auto it = gated.rbegin(); it != gated.rend(); ++it) {
    Entry& entry = **it;
    if (entry.phase == Phase::Idle) continue;
    entry.phase = Phase::Idle;
    if (deadline) deadline->stopping(entry.runnable.name);
    if (!entry.runnable.stop()) return false;
  }
  return true;
}

void Manager::wait_for_stop_request() {
  std::vector<TimePoint> due;
  for (const Tick& tick : ticks_) due.push_back(clock_.now() + tick.interval);
  std::unique_lock<std::mutex> lock(stop_->mu);
  while (!stop_->requested) {
    if (ticks_.empty()) {
      stop_->cv.wait(lock);
      continue;
    }
    const TimePoint next = *std::min_element(due.begin(), due.end());
    if (clock_.now() < next) {
      clock_.wait_until(stop_->cv, lock, next);
      continue;
    }
    for (size_t i = 0; i < ticks_.size() && !stop_->requested; ++i) {
      if (clock_.now() < due[i]) continue;
      due[i] = clock_.now() + ticks_[i].interval;
      // Unlocked: a slow tick (an API call) must not hold up a stop request.
      lock.unlock();
      ticks_[i].fn();
      lock.lock();
    }
  }
}

int Manager::stop_all() {
  int code = 0;
  {
    std::lock_guard<std::mutex> lock(stop_->mu);
    code = stop_->exit_code;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  const bool drains = std::any_of(entries_.begin(), entries_.end(),
                                  [](const Entry& entry) { return entry.runnable.drains; });
  Deadline deadline(clock_, options_.exit, code,
                    (drains ? options_.grace_period : Duration::zero()) + options_.cleanup_budget);
  bool clean = update_gated(&deadline);
  std::vector<Entry*> ungated = entries(false);
  for (auto it = ungated.rbegin(); clean && it != ungated.rend(); ++it) {
    Entry& entry = **it;
    Phase phase = Phase::Idle;
    {
      std::lock_guard<std::mutex> lock(mu_);
      phase = entry.phase;
    }
    if (phase == Phase::Idle) continue;
    deadline.stopping(entry.runnable.name);
    clean = entry.runnable.stop();
    // Its start returns now; the starter then sees stopping_ and ends, so
    // the runnables before it are stopped only after it has fully returned.
    if (phase == Phase::Starting && starter_.joinable()) starter_.join();
    if (clean && entry.runnable.drains) deadline.drained(options_.cleanup_budget);
  }
  if (!clean) {
    abandon();
    code = kAbandonedExitCode;  // reached only when `exit` returns (tests)
  }
  if (starter_.joinable()) starter_.join();
  return code;
}

void Manager::abandon() { options_.exit(kAbandonedExitCode); }

}  // namespace runtime
