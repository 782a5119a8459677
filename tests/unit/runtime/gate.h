// A latch a test opens by hand, for holding a thread at a known point:
//
//   runtime_test::Gate gate;
//   work.submit([&] { gate.pass(); ... });   // announces itself, then waits
//   gate.wait_entered();                      // the task is running now
//   ... assert on what happens meanwhile ...
//   gate.open();
#pragma once

#include <condition_variable>
#include <mutex>

namespace runtime_test {

class Gate {
 public:
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Blocks until open.
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }
  // Marks the gate entered, then blocks until open.
  void pass() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      entered_ = true;
      cv_.notify_all();
    }
    wait();
  }
  // Blocks until some thread is in pass().
  void wait_entered() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return entered_; });
  }

  // Opens the gate when a test returns early, before a thread it holds is joined.
  struct OpenOnExit {
    Gate& gate;
    ~OpenOnExit() { gate.open(); }
  };

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  bool entered_ = false;
};

}  // namespace runtime_test
