// Work per key, run off the caller's thread, where only the newest task of a
// key matters (a status write): at most one task of a key runs at a time, and
// a task submitted while an older one of its key still waits replaces it.
// Tasks of different keys run side by side on the pool's threads.
//
//   runtime::LatestPerKey writes(2);
//   writes.submit("prod/myapp", digest, [=] { patch status; });
//   if (writes.holds("prod/myapp", digest)) ...;  // that write is queued or running
//
// With zero threads, submit runs the task at once on the caller's thread
// (for tests that want writes in order with their calls).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace runtime {

class LatestPerKey {
 public:
  using Task = std::function<void()>;

  explicit LatestPerKey(size_t threads);
  ~LatestPerKey();  // stop()
  LatestPerKey(const LatestPerKey&) = delete;
  LatestPerKey& operator=(const LatestPerKey&) = delete;

  // Queues `task` for `key`, replacing a queued one; `token` names what it
  // does, for holds().
  void submit(const std::string& key, std::string token, Task task);
  // True while a task of `key` submitted with `token` is queued or running.
  bool holds(const std::string& key, const std::string& token) const;
  // True while any task of `key` is queued or running.
  bool busy(const std::string& key) const;
  // Drops `key`'s queued task (a running one finishes).
  void forget(const std::string& key);
  // Drops every queued task.
  void forget_all();
  // Waits for the running tasks, drops the queued ones, joins the threads;
  // later submits are dropped.
  void stop();
  // Blocks until no task is queued or running (tests).
  void wait_idle() const;

 private:
  struct Slot {
    std::string queued_token;
    Task queued;  // empty: none
    std::string running_token;
    bool running = false;
  };
  void work();
  void forget_all_locked();

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::map<std::string, Slot> slots_;
  std::deque<std::string> ready_;  // keys with a queued task and none running
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace runtime
