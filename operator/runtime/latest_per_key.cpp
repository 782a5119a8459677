#include "runtime/latest_per_key.h"

#include <algorithm>
#include <exception>
#include <iterator>

#include <spdlog/spdlog.h>

namespace runtime {

LatestPerKey::LatestPerKey(size_t threads) {
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

LatestPerKey::~LatestPerKey() { stop(); }

void LatestPerKey::submit(const std::string& key, std::string token, Task task) {
  if (threads_.empty()) {
    task();
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return;
  Slot& slot = slots_[key];
  const bool was_waiting = static_cast<bool>(slot.queued);
  slot.queued_token = std::move(token);
  slot.queued = std::move(task);
  // A key already in ready_ stays there once; a running key is put back by
  // the worker that finishes it.
  if (!was_waiting && !slot.running) ready_.push_back(key);
  changed_.notify_all();
}

bool LatestPerKey::holds(const std::string& key, const std::string& token) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(key);
  if (it == slots_.end()) return false;
  const Slot& slot = it->second;
  return (slot.queued && slot.queued_token == token) || (slot.running && slot.running_token == token);
}

bool LatestPerKey::busy(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(key);
  return it != slots_.end() && (it->second.queued || it->second.running);
}

void LatestPerKey::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = slots_.find(key);
  if (it == slots_.end()) return;
  it->second.queued = nullptr;
  ready_.erase(std::remove(ready_.begin(), ready_.end(), key), ready_.end());
  if (!it->second.running) slots_.erase(it);
  changed_.notify_all();
}

void LatestPerKey::forget_all() {
  std::lock_guard<std::mutex> lock(mu_);
  forget_all_locked();
}

void LatestPerKey::forget_all_locked() {
  ready_.clear();
  for (auto it = slots_.begin(); it != slots_.end();) {
    it->second.queued = nullptr;
    it = it->second.running ? std::next(it) : slots_.erase(it);
  }
  changed_.notify_all();
}

void LatestPerKey::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    forget_all_locked();
  }
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
}

void LatestPerKey::wait_idle() const {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [this] {
    return std::none_of(slots_.begin(), slots_.end(),
                        [](const auto& entry) { return entry.second.running || entry.second.queued; });
  });
}

void LatestPerKey::work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
    if (stopping_) return;
    const std::string key = ready_.front();
    ready_.pop_front();
    Slot& slot = slots_[key];
    Task task = std::move(slot.queued);
    slot.queued = nullptr;
    slot.running_token = std::move(slot.queued_token);
    slot.running = true;
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("a background task of {} threw: {}", key, e.what());
    }
    lock.lock();
    Slot& done = slots_[key];
    done.running = false;
    done.running_token.clear();
    if (done.queued && !stopping_) ready_.push_back(key);
    else if (!done.queued) slots_.erase(key);
    changed_.notify_all();
  }
}

}  // namespace runtime
