// Informer: the store follows the watcher exactly (relist deletes included),
// handlers see (old, new) pairs, late handlers get a replay.
#include "runtime/informer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/object_key.h"
#include "runtime/scripted_list_watcher.h"

namespace runtime_test {
namespace {

using ::testing::ElementsAre;

constexpr const char* kSetLabel = "electric-operator.dev/shard-set";

class HandlerLog {
 public:
  runtime::EventHandler handler() {
    return [this](const runtime::Projection& old_object, const runtime::Projection& new_object) {
      auto describe = [](const runtime::Projection& o) {
        if (!o) return std::string("-");
        return o->meta.key() + "@" + o->meta.resource_version;
      };
      std::lock_guard<std::mutex> guard(mu_);
      lines_.push_back(describe(old_object) + " -> " + describe(new_object));
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> guard(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

class InformerTest : public ::testing::Test {
 protected:
  InformerTest() { clock.set_auto_advance(true); }
  runtime::InformerOptions options() {
    runtime::InformerOptions o;
    o.projector = runtime::fields_projector({"/data/value"});
    o.indexed_label_keys = {kSetLabel};
    return o;
  }
  runtime::FakeClock clock;
  runtime::FakeRandom random{{0.0}};
  std::shared_ptr<ScriptedListWatcher> source = std::make_shared<ScriptedListWatcher>(&clock);
  HandlerLog handled;
};

TEST_F(InformerTest, StoreAndHandlersFollowListWatchAndRelist) {
  source->add_list_page(page({object("ns", "a", "5", {{kSetLabel, "s1"}}),
                              object("ns", "b", "6", {{kSetLabel, "s1"}}),
                              object("ns", "c", "7")},
                             "10"));
  source->add_watch({{modified(object("ns", "a", "11", {{kSetLabel, "s2"}})),
                      deleted(object("ns", "b", "12", {{kSetLabel, "s1"}}))},
                     api_error(410, "Expired")});
  source->add_list_page(page({object("ns", "a", "11", {{kSetLabel, "s2"}}),
                              object("ns", "d", "20", {{kSetLabel, "s1"}})},
                             "21"));
  runtime::Informer informer(source, options(), clock, random);
  informer.add_handler(handled.handler());
  EXPECT_FALSE(informer.has_synced());
  informer.start();
  // (wait_for_sync would time out at once: this clock jumps to deadlines.)
  ASSERT_TRUE(source->wait_idle_in_watch(2));
  EXPECT_TRUE(informer.has_synced());

  EXPECT_THAT(handled.lines(),
              ElementsAre("- -> ns/a@5", "- -> ns/b@6", "- -> ns/c@7", "ns/a@5 -> ns/a@11",
                          "ns/b@6 -> -", "- -> ns/d@20", "ns/c@7 -> -"));
  const runtime::Store& store = informer.store();
  EXPECT_TRUE(store.synced());
  EXPECT_THAT(store.keys(), ElementsAre("ns/a", "ns/d"));
  EXPECT_EQ(store.list_by_label(kSetLabel, "s1", "ns").size(), 1u);
  EXPECT_EQ(store.list_by_label(kSetLabel, "s2", "ns").size(), 1u);
  EXPECT_FALSE(runtime::json_of(store.get("ns/a")).contains("data")) << "projection, not the whole object";
  informer.stop();
}

TEST_F(InformerTest, LateHandlerGetsTheCurrentContentsReplayed) {
  source->add_list_page(page({object("ns", "a", "5"), object("ns", "b", "6")}, "10"));
  clock.set_auto_advance(false);
  runtime::Informer informer(source, options(), clock, random);
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(std::chrono::seconds(60)));
  informer.add_handler(handled.handler());
  EXPECT_THAT(handled.lines(), ElementsAre("- -> ns/a@5", "- -> ns/b@6"));
}

TEST_F(InformerTest, WaitForSyncTimesOutOnTheInjectedClock) {
  clock.set_auto_advance(false);
  // No list page: the first list fails and the watcher backs off forever on
  // a clock that does not move.
  runtime::Informer informer(source, options(), clock, random);
  informer.start();
  std::atomic<int> synced{-1};
  std::thread waiter([&] { synced = informer.wait_for_sync(std::chrono::seconds(30)) ? 1 : 0; });
  ASSERT_TRUE(eventually([&] { return clock.blocked_threads() == 2; }));
  clock.advance(std::chrono::seconds(30));
  waiter.join();
  EXPECT_EQ(synced.load(), 0);
  EXPECT_FALSE(informer.has_synced());
  EXPECT_GE(informer.status().consecutive_failures, 1);
  informer.stop();
  EXPECT_FALSE(informer.wait_for_sync(std::chrono::hours(1))) << "returns at once once stopped";
}

}  // namespace
}  // namespace runtime_test
