#include "runtime/event_recorder.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/fake_clock.h"

namespace runtime {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

struct SinkCall {
  std::string verb;  // "create" | "patch"
  std::string ns;
  std::string name;
  nlohmann::json body;
};

class FakeEventSink final : public EventSink {
 public:
  kube::Result<nlohmann::json> create(const std::string& ns, const nlohmann::json& event) override {
    std::lock_guard<std::mutex> guard(mu_);
    calls.push_back({"create", ns, event["metadata"]["name"].get<std::string>(), event});
    if (throw_next) {
      throw_next = false;
      throw std::runtime_error("sink exploded");
    }
    if (fail_creates) return kube::Error{500, "InternalError", "etcd down", std::nullopt};
    return event;
  }
  kube::Result<nlohmann::json> patch(const std::string& ns, const std::string& name,
                                     const nlohmann::json& merge_patch) override {
    std::lock_guard<std::mutex> guard(mu_);
    calls.push_back({"patch", ns, name, merge_patch});
    if (patch_not_found) return kube::Error{404, "NotFound", "gone", std::nullopt};
    return merge_patch;
  }
  std::vector<SinkCall> take() {
    std::lock_guard<std::mutex> guard(mu_);
    std::vector<SinkCall> out;
    out.swap(calls);
    return out;
  }

  bool fail_creates = false;
  bool patch_not_found = false;
  bool throw_next = false;

 private:
  std::mutex mu_;
  std::vector<SinkCall> calls;
};

class EventRecorderTest : public ::testing::Test {
 protected:
  EventRecorderTest() : start_(clock.now()) {}

  // Wall time moves with the fake clock, from 2023-11-14T22:13:20Z.
  WallNow wall() {
    return [this] {
      return WallTimePoint(seconds(1700000000)) +
             std::chrono::duration_cast<WallTimePoint::duration>(clock.now() - start_);
    };
  }
  EventRecorderOptions options() {
    EventRecorderOptions o;
    o.component = "electric-operator";
    o.instance = "electric-operator-7d9f-abcde";
    return o;
  }

  FakeClock clock;
  TimePoint start_;
  FakeEventSink sink;
  ObjectReference set{"electric-operator.dev/v1alpha1", "ElectricShardSet", "prod", "myapp",
                      "uid-1"};
};

TEST_F(EventRecorderTest, FirstRecordCreatesAFullEvent) {
  EventRecorder events(sink, options(), clock, wall());
  events.record(set, EventType::Warning, "ShardFailed", "shard 3: connection refused");
  auto calls = sink.take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].verb, "create");
  EXPECT_EQ(calls[0].ns, "prod");
  const nlohmann::json& e = calls[0].body;
  EXPECT_EQ(e["apiVersion"], "v1");
  EXPECT_EQ(e["kind"], "Event");
  EXPECT_EQ(e["metadata"]["namespace"], "prod");
  EXPECT_EQ(e["metadata"]["name"], "myapp.17979cfe362a0000");  // name.<unix nanos hex>
  EXPECT_EQ(e["involvedObject"],
            nlohmann::json::parse(R"({"apiVersion":"electric-operator.dev/v1alpha1",
              "kind":"ElectricShardSet","namespace":"prod","name":"myapp","uid":"uid-1"})"));
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["reason"], "ShardFailed");
  EXPECT_EQ(e["message"], "shard 3: connection refused");
  EXPECT_EQ(e["count"], 1);
  EXPECT_EQ(e["firstTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(e["lastTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(e["source"]["component"], "electric-operator");
  EXPECT_EQ(e["source"]["host"], "electric-operator-7d9f-abcde");
  EXPECT_EQ(e["reportingComponent"], "electric-operator");
  EXPECT_EQ(e["reportingInstance"], "electric-operator-7d9f-abcde");
}

TEST_F(EventRecorderTest, IdenticalRecordsAggregateIntoOneWritePerMinute) {
  EventRecorder events(sink, options(), clock, wall());
  for (int i = 0; i < 100; ++i) {
    events.record(set, EventType::Warning, "ShardFailed", "shard 3: connection refused");
    clock.advance(std::chrono::milliseconds(300));  // 100 records within 30 s
  }
  auto calls = sink.take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].verb, "create");
  std::string name = calls[0].name;

  clock.set_now(start_ + seconds(61));
  events.record(set, EventType::Warning, "ShardFailed", "shard 3: connection refused");
  calls = sink.take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].verb, "patch");
  EXPECT_EQ(calls[0].ns, "prod");
  EXPECT_EQ(calls[0].name, name);
  EXPECT_EQ(calls[0].body, nlohmann::json::parse(
                               R"({"count":101,"lastTimestamp":"2023-11-14T22:14:21Z"})"));

  // The next minute's records again make one write.
  for (int i = 0; i < 10; ++i) events.record(set, EventType::Warning, "ShardFailed",
                                             "shard 3: connection refused");
  EXPECT_TRUE(sink.take().empty());
  EXPECT_EQ(events.tracked(), 1u);
}

TEST_F(EventRecorderTest, FlushWritesBumpedCountsOnceDue) {
  EventRecorder events(sink, options(), clock, wall());
  for (int i = 0; i < 5; ++i) events.record(set, EventType::Normal, "Scaled", "3 shards");
  sink.take();
  events.flush();
  EXPECT_TRUE(sink.take().empty()) << "not yet a minute";
  clock.advance(seconds(61));
  events.flush();
  auto calls = sink.take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].verb, "patch");
  EXPECT_EQ(calls[0].body["count"], 5);
  clock.advance(seconds(61));
  events.flush();
  EXPECT_TRUE(sink.take().empty()) << "nothing new to write";
}

TEST_F(EventRecorderTest, DifferentMessagesReasonsOrObjectsAreSeparateEvents) {
  EventRecorder events(sink, options(), clock, wall());
  ObjectReference other = set;
  other.name = "other";
  other.uid = "uid-2";
  events.record(set, EventType::Warning, "ShardFailed", "shard 3: connection refused");
  events.record(set, EventType::Warning, "ShardFailed", "shard 4: connection refused");
  events.record(set, EventType::Warning, "ShardDegraded", "shard 3: connection refused");
  events.record(set, EventType::Normal, "ShardFailed", "shard 3: connection refused");
  events.record(other, EventType::Warning, "ShardFailed", "shard 3: connection refused");
  auto calls = sink.take();
  ASSERT_EQ(calls.size(), 5u);
  std::vector<std::string> names;
  for (const auto& c : calls) {
    EXPECT_EQ(c.verb, "create");
    names.push_back(c.name);
  }
  for (size_t i = 0; i < names.size(); ++i) {
    for (size_t j = i + 1; j < names.size(); ++j) EXPECT_NE(names[i], names[j]);
  }
  EXPECT_EQ(names[4].rfind("other.", 0), 0u);
  EXPECT_EQ(events.tracked(), 5u);
}

TEST_F(EventRecorderTest, SinkErrorsNeverThrowAndAreRetriedAfterTheInterval) {
  EventRecorder events(sink, options(), clock, wall());
  sink.fail_creates = true;
  EXPECT_NO_THROW(events.record(set, EventType::Warning, "ShardFailed", "x"));
  EXPECT_NO_THROW(events.record(set, EventType::Warning, "ShardFailed", "x"));
  EXPECT_EQ(sink.take().size(), 1u) << "a failing API server gets one write per minute";

  sink.fail_creates = false;
  clock.advance(seconds(61));
  events.record(set, EventType::Warning, "ShardFailed", "x");
  auto calls = sink.take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].verb, "create") << "never created, so create again";
  EXPECT_EQ(calls[0].body["count"], 3);
  EXPECT_EQ(calls[0].body["firstTimestamp"], "2023-11-14T22:13:20Z");
}

TEST_F(EventRecorderTest, ThrowingSinkIsContained) {
  EventRecorder events(sink, options(), clock, wall());
  sink.throw_next = true;
  EXPECT_NO_THROW(events.record(set, EventType::Warning, "ShardFailed", "x"));
  // The entry is not left "in flight" forever.
  clock.advance(seconds(61));
  events.record(set, EventType::Warning, "ShardFailed", "x");
  EXPECT_EQ(sink.take().size(), 2u);
}

TEST_F(EventRecorderTest, VanishedEventIsCreatedAgain) {
  EventRecorder events(sink, options(), clock, wall());
  events.record(set, EventType::Warning, "ShardFailed", "x");
  std::string first = sink.take()[0].name;
  clock.advance(seconds(61));
  sink.patch_not_found = true;
  events.record(set, EventType::Warning, "ShardFailed", "x");
  auto calls = sink.take();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].verb, "patch");
  EXPECT_EQ(calls[1].verb, "create");
  EXPECT_NE(calls[1].name, first);
  EXPECT_EQ(calls[1].body["count"], 2);
  std::string recreated = calls[1].name;

  sink.patch_not_found = false;
  clock.advance(seconds(61));
  events.record(set, EventType::Warning, "ShardFailed", "x");
  calls = sink.take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].verb, "patch");
  EXPECT_EQ(calls[0].name, recreated);
}

TEST_F(EventRecorderTest, ForgetsEntriesUnseenForTenMinutes) {
  EventRecorder events(sink, options(), clock, wall());
  events.record(set, EventType::Warning, "ShardFailed", "old");
  clock.advance(minutes(11));
  events.record(set, EventType::Warning, "ShardFailed", "new");
  EXPECT_EQ(events.tracked(), 1u);
  sink.take();
  events.record(set, EventType::Warning, "ShardFailed", "old");
  auto calls = sink.take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].verb, "create");
  EXPECT_EQ(calls[0].body["count"], 1);
}

TEST_F(EventRecorderTest, KeepsAtMostMaxTrackedEntries) {
  EventRecorderOptions o = options();
  o.max_tracked = 3;
  EventRecorder events(sink, o, clock, wall());
  for (size_t i = 0; i < 20; ++i) {
    events.record(set, EventType::Normal, "Tick", "message " + std::to_string(i));
    EXPECT_EQ(events.tracked(), std::min<size_t>(i + 1, 3)) << "after event " << i;
    clock.advance(seconds(1));
  }
}

TEST_F(EventRecorderTest, ClusterScopedObjectsReportInDefault) {
  EventRecorder events(sink, options(), clock, wall());
  ObjectReference ns_object{"v1", "Namespace", "", "prod", "uid-ns"};
  events.record(ns_object, EventType::Normal, "Seen", "x");
  auto calls = sink.take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].ns, "default");
  EXPECT_FALSE(calls[0].body["involvedObject"].contains("namespace"));
}

TEST_F(EventRecorderTest, LongMessagesAreCutOnACharacterBoundary) {
  EventRecorderOptions o = options();
  o.max_message_bytes = 5;
  EventRecorder events(sink, o, clock, wall());
  events.record(set, EventType::Normal, "Long", "abcd\xC3\xA9xyz");  // "abcdéxyz"
  auto calls = sink.take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].body["message"], "abcd");
}

TEST_F(EventRecorderTest, ConcurrentRecordsCreateOnce) {
  EventRecorder events(sink, options(), clock, wall());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) events.record(set, EventType::Warning, "ShardFailed", "x");
    });
  }
  for (auto& t : threads) t.join();
  auto calls = sink.take();
  ASSERT_EQ(calls.size(), 1u);
  clock.advance(seconds(61));
  events.flush();
  calls = sink.take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].body["count"], 800);
}

}  // namespace
}  // namespace runtime
