#include "runtime/leader_election.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/fake_clock.h"

namespace runtime {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

kube::Error api_error(int code, const char* reason) {
  return kube::Error{code, reason, "fake", std::nullopt};
}

// An in-memory Lease with the API server's rules: 404 when absent, 409 on
// create when present and on update with a stale resourceVersion.
class FakeLeaseStore final : public LeaseStore {
 public:
  kube::Result<ObservedLease> get() override {
    pass_gate();
    std::lock_guard<std::mutex> guard(mu_);
    ++gets;
    if (failing) return api_error(500, "InternalError");
    if (!lease_) return api_error(404, "NotFound");
    return *lease_;
  }

  kube::Result<ObservedLease> create(const LeaseRecord& record) override {
    pass_gate();
    run_hook(before_create);
    std::lock_guard<std::mutex> guard(mu_);
    ++creates;
    if (failing) return api_error(500, "InternalError");
    if (lease_) return api_error(409, "AlreadyExists");
    lease_ = ObservedLease{record, std::to_string(++rv_)};
    return *lease_;
  }

  kube::Result<ObservedLease> update(const LeaseRecord& record,
                                     const std::string& resource_version) override {
    pass_gate();
    run_hook(before_update);
    std::lock_guard<std::mutex> guard(mu_);
    ++updates;
    if (failing) return api_error(500, "InternalError");
    if (!lease_) return api_error(404, "NotFound");
    if (lease_->resource_version != resource_version) return api_error(409, "Conflict");
    lease_ = ObservedLease{record, std::to_string(++rv_)};
    return *lease_;
  }

  std::string describe() const override { return "ns/lease"; }

  // Writes the Lease as another process would.
  void put(const LeaseRecord& record) {
    std::lock_guard<std::mutex> guard(mu_);
    lease_ = ObservedLease{record, std::to_string(++rv_)};
  }
  std::optional<ObservedLease> current() {
    std::lock_guard<std::mutex> guard(mu_);
    return lease_;
  }
  std::string holder() {
    auto l = current();
    return l ? l->record.holder_identity : "<none>";
  }

  // While closed, every call blocks (a hung API server).
  void close_gate() {
    std::lock_guard<std::mutex> guard(gate_mu_);
    gate_open_ = false;
  }
  void open_gate() {
    {
      std::lock_guard<std::mutex> guard(gate_mu_);
      gate_open_ = true;
    }
    gate_cv_.notify_all();
  }
  int blocked_in_gate() {
    std::lock_guard<std::mutex> guard(gate_mu_);
    return blocked_;
  }

  std::atomic<bool> failing{false};
  std::atomic<int> gets{0}, creates{0}, updates{0};
  // Run once, just before the next create/update is judged (a racing writer).
  std::function<void(FakeLeaseStore&)> before_create, before_update;

 private:
  void run_hook(std::function<void(FakeLeaseStore&)>& hook) {
    std::function<void(FakeLeaseStore&)> once;
    {
      std::lock_guard<std::mutex> guard(mu_);
      once.swap(hook);
    }
    if (once) once(*this);
  }
  void pass_gate() {
    std::unique_lock<std::mutex> lock(gate_mu_);
    ++blocked_;
    gate_cv_.wait(lock, [&] { return gate_open_; });
    --blocked_;
  }

  std::mutex mu_;
  std::optional<ObservedLease> lease_;
  int rv_ = 0;
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool gate_open_ = true;
  int blocked_ = 0;
};

// One process's view of a shared store, with its own network trouble.
class FlakyStore final : public LeaseStore {
 public:
  explicit FlakyStore(LeaseStore& inner) : inner_(inner) {}
  kube::Result<ObservedLease> get() override {
    if (failing) return api_error(0, "TransportError");
    return inner_.get();
  }
  kube::Result<ObservedLease> create(const LeaseRecord& r) override {
    if (failing) return api_error(0, "TransportError");
    return inner_.create(r);
  }
  kube::Result<ObservedLease> update(const LeaseRecord& r, const std::string& rv) override {
    if (failing) return api_error(0, "TransportError");
    return inner_.update(r, rv);
  }
  std::string describe() const override { return inner_.describe(); }
  std::atomic<bool> failing{false};

 private:
  LeaseStore& inner_;
};

// What the callbacks saw, with the fake time of each.
struct Journal {
  explicit Journal(FakeClock& c) : clock(c) {}
  LeaderCallbacks callbacks(std::function<void()> on_stop = nullptr) {
    LeaderCallbacks cb;
    cb.on_started_leading = [this] { add("started"); };
    cb.on_stopped_leading = [this, on_stop] {
      if (on_stop) on_stop();
      add("stopped");
    };
    cb.on_new_leader = [this](const std::string& who) { add("leader:" + who); };
    return cb;
  }
  void add(const std::string& what) {
    std::lock_guard<std::mutex> guard(mu);
    entries.push_back(what);
    times.push_back(clock.now());
  }
  std::vector<std::string> list() {
    std::lock_guard<std::mutex> guard(mu);
    return entries;
  }
  std::optional<TimePoint> time_of(const std::string& what) {
    std::lock_guard<std::mutex> guard(mu);
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i] == what) return times[i];
    }
    return std::nullopt;
  }
  FakeClock& clock;
  std::mutex mu;
  std::vector<std::string> entries;
  std::vector<TimePoint> times;
};

LeaderElectionConfig config_for(const std::string& identity) {
  LeaderElectionConfig config;
  config.identity = identity;
  return config;
}

// Fixed wall time: these tests judge by the steady clock only.
WallNow fixed_wall() {
  return [] { return WallTimePoint(std::chrono::seconds(1700000000)); };
}

// Steps every elector each `tick` of fake time for `total`.
void run_for(FakeClock& clock, std::vector<LeaderElector*> electors, Duration total,
             Duration tick = milliseconds(100)) {
  TimePoint end = clock.now() + total;
  while (clock.now() < end) {
    for (LeaderElector* e : electors) e->step();
    clock.advance(tick);
  }
  for (LeaderElector* e : electors) e->step();
}

bool eventually(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return condition();
}

class LeaderElectionTest : public ::testing::Test {
 protected:
  FakeClock clock;
  FakeRandom no_jitter{{0.0}};
  FakeLeaseStore store;
};

TEST_F(LeaderElectionTest, AcquiresAMissingLeaseByCreatingIt) {
  Journal journal(clock);
  LeaderElector a(config_for("a"), store, journal.callbacks(), clock, no_jitter, fixed_wall());
  a.step();
  EXPECT_TRUE(a.is_leader());
  EXPECT_EQ(a.leader(), "a");
  EXPECT_EQ(journal.list(), (std::vector<std::string>{"leader:a", "started"}));
  auto lease = store.current();
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->record.holder_identity, "a");
  EXPECT_EQ(lease->record.lease_duration_seconds, 15);
  EXPECT_EQ(lease->record.lease_transitions, 0);
  EXPECT_EQ(lease->record.renew_time, "2023-11-14T22:13:20.000000Z");
}

TEST_F(LeaderElectionTest, AcquiresAReleasedLease) {
  store.put({"", 1, "t", "t", 3});
  Journal journal(clock);
  LeaderElector a(config_for("a"), store, journal.callbacks(), clock, no_jitter, fixed_wall());
  a.step();
  EXPECT_TRUE(a.is_leader());
  EXPECT_EQ(store.current()->record.lease_transitions, 4);
}

TEST_F(LeaderElectionTest, WaitsOutAFreshLeaseHeldByAnother) {
  store.put({"other", 15, "t", "t", 0});
  Journal journal(clock);
  LeaderElector a(config_for("a"), store, journal.callbacks(), clock, no_jitter, fixed_wall());
  TimePoint first_seen = clock.now();
  run_for(clock, {&a}, milliseconds(14900));
  EXPECT_FALSE(a.is_leader());
  EXPECT_EQ(a.leader(), "other");
  EXPECT_EQ(store.holder(), "other");
  EXPECT_EQ(store.updates.load(), 0);

  // Expired by our clock: 15 s after we first saw this record unchanged.
  run_for(clock, {&a}, seconds(3));
  EXPECT_TRUE(a.is_leader());
  EXPECT_GE(*journal.time_of("started"), first_seen + seconds(15));
  EXPECT_EQ(store.current()->record.lease_transitions, 1);
  EXPECT_EQ(journal.list(), (std::vector<std::string>{"leader:other", "leader:a", "started"}));
}

TEST_F(LeaderElectionTest, AnotherLeadersRenewalsKeepItsLeaseValid) {
  store.put({"other", 15, "t", "r0", 0});
  Journal journal(clock);
  LeaderElector a(config_for("a"), store, journal.callbacks(), clock, no_jitter, fixed_wall());
  for (int i = 1; i <= 10; ++i) {
    run_for(clock, {&a}, seconds(5));
    store.put({"other", 15, "t", "r" + std::to_string(i), 0});  // the holder renews
  }
  EXPECT_FALSE(a.is_leader());
  EXPECT_EQ(store.holder(), "other");
}

TEST_F(LeaderElectionTest, LeaderRenewsEveryRetryPeriod) {
  Journal journal(clock);
  LeaderElector a(config_for("a"), store, journal.callbacks(), clock, no_jitter, fixed_wall());
  a.step();
  ASSERT_TRUE(a.is_leader());
  run_for(clock, {&a}, milliseconds(10050));
  EXPECT_EQ(store.updates.load(), 5);  // at 2, 4, 6, 8, 10 s
  EXPECT_TRUE(a.is_leader());
  EXPECT_EQ(store.current()->record.lease_transitions, 0);
  EXPECT_EQ(journal.list(), (std::vector<std::string>{"leader:a", "started"}));
}

TEST_F(LeaderElectionTest, RenewFailurePastDeadlineStopsBeforeAnotherCanLead) {
  FlakyStore a_net(store);
  Journal a_journal(clock), b_journal(clock);
  LeaderElector a(config_for("a"), a_net, a_journal.callbacks(), clock, no_jitter, fixed_wall());
  LeaderElector b(config_for("b"), store, b_journal.callbacks(), clock, no_jitter, fixed_wall());
  TimePoint t0 = clock.now();
  a.step();
  b.step();
  ASSERT_TRUE(a.is_leader());
  ASSERT_FALSE(b.is_leader());

  a_net.failing = true;  // a cannot reach the API server any more
  run_for(clock, {&a, &b}, seconds(30));

  auto a_stopped = a_journal.time_of("stopped");
  auto b_started = b_journal.time_of("started");
  ASSERT_TRUE(a_stopped);
  ASSERT_TRUE(b_started);
  EXPECT_LE(*a_stopped, t0 + seconds(10) + milliseconds(100));  // the renew deadline
  EXPECT_GE(*b_started, t0 + seconds(15));                     // the lease duration
  EXPECT_LT(*a_stopped, *b_started);                           // never two leaders
  EXPECT_FALSE(a.is_leader());
  EXPECT_TRUE(b.is_leader());
}

TEST_F(LeaderElectionTest, LeaderThatFindsAnotherHolderStopsAtOnce) {
  Journal journal(clock);
  LeaderElector a(config_for("a"), store, journal.callbacks(), clock, no_jitter, fixed_wall());
  a.step();
  ASSERT_TRUE(a.is_leader());
  store.put({"intruder", 15, "t", "t", 1});
  run_for(clock, {&a}, milliseconds(2050));
  EXPECT_FALSE(a.is_leader());
  EXPECT_EQ(journal.list(),
            (std::vector<std::string>{"leader:a", "started", "leader:intruder", "stopped"}));
}

TEST_F(LeaderElectionTest, ConflictOnUpdateLosesTheRaceGracefully) {
  store.put({"old", 15, "t", "t", 0});
  Journal journal(clock);
  LeaderElector a(config_for("a"), store, journal.callbacks(), clock, no_jitter, fixed_wall());
  a.step();  // observes "old"
  clock.advance(seconds(16));
  // Between our read and our write another candidate takes the expired lease.
  store.before_update = [](FakeLeaseStore& s) { s.put({"racer", 15, "t", "t", 1}); };
  EXPECT_NO_THROW(a.step());
  EXPECT_FALSE(a.is_leader());
  EXPECT_EQ(store.holder(), "racer");
  // Next round it sees the racer's fresh lease and waits.
  run_for(clock, {&a}, seconds(5));
  EXPECT_FALSE(a.is_leader());
  EXPECT_EQ(a.leader(), "racer");
  EXPECT_FALSE(journal.time_of("started").has_value());
}

TEST_F(LeaderElectionTest, ConflictOnCreateLosesTheRaceGracefully) {
  Journal journal(clock);
  LeaderElector a(config_for("a"), store, journal.callbacks(), clock, no_jitter, fixed_wall());
  store.before_create = [](FakeLeaseStore& s) { s.put({"racer", 15, "t", "t", 0}); };
  a.step();
  EXPECT_FALSE(a.is_leader());
  EXPECT_EQ(store.holder(), "racer");
}

TEST_F(LeaderElectionTest, StopStopsWorkFirstThenReleasesForAFastTakeover) {
  Journal a_journal(clock), b_journal(clock);
  std::string holder_when_stopping;
  LeaderElector a(config_for("a"), store,
                  a_journal.callbacks([&] { holder_when_stopping = store.holder(); }), clock,
                  no_jitter, fixed_wall());
  LeaderElector b(config_for("b"), store, b_journal.callbacks(), clock, no_jitter, fixed_wall());
  a.step();
  b.step();
  run_for(clock, {&a, &b}, seconds(5));
  ASSERT_TRUE(a.is_leader());

  a.stop();
  EXPECT_FALSE(a.is_leader());
  EXPECT_EQ(holder_when_stopping, "a") << "workers stop while the lease is still ours";
  auto lease = store.current();
  EXPECT_EQ(lease->record.holder_identity, "");
  EXPECT_EQ(lease->record.lease_duration_seconds, 1);
  EXPECT_EQ(lease->record.lease_transitions, 0);

  TimePoint released = clock.now();
  run_for(clock, {&b}, milliseconds(2100));  // one retry period, not a lease duration
  EXPECT_TRUE(b.is_leader());
  EXPECT_LE(*b_journal.time_of("started"), released + milliseconds(2100));
  EXPECT_EQ(store.current()->record.lease_transitions, 1);
}

TEST_F(LeaderElectionTest, FollowerStopLeavesTheLeaseAlone) {
  store.put({"other", 15, "t", "t", 0});
  Journal journal(clock);
  LeaderElector a(config_for("a"), store, journal.callbacks(), clock, no_jitter, fixed_wall());
  a.step();
  int updates = store.updates.load();
  a.stop();
  EXPECT_EQ(store.updates.load(), updates);
  EXPECT_EQ(store.holder(), "other");
  EXPECT_FALSE(journal.time_of("stopped").has_value());
}

TEST_F(LeaderElectionTest, CandidateRetriesAfterErrors) {
  store.failing = true;
  Journal journal(clock);
  LeaderElector a(config_for("a"), store, journal.callbacks(), clock, no_jitter, fixed_wall());
  run_for(clock, {&a}, seconds(5));
  EXPECT_FALSE(a.is_leader());
  EXPECT_EQ(store.gets.load(), 3);  // at 0, 2, 4 s
  store.failing = false;
  run_for(clock, {&a}, seconds(2));
  EXPECT_TRUE(a.is_leader());
}

TEST_F(LeaderElectionTest, CandidateRetryIsJittered) {
  store.put({"other", 15, "t", "t", 0});
  FakeRandom half{{0.5}};
  LeaderElectionConfig config = config_for("a");
  config.retry_jitter = 1.0;
  LeaderElector a(config, store, {}, clock, half, fixed_wall());
  TimePoint t0 = clock.now();
  EXPECT_EQ(a.step(), t0 + seconds(3));  // 2 s * (1 + 1.0 * 0.5)
}

TEST_F(LeaderElectionTest, RejectsBadConfig) {
  LeaderElectionConfig empty;
  EXPECT_THROW(LeaderElector(empty, store, {}, clock), std::invalid_argument);
  LeaderElectionConfig inverted = config_for("a");
  inverted.renew_deadline = seconds(20);
  EXPECT_THROW(LeaderElector(inverted, store, {}, clock), std::invalid_argument);
}

TEST_F(LeaderElectionTest, ThreadsAcquireRenewAndRelease) {
  Journal journal(clock);
  LeaderElector a(config_for("a"), store, journal.callbacks(), clock, no_jitter, fixed_wall());
  a.start();
  ASSERT_TRUE(eventually([&] { return a.is_leader(); }));
  for (int i = 1; i <= 3; ++i) {
    clock.advance(seconds(2));
    ASSERT_TRUE(eventually([&] { return store.updates.load() == i; })) << i;
  }
  EXPECT_TRUE(a.is_leader());
  a.stop();
  EXPECT_EQ(store.holder(), "");
  EXPECT_EQ(journal.list(), (std::vector<std::string>{"leader:a", "started", "stopped"}));
}

TEST_F(LeaderElectionTest, WatchdogStopsLeadingWhileACallHangs) {
  Journal journal(clock);
  LeaderElector a(config_for("a"), store, journal.callbacks(), clock, no_jitter, fixed_wall());
  TimePoint t0 = clock.now();
  a.start();
  ASSERT_TRUE(eventually([&] { return a.is_leader(); }));

  store.close_gate();
  clock.advance(seconds(2));  // the renewal starts and hangs
  ASSERT_TRUE(eventually([&] { return store.blocked_in_gate() == 1; }));
  // Time runs well past the bound below, so a watchdog that never fires, or
  // fires late, fails the bound instead of the loop ending first.
  for (int i = 0; i < 30 && a.is_leader(); ++i) {
    clock.advance(seconds(1));
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_TRUE(eventually([&] { return !a.is_leader(); }));
  EXPECT_EQ(store.blocked_in_gate(), 1) << "stopped while the call still hangs";
  EXPECT_LE(*journal.time_of("stopped"), t0 + seconds(11));

  store.open_gate();
  a.stop();
  auto list = journal.list();
  ASSERT_GE(list.size(), 3u);
  EXPECT_EQ(list[1], "started");
  EXPECT_EQ(list[2], "stopped");
}

TEST(LeaseJson, RoundTrips) {
  LeaseRecord record{"pod-1_ab12", 15, "2024-01-01T00:00:00.000000Z",
                     "2024-01-01T00:00:10.000000Z", 2};
  nlohmann::json lease = lease_to_json("ns", "lock", record, "42");
  EXPECT_EQ(lease["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(lease["kind"], "Lease");
  EXPECT_EQ(lease["metadata"]["name"], "lock");
  EXPECT_EQ(lease["metadata"]["namespace"], "ns");
  EXPECT_EQ(lease["metadata"]["resourceVersion"], "42");
  EXPECT_EQ(lease["spec"]["holderIdentity"], "pod-1_ab12");
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 15);
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 2);
  ObservedLease back = lease_from_json(lease);
  EXPECT_EQ(back.record, record);
  EXPECT_EQ(back.resource_version, "42");

  EXPECT_FALSE(lease_to_json("ns", "lock", record, "")["metadata"].contains("resourceVersion"));
  ObservedLease empty = lease_from_json(nlohmann::json::parse(R"({"metadata":{},"spec":null})"));
  EXPECT_EQ(empty.record, LeaseRecord{});
}

}  // namespace
}  // namespace runtime
