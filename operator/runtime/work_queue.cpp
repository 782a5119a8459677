#include "runtime/work_queue.h"

#include <algorithm>
#include <utility>

namespace runtime {

WorkQueue::WorkQueue(std::string name, Clock& clock, std::unique_ptr<RateLimiter> limiter,
                     std::shared_ptr<WorkQueueObserver> observer)
    : name_(std::move(name)),
      clock_(clock),
      limiter_(limiter ? std::move(limiter) : default_controller_rate_limiter(clock)),
      observer_(observer ? std::move(observer) : std::make_shared<WorkQueueObserver>()) {}

void WorkQueue::add(const std::string& key) {
  std::lock_guard<std::mutex> guard(mu_);
  if (shutting_down_) return;
  add_locked(key, clock_.now());
}

void WorkQueue::add_locked(const std::string& key, TimePoint now) {
  if (!dirty_.insert(key).second) return;  // already queued or due to re-run
  ++adds_total_;
  observer_->on_add();
  queued_at_.emplace(key, now);
  if (processing_.count(key)) return;  // done() will queue it
  queue_.push_back(key);
  observer_->on_depth(queue_.size());
  ready_cv_.notify_one();
}

void WorkQueue::add_after(const std::string& key, Duration delay) {
  std::lock_guard<std::mutex> guard(mu_);
  if (shutting_down_) return;
  const TimePoint now = clock_.now();
  if (delay <= Duration::zero()) {
    add_locked(key, now);
    return;
  }
  const TimePoint ready = now + delay;
  auto waiting = waiting_.find(key);
  if (waiting != waiting_.end() && waiting->second <= ready) return;
  // A later entry for the same key stays in the heap and is skipped when it
  // comes due (waiting_ no longer matches it).
  waiting_[key] = ready;
  delayed_.push(Delayed{ready, sequence_++, key});
  // A sleeping get() may now have an earlier deadline.
  ready_cv_.notify_all();
}

void WorkQueue::add_rate_limited(const std::string& key) {
  Duration delay = limiter_->when(key);
  {
    std::lock_guard<std::mutex> guard(mu_);
    if (shutting_down_) return;
    ++retries_total_;
    observer_->on_retry();
  }
  add_after(key, delay);
}

void WorkQueue::forget(const std::string& key) { limiter_->forget(key); }

int WorkQueue::num_requeues(const std::string& key) const { return limiter_->num_requeues(key); }

void WorkQueue::promote_due_locked(TimePoint now) {
  while (!delayed_.empty() && delayed_.top().ready <= now) {
    Delayed due = delayed_.top();
    delayed_.pop();
    auto waiting = waiting_.find(due.key);
    if (waiting == waiting_.end() || waiting->second != due.ready) continue;  // superseded
    waiting_.erase(waiting);
    add_locked(due.key, now);
  }
}

std::string WorkQueue::hand_out_locked(TimePoint now) {
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  observer_->on_depth(queue_.size());
  processing_.insert(key);
  dirty_.erase(key);
  auto queued = queued_at_.find(key);
  if (queued != queued_at_.end()) {
    observer_->on_queue_latency(now - queued->second);
    queued_at_.erase(queued);
  }
  started_at_[key] = now;
  return key;
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (shutting_down_) return std::nullopt;
    const TimePoint now = clock_.now();
    promote_due_locked(now);
    if (!queue_.empty()) return hand_out_locked(now);
    if (delayed_.empty()) {
      ready_cv_.wait(lock);
    } else {
      clock_.wait_until(ready_cv_, lock, delayed_.top().ready);
    }
  }
}

std::optional<std::string> WorkQueue::try_get() {
  std::lock_guard<std::mutex> guard(mu_);
  if (shutting_down_) return std::nullopt;
  const TimePoint now = clock_.now();
  promote_due_locked(now);
  if (queue_.empty()) return std::nullopt;
  return hand_out_locked(now);
}

UnfinishedWork WorkQueue::unfinished_work() const {
  std::lock_guard<std::mutex> guard(mu_);
  const TimePoint now = clock_.now();
  UnfinishedWork work;
  for (const auto& [key, started] : started_at_) {
    work.total += now - started;
    work.longest = std::max(work.longest, now - started);
  }
  return work;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard<std::mutex> guard(mu_);
  if (!processing_.erase(key)) return;
  auto started = started_at_.find(key);
  if (started != started_at_.end()) {
    observer_->on_work_duration(clock_.now() - started->second);
    started_at_.erase(started);
  }
  if (dirty_.count(key) && !shutting_down_) {
    queue_.push_back(key);
    observer_->on_depth(queue_.size());
    ready_cv_.notify_one();
  }
  drained_cv_.notify_all();
}

void WorkQueue::shutdown() {
  {
    std::lock_guard<std::mutex> guard(mu_);
    shutting_down_ = true;
  }
  ready_cv_.notify_all();
  drained_cv_.notify_all();
}

void WorkQueue::shutdown_with_drain() {
  shutdown();
  std::unique_lock<std::mutex> lock(mu_);
  drained_cv_.wait(lock, [&] { return processing_.empty(); });
}

bool WorkQueue::shutdown_with_drain(Duration timeout) {
  shutdown();
  std::unique_lock<std::mutex> lock(mu_);
  const TimePoint deadline = clock_.now() + timeout;
  while (!processing_.empty() && clock_.now() < deadline)
    clock_.wait_until(drained_cv_, lock, deadline);
  return processing_.empty();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard<std::mutex> guard(mu_);
  return shutting_down_;
}

size_t WorkQueue::len() const {
  std::lock_guard<std::mutex> guard(mu_);
  return queue_.size();
}

WorkQueueCounters WorkQueue::counters() const {
  std::lock_guard<std::mutex> guard(mu_);
  WorkQueueCounters counters;
  counters.depth = queue_.size();
  counters.waiting = waiting_.size();
  counters.in_flight = processing_.size();
  counters.adds_total = adds_total_;
  counters.retries_total = retries_total_;
  return counters;
}

}  // namespace runtime
