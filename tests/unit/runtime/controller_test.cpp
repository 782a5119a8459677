// Controller wiring: events map to primary keys (own key, owner reference,
// label, custom mapping), reconcile results drive requeues and backoff, the
// leader gate parks workers, and stop drains in-flight work.
#include "runtime/controller.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/scripted_list_watcher.h"

namespace runtime_test {
namespace {

using runtime::Duration;
using runtime::ReconcileResult;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

json owned_by(const std::string& ns, const std::string& name, const std::string& rv,
              const std::string& owner, bool controller = true) {
  return object(ns, name, rv, json::object(),
                {{"metadata",
                  {{"ownerReferences", json::array({{{"apiVersion", "electric-operator.dev/v1alpha1"},
                                                     {"kind", "ElectricShardSet"},
                                                     {"name", owner},
                                                     {"uid", "uid-" + owner},
                                                     {"controller", controller}}})}}}});
}

runtime::Projection projection(json o) { return runtime::json_projection(std::move(o)); }

TEST(KeyMappers, OwnerReferenceOfTheGivenKindInTheObjectsNamespace) {
  auto mapper = runtime::map_by_owner_reference("ElectricShardSet", "electric-operator.dev");
  EXPECT_THAT(mapper(projection(owned_by("ns", "c", "1", "s1"))), ElementsAre("ns/s1"));
  EXPECT_THAT(mapper(projection(owned_by("ns", "c", "1", "s1", /*controller=*/false))),
              ElementsAre());
  EXPECT_THAT(runtime::map_by_owner_reference("ElectricShardSet", "", false)(
                  projection(owned_by("ns", "c", "1", "s1", false))),
              ElementsAre("ns/s1"));
  EXPECT_THAT(runtime::map_by_owner_reference("ElectricShardSet", "other.dev")(
                  projection(owned_by("ns", "c", "1", "s1"))),
              ElementsAre());
  EXPECT_THAT(runtime::map_by_owner_reference("Deployment")(projection(owned_by("ns", "c", "1", "s1"))),
              ElementsAre());
  EXPECT_THAT(mapper(projection(object("ns", "c", "1"))), ElementsAre());
}

TEST(KeyMappers, LabelNamingTheOwner) {
  auto mapper = runtime::map_by_label("electric-operator.dev/shard-set");
  EXPECT_THAT(mapper(projection(object("ns", "c", "1", {{"electric-operator.dev/shard-set", "s1"}}))),
              ElementsAre("ns/s1"));
  EXPECT_THAT(mapper(projection(object("ns", "c", "1", {{"other", "s1"}}))), ElementsAre());
  EXPECT_THAT(mapper(projection(object("ns", "c", "1", {{"electric-operator.dev/shard-set", ""}}))),
              ElementsAre());
}

// Scripted reconciler: per-key queues of answers (default Done); records
// every call with the fake time it happened at.
class FakeReconciler {
 public:
  explicit FakeReconciler(runtime::Clock& clock) : clock_(clock) {}
  runtime::Reconciler reconciler() {
    return [this](const std::string& key) {
      std::function<ReconcileResult()> answer;
      {
        std::lock_guard<std::mutex> guard(mu_);
        calls_.emplace_back(key, clock_.now());
        auto& scripted = answers_[key];
        if (!scripted.empty()) {
          answer = std::move(scripted.front());
          scripted.pop_front();
        }
      }
      return answer ? answer() : ReconcileResult::done();
    };
  }
  void script(const std::string& key, std::function<ReconcileResult()> answer) {
    std::lock_guard<std::mutex> guard(mu_);
    answers_[key].push_back(std::move(answer));
  }
  std::vector<std::string> keys() const {
    std::lock_guard<std::mutex> guard(mu_);
    std::vector<std::string> out;
    for (const auto& call : calls_) out.push_back(call.first);
    return out;
  }
  std::vector<runtime::TimePoint> times() const {
    std::lock_guard<std::mutex> guard(mu_);
    std::vector<runtime::TimePoint> out;
    for (const auto& call : calls_) out.push_back(call.second);
    return out;
  }
  size_t count() const {
    std::lock_guard<std::mutex> guard(mu_);
    return calls_.size();
  }

 private:
  runtime::Clock& clock_;
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, runtime::TimePoint>> calls_;
  std::map<std::string, std::deque<std::function<ReconcileResult()>>> answers_;
};

class ControllerTest : public ::testing::Test {
 protected:
  ControllerTest() {
    sets_source->add_list_page(page({object("ns", "s1", "1"), object("ns", "s2", "2")}, "10"));
    children_source->add_list_page(page({owned_by("ns", "c1", "3", "s1")}, "10"));
    secrets_source->add_list_page(page({object("ns", "creds", "4")}, "10"));
  }

  std::unique_ptr<runtime::Controller> make_controller(int workers = 1) {
    runtime::ControllerOptions options;
    options.name = "shardset";
    options.workers = workers;
    options.clock = &clock;
    auto controller = std::make_unique<runtime::Controller>(options, fake.reconciler());
    controller->watch_primary(sets);
    controller->watch(children, runtime::map_by_owner_reference("ElectricShardSet"));
    controller->watch(secrets, [](const runtime::Projection& secret) {
      // Stand-in for "the sets that reference this Secret".
      return std::vector<std::string>{"ns/s2"};
    });
    return controller;
  }

  // Waits until nothing is queued, waiting or running.
  bool idle(runtime::Controller& controller, size_t waiting = 0) {
    return eventually([&] {
      auto c = controller.queue().counters();
      return c.depth == 0 && c.in_flight == 0 && c.waiting == waiting;
    });
  }

  runtime::FakeClock clock;
  runtime::FakeRandom random{{0.0}};
  std::shared_ptr<ScriptedListWatcher> sets_source = std::make_shared<ScriptedListWatcher>();
  std::shared_ptr<ScriptedListWatcher> children_source = std::make_shared<ScriptedListWatcher>();
  std::shared_ptr<ScriptedListWatcher> secrets_source = std::make_shared<ScriptedListWatcher>();
  runtime::Informer sets{sets_source, {}, clock, random};
  runtime::Informer children{children_source, {}, clock, random};
  runtime::Informer secrets{secrets_source, {}, clock, random};
  FakeReconciler fake{clock};
};

TEST_F(ControllerTest, StartsAfterSyncAndMapsEveryWatchToPrimaryKeys) {
  auto controller = make_controller(2);
  ASSERT_TRUE(controller->start(std::chrono::seconds(60)));
  EXPECT_TRUE(sets.has_synced() && children.has_synced() && secrets.has_synced());
  ASSERT_TRUE(eventually([&] { return fake.count() == 2; }));
  ASSERT_TRUE(idle(*controller));
  EXPECT_THAT(fake.keys(), UnorderedElementsAre("ns/s1", "ns/s2")) << "initial events deduped";

  // A child moving from s1 to s2 wakes both owners.
  children_source->add_watch({{modified(owned_by("ns", "c1", "5", "s2"))}, std::nullopt});
  ASSERT_TRUE(eventually([&] { return fake.count() == 4; }));
  ASSERT_TRUE(idle(*controller));
  // A Secret change reaches the sets that use it through the custom mapping.
  secrets_source->add_watch({{modified(object("ns", "creds", "6"))}, std::nullopt});
  ASSERT_TRUE(eventually([&] { return fake.count() == 5; }));
  ASSERT_TRUE(idle(*controller));
  // A deleted primary still wakes its key (to clean up).
  sets_source->add_watch({{deleted(object("ns", "s1", "7"))}, std::nullopt});
  ASSERT_TRUE(eventually([&] { return fake.count() == 6; }));

  std::vector<std::string> keys = fake.keys();
  EXPECT_THAT(std::vector<std::string>(keys.begin() + 2, keys.begin() + 4),
              UnorderedElementsAre("ns/s1", "ns/s2"));
  EXPECT_EQ(keys[4], "ns/s2");
  EXPECT_EQ(keys[5], "ns/s1");
  EXPECT_TRUE(controller->stop(std::chrono::seconds(1)));
}

TEST_F(ControllerTest, ErrorsRetryWithGrowingBackoffAndSuccessForgets) {
  for (int i = 0; i < 3; ++i) fake.script("ns/s1", [] { return ReconcileResult::error("boom"); });
  auto controller = make_controller();
  ASSERT_TRUE(controller->start(std::chrono::seconds(60)));
  const runtime::TimePoint start = clock.now();
  size_t calls = 2;  // s1 (fails) and s2
  for (Duration step : {Duration(5ms), Duration(10ms), Duration(20ms)}) {
    ASSERT_TRUE(eventually([&] { return fake.count() == calls; }));
    ASSERT_TRUE(idle(*controller, /*waiting=*/1));
    ASSERT_TRUE(eventually([&] { return clock.blocked_threads() == 1; }));
    clock.advance(step - 1ms);
    std::this_thread::sleep_for(2ms);
    EXPECT_EQ(fake.count(), calls) << "not before its backoff";
    clock.advance(1ms);
    ++calls;
  }
  ASSERT_TRUE(eventually([&] { return fake.count() == calls; }));
  ASSERT_TRUE(idle(*controller));
  std::vector<runtime::TimePoint> s1_times;
  std::vector<std::string> keys = fake.keys();
  std::vector<runtime::TimePoint> times = fake.times();
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == "ns/s1") s1_times.push_back(times[i]);
  EXPECT_THAT(s1_times, ElementsAre(start, start + 5ms, start + 15ms, start + 35ms));
  EXPECT_EQ(controller->queue().num_requeues("ns/s1"), 0) << "Done forgets the backoff";
  EXPECT_EQ(controller->queue().counters().retries_total, 3u);
}

TEST_F(ControllerTest, RequeueAfterRunsTheKeyAgainAfterTheDelay) {
  fake.script("ns/s2", [] { return ReconcileResult::requeue(std::chrono::seconds(30)); });
  auto controller = make_controller();
  ASSERT_TRUE(controller->start(std::chrono::seconds(60)));
  ASSERT_TRUE(idle(*controller, /*waiting=*/1));
  ASSERT_TRUE(eventually([&] { return clock.blocked_threads() == 1; }));
  clock.advance(29s);
  std::this_thread::sleep_for(2ms);
  EXPECT_EQ(fake.count(), 2u);
  clock.advance(1s);
  ASSERT_TRUE(eventually([&] { return fake.count() == 3; }));
  EXPECT_EQ(fake.keys()[2], "ns/s2");
  EXPECT_EQ(controller->queue().counters().retries_total, 0u);
}

TEST_F(ControllerTest, AThrowingReconcileIsRetriedLikeAnError) {
  fake.script("ns/s1", []() -> ReconcileResult { throw std::runtime_error("bug"); });
  auto controller = make_controller();
  ASSERT_TRUE(controller->start(std::chrono::seconds(60)));
  ASSERT_TRUE(idle(*controller, /*waiting=*/1));
  EXPECT_EQ(controller->queue().num_requeues("ns/s1"), 1);
}

TEST_F(ControllerTest, WorkersWaitForLeadershipWhileQueueFills) {
  auto controller = make_controller(2);
  controller->set_leading(false);
  ASSERT_TRUE(controller->start(std::chrono::seconds(60)));
  std::this_thread::sleep_for(5ms);
  EXPECT_EQ(fake.count(), 0u);
  EXPECT_EQ(controller->queue().len(), 2u);
  controller->set_leading(true);
  ASSERT_TRUE(eventually([&] { return fake.count() == 2; }));
}

TEST_F(ControllerTest, StopLetsInFlightReconcilesFinish) {
  std::atomic<bool> release{false};
  std::atomic<bool> entered{false};
  fake.script("ns/s1", [&] {
    entered = true;
    while (!release) std::this_thread::sleep_for(100us);
    return ReconcileResult::done();
  });
  auto controller = make_controller(2);
  ASSERT_TRUE(controller->start(std::chrono::seconds(60)));
  ASSERT_TRUE(eventually([&] { return entered.load(); }));
  std::atomic<int> stopped{-1};
  std::thread stopper([&] { stopped = controller->stop(std::chrono::seconds(30)) ? 1 : 0; });
  std::this_thread::sleep_for(3ms);
  EXPECT_EQ(stopped.load(), -1) << "still draining";
  release = true;
  stopper.join();
  EXPECT_EQ(stopped.load(), 1);
  sets_source->add_watch({{modified(object("ns", "s1", "9"))}, std::nullopt});
  std::this_thread::sleep_for(3ms);
  std::vector<std::string> keys = fake.keys();
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "ns/s1"), 1) << "no reconcile after stop";
}

TEST_F(ControllerTest, StopGivesUpAfterGraceButTheDestructorStillJoins) {
  std::atomic<bool> release{false};
  std::atomic<bool> entered{false};
  fake.script("ns/s1", [&] {
    entered = true;
    while (!release) std::this_thread::sleep_for(100us);
    return ReconcileResult::done();
  });
  auto controller = make_controller();
  ASSERT_TRUE(controller->start(std::chrono::seconds(60)));
  ASSERT_TRUE(eventually([&] { return entered.load(); }));
  std::atomic<int> stopped{-1};
  std::thread stopper([&] { stopped = controller->stop(std::chrono::seconds(5)) ? 1 : 0; });
  ASSERT_TRUE(eventually([&] { return clock.blocked_threads() == 1; }));
  clock.advance(5s);
  stopper.join();
  EXPECT_EQ(stopped.load(), 0);
  release = true;
  controller.reset();
}

TEST_F(ControllerTest, StartFailsWhenAnInformerNeverSyncs) {
  runtime::FakeRandom r({0.0});
  auto never = std::make_shared<ScriptedListWatcher>();  // every list fails
  runtime::Informer stuck(never, {}, clock, r);
  auto controller = make_controller();
  controller->watch(stuck, runtime::map_by_label("x"));
  std::atomic<int> started{-1};
  std::thread starter([&] { started = controller->start(std::chrono::seconds(10)) ? 1 : 0; });
  // Parked: the starter waiting for sync and the stuck watcher in backoff.
  ASSERT_TRUE(eventually([&] { return sets.has_synced() && clock.blocked_threads() == 2; }));
  clock.advance(10s);
  starter.join();
  EXPECT_EQ(started.load(), 0);
  EXPECT_EQ(fake.count(), 0u);
  stuck.stop();
}

}  // namespace
}  // namespace runtime_test
