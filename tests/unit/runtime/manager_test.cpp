#include "runtime/manager.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/fake_clock.h"
#include "runtime/gate.h"

namespace runtime {
namespace {

using runtime_test::Gate;

using std::chrono::milliseconds;
using std::chrono::seconds;

// Polls `condition` for up to 10 s of real time.
bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

// What the runnables did, in order, from whichever thread.
class Journal {
 public:
  void note(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.push_back(what);
  }
  std::vector<std::string> entries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_;
  }
  bool has(const std::string& what) const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::find(entries_.begin(), entries_.end(), what) != entries_.end();
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> entries_;
};

// The exit codes the manager asked for; shared, since a thread that asks
// may outlive the test's frame.
struct Exits {
  std::mutex mu;
  std::vector<int> codes;
  std::vector<int> taken() {
    std::lock_guard<std::mutex> lock(mu);
    return codes;
  }
};

ExitFunction recording(const std::shared_ptr<Exits>& exits) {
  return [exits](int code) {
    std::lock_guard<std::mutex> lock(exits->mu);
    exits->codes.push_back(code);
  };
}

Runnable noting(Journal& journal, const std::string& name, bool leader_gated = false) {
  Runnable r;
  r.name = name;
  r.leader_gated = leader_gated;
  r.start = [&journal, name] {
    journal.note("start " + name);
    return kube::ok();
  };
  r.stop = [&journal, name] {
    journal.note("stop " + name);
    return true;
  };
  return r;
}

// Runs `manager` on a thread. If a test's assertion returns early, the
// destructor stops the manager rather than wait for a stop never asked for.
class Background {
 public:
  explicit Background(Manager& manager) : manager_(manager), thread_([this] { code_ = manager_.run(); }) {}
  ~Background() {
    if (!thread_.joinable()) return;
    manager_.request_stop(0);
    thread_.join();
  }
  int join() {
    thread_.join();
    return code_;
  }

 private:
  Manager& manager_;
  std::atomic<int> code_{-1};
  std::thread thread_;
};

struct ManagerTest : ::testing::Test {
  ManagerOptions options() {
    ManagerOptions o;
    o.exit = recording(exits);
    return o;
  }
  std::shared_ptr<Exits> exits = std::make_shared<Exits>();
  Journal journal;
};

TEST_F(ManagerTest, StartsInOrderThenLeaderGatedAndStopsInReverse) {
  Manager manager(options());
  manager.add(noting(journal, "servers"));
  manager.add(noting(journal, "workers", /*leader_gated=*/true));
  manager.add(noting(journal, "caches"));
  manager.add(noting(journal, "elector"));
  std::thread stopper([&] {
    ASSERT_TRUE(eventually([&] { return journal.has("start workers"); }));
    manager.request_stop(0);
  });
  EXPECT_EQ(manager.run(), 0);
  stopper.join();
  EXPECT_EQ(journal.entries(),
            (std::vector<std::string>{"start servers", "start caches", "start elector", "start workers",
                                      "stop workers", "stop elector", "stop caches", "stop servers"}));
  EXPECT_TRUE(exits->taken().empty());
}

TEST_F(ManagerTest, LeaderGatedRunnablesRunOnlyWhileLeadingAndLosingItExits) {
  ManagerOptions o = options();
  o.leader_election = true;
  Manager manager(o);
  manager.add(noting(journal, "caches"));
  manager.add(noting(journal, "workers", true));
  Background run(manager);
  ASSERT_TRUE(eventually([&] { return journal.has("start caches"); }));
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(journal.has("start workers")) << "a follower runs no workers";
  EXPECT_FALSE(manager.leading());

  manager.set_leading(true);
  ASSERT_TRUE(eventually([&] { return journal.has("start workers"); }));
  manager.set_leading(false);
  EXPECT_TRUE(journal.has("stop workers"));
  const int code = run.join();
  // Lost outside a shutdown: the process exits, and the stop that follows
  // (reached only because this exit returns) stops only what still runs.
  EXPECT_EQ(exits->taken(), std::vector<int>{kAbandonedExitCode});
  EXPECT_EQ(code, kAbandonedExitCode);
  EXPECT_EQ(journal.entries(),
            (std::vector<std::string>{"start caches", "start workers", "stop workers", "stop caches"}));
}

TEST_F(ManagerTest, LeadershipBeforeTheCachesSyncStartsWorkersOnlyOnceTheyHave) {
  ManagerOptions o = options();
  o.leader_election = true;
  Manager manager(o);
  Gate synced;
  Runnable caches = noting(journal, "caches");
  caches.start = [&] {
    synced.wait();
    journal.note("caches synced");
    return kube::ok();
  };
  caches.stop = [&] {
    journal.note("stop caches");
    synced.open();
    return true;
  };
  manager.add(caches);
  manager.add(noting(journal, "workers", true));
  Background run(manager);
  manager.set_leading(true);
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(journal.has("start workers"));
  synced.open();
  ASSERT_TRUE(eventually([&] { return journal.has("start workers"); }));
  manager.request_stop(0);
  EXPECT_EQ(run.join(), 0);
  EXPECT_EQ(journal.entries(),
            (std::vector<std::string>{"caches synced", "start workers", "stop workers", "stop caches"}));
}

TEST_F(ManagerTest, LosingLeadershipWhileStoppingDoesNotExit) {
  ManagerOptions o = options();
  o.leader_election = true;
  Manager manager(o);
  manager.add(noting(journal, "workers", true));
  // The elector's stop ends leadership, as LeaderElector::stop does.
  Runnable elector = noting(journal, "elector");
  elector.stop = [&] {
    manager.set_leading(false);
    journal.note("stop elector");
    return true;
  };
  manager.add(elector);
  Background run(manager);
  ASSERT_TRUE(eventually([&] { return journal.has("start elector"); }));
  manager.set_leading(true);
  ASSERT_TRUE(eventually([&] { return journal.has("start workers"); }));
  manager.request_stop(0);
  EXPECT_EQ(run.join(), 0);
  EXPECT_TRUE(exits->taken().empty());
  EXPECT_EQ(journal.entries(),
            (std::vector<std::string>{"start elector", "start workers", "stop workers", "stop elector"}));
}

TEST_F(ManagerTest, AFailedStartStopsWhatStartedWithExitCodeOne) {
  Manager manager(options());
  manager.add(noting(journal, "metrics server"));
  Runnable probes = noting(journal, "probe server");
  probes.start = [&] {
    journal.note("start probe server");
    return kube::Done(kube::Error(0, "AddressInUse", "cannot serve health probes on :8081: in use"));
  };
  manager.add(probes);
  manager.add(noting(journal, "caches"));
  manager.add(noting(journal, "workers", true));
  EXPECT_EQ(manager.run(), kStartFailedExitCode);
  // The failed one is stopped too: a start may leave something half-open.
  EXPECT_EQ(journal.entries(), (std::vector<std::string>{"start metrics server", "start probe server",
                                                         "stop probe server", "stop metrics server"}));
  EXPECT_TRUE(exits->taken().empty());
}

TEST_F(ManagerTest, AStartMayStopTheManagerWithItsOwnCodeAndTheFirstRequestWins) {
  Manager manager(options());
  Runnable caches = noting(journal, "caches");
  caches.start = [&] {
    manager.request_stop(3);
    manager.request_stop(0);
    return kube::ok();
  };
  manager.add(caches);
  EXPECT_EQ(manager.run(), 3);
  EXPECT_TRUE(manager.stopping());
}

TEST_F(ManagerTest, AStopUnblocksTheStartInProgressBeforeEarlierRunnablesStop) {
  Manager manager(options());
  manager.add(noting(journal, "servers"));
  Gate stopped;
  Runnable caches;
  caches.name = "caches";
  caches.start = [&] {
    journal.note("start caches");
    stopped.wait();  // never syncs
    journal.note("caches start returned");
    return kube::Done(kube::Error(0, "NotSynced", "the caches had not synced when asked to stop"));
  };
  caches.stop = [&] {
    journal.note("stop caches");
    stopped.open();
    return true;
  };
  manager.add(caches);
  manager.add(noting(journal, "elector"));
  std::thread stopper([&] {
    ASSERT_TRUE(eventually([&] { return journal.has("start caches"); }));
    manager.request_stop(0);
  });
  EXPECT_EQ(manager.run(), 0) << "a start that fails because of the stop is no failure";
  stopper.join();
  EXPECT_EQ(journal.entries(), (std::vector<std::string>{"start servers", "start caches", "stop caches",
                                                         "caches start returned", "stop servers"}));
}

TEST_F(ManagerTest, AStopThatAbandonsWorkExitsAtOnceWithoutStoppingEarlierRunnables) {
  Manager manager(options());
  manager.add(noting(journal, "elector"));
  Runnable controller = noting(journal, "controller");
  controller.drains = true;
  controller.start = [&] {
    manager.request_stop(0);
    return kube::ok();
  };
  controller.stop = [&] {
    journal.note("drain timed out");
    return false;
  };
  manager.add(controller);
  EXPECT_EQ(manager.run(), kAbandonedExitCode);
  EXPECT_EQ(exits->taken(), std::vector<int>{kAbandonedExitCode});
  EXPECT_FALSE(journal.has("stop elector")) << "the Lease must stay held";
}

TEST_F(ManagerTest, TheDeadlineExitsWhenACleanupStopHangsPastItsBudget) {
  FakeClock clock;
  ManagerOptions o = options();
  o.clock = &clock;
  o.grace_period = seconds(10);
  o.cleanup_budget = seconds(5);
  Manager manager(o);
  Gate release;
  Runnable elector = noting(journal, "elector");
  elector.stop = [&] {
    journal.note("stop elector");
    release.wait();  // a Lease release the API server never answers
    return true;
  };
  manager.add(elector);
  Runnable controller = noting(journal, "controller");
  controller.drains = true;
  controller.stop = [&] {
    clock.advance(seconds(8));  // a drain that took 8 of its 10 s
    journal.note("drained");
    return true;
  };
  controller.start = [&] {
    manager.request_stop(0);
    return kube::ok();
  };
  manager.add(controller);
  Background run(manager);
  Gate::OpenOnExit unblock{release};
  ASSERT_TRUE(eventually([&] { return journal.has("stop elector"); }));
  // 8 s into the stop, the cleanup's 5 s run from the end of the drain.
  clock.advance(seconds(4));
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_TRUE(exits->taken().empty()) << "4 s after the drain, within the budget";
  clock.advance(seconds(1));
  ASSERT_TRUE(eventually([&] { return !exits->taken().empty(); }));
  EXPECT_EQ(exits->taken(), std::vector<int>{0}) << "a clean stop's code";
  release.open();
  EXPECT_EQ(run.join(), 0);
}

TEST_F(ManagerTest, TheDeadlineCoversAHungDrainWithGraceAndCleanup) {
  FakeClock clock;
  ManagerOptions o = options();
  o.clock = &clock;
  o.grace_period = seconds(10);
  o.cleanup_budget = seconds(5);
  Manager manager(o);
  Gate release;
  Runnable controller = noting(journal, "controller");
  controller.drains = true;
  controller.stop = [&] {
    journal.note("draining");
    release.wait();
    return true;
  };
  manager.add(controller);
  Runnable failing = noting(journal, "caches");
  failing.start = [] { return kube::Done(kube::Error(0, "NotSynced", "caches did not sync")); };
  manager.add(failing);
  Background run(manager);
  Gate::OpenOnExit unblock{release};
  ASSERT_TRUE(eventually([&] { return journal.has("draining"); }));
  clock.advance(seconds(14));
  std::this_thread::sleep_for(milliseconds(30));
  EXPECT_TRUE(exits->taken().empty());
  clock.advance(seconds(1));
  ASSERT_TRUE(eventually([&] { return !exits->taken().empty(); }));
  EXPECT_EQ(exits->taken(), std::vector<int>{kStartFailedExitCode}) << "the stop's own code";
  release.open();
  EXPECT_EQ(run.join(), kStartFailedExitCode);
}

TEST_F(ManagerTest, TicksRunEveryIntervalUntilTheStop) {
  FakeClock clock;
  ManagerOptions o = options();
  o.clock = &clock;
  Manager manager(o);
  std::atomic<int> ticks{0};
  manager.every(seconds(30), [&] { ++ticks; });
  manager.add(noting(journal, "events"));
  Background run(manager);
  // run() waits on the clock for the first tick (the starter never does).
  ASSERT_TRUE(eventually([&] { return journal.has("start events") && clock.blocked_threads() == 1; }));
  clock.advance(seconds(29));
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(ticks.load(), 0);
  clock.advance(seconds(1));
  ASSERT_TRUE(eventually([&] { return ticks.load() == 1; }));
  clock.advance(seconds(30));
  ASSERT_TRUE(eventually([&] { return ticks.load() == 2; }));
  manager.request_stop(0);
  EXPECT_EQ(run.join(), 0);
  clock.advance(seconds(60));
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(ticks.load(), 2);
}

// Signals go to the whole process, so these run in a child process of
// their own (the death-test machinery re-executes the binary for them).
class ManagerSignalTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// Exit codes the child chooses, so the parent tells them from a crash.
constexpr int kExitBase = 40;

[[noreturn]] void exit_child(int code) { std::_Exit(kExitBase + code); }

TEST_F(ManagerSignalTest, TheFirstSignalStopsCleanly) {
  EXPECT_EXIT(
      {
        block_shutdown_signals();
        ManagerOptions o;
        o.handle_signals = true;
        o.exit = exit_child;
        Manager manager(o);
        Runnable r;
        r.name = "signaller";
        r.start = [] {
          ::kill(::getpid(), SIGTERM);
          return kube::ok();
        };
        r.stop = [] { return true; };
        manager.add(r);
        exit_child(10 + manager.run());
      },
      ::testing::ExitedWithCode(kExitBase + 10), "");
}

TEST_F(ManagerSignalTest, TheSignalThreadOutlivesTheManagerSafelyAndASecondSignalExits) {
  EXPECT_EXIT(
      {
        block_shutdown_signals();
        {
          ManagerOptions o;
          o.handle_signals = true;
          o.exit = exit_child;
          Manager manager(o);
          manager.request_stop(0);  // as a failed cache sync would, no signal
          if (manager.run() != 0) exit_child(20);
        }
        // The manager and this frame's scope are gone; the thread still
        // waits. ASan reports (exit code 1) any use of freed state.
        ::kill(::getpid(), SIGTERM);
        std::this_thread::sleep_for(milliseconds(100));
        ::kill(::getpid(), SIGTERM);
        std::this_thread::sleep_for(seconds(10));
        exit_child(30);
      },
      ::testing::ExitedWithCode(kExitBase + kAbandonedExitCode), "");
}

}  // namespace
}  // namespace runtime
