// The list+watch state machine against a scripted API: paging, resumption
// from the last delivered resourceVersion, 410 in both forms, relist
// differences, backoff and clean stop.
#include "runtime/watcher.h"

#include <memory>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/scripted_list_watcher.h"

namespace runtime_test {
namespace {

using runtime::Duration;
using ::testing::ElementsAre;

class WatcherTest : public ::testing::Test {
 protected:
  WatcherTest() { clock.set_auto_advance(true); }

  // Runs the watcher until it parks in watch call `n` with nothing scripted.
  void run_until_idle_in_watch(size_t n) {
    watcher = std::make_unique<runtime::Watcher>(source, log.sink(), clock, random);
    watcher->start();
    ASSERT_TRUE(source->wait_idle_in_watch(n)) << "watch calls: " << source->watch_calls().size();
  }

  // An initial list of a(5), b(6), c(7) at resourceVersion 10.
  void script_initial_list() {
    source->add_list_page(page({object("ns", "a", "5"), object("ns", "b", "6"),
                                object("ns", "c", "7")},
                               "10"));
  }

  runtime::FakeClock clock;
  runtime::FakeRandom random{{0.0}};
  std::shared_ptr<ScriptedListWatcher> source = std::make_shared<ScriptedListWatcher>(&clock);
  EventLog log;
  std::unique_ptr<runtime::Watcher> watcher;
};

TEST_F(WatcherTest, InitialListFollowsPagesThenWatchesFromTheListVersion) {
  source->add_list_page(page({object("ns", "a", "5"), object("ns", "b", "6")}, "10", "token-1"));
  source->add_list_page(page({object("other", "c", "7")}, "10"));
  run_until_idle_in_watch(1);

  auto lists = source->list_calls();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].limit, 500);
  EXPECT_EQ(lists[0].continue_token, "");
  EXPECT_EQ(lists[1].continue_token, "token-1");
  EXPECT_THAT(log.lines(), ElementsAre("upsert ns/a 5", "upsert ns/b 6", "upsert other/c 7", "init"));

  auto watches = source->watch_calls();
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0].resource_version, "10");
  EXPECT_TRUE(watches[0].allow_bookmarks);
  EXPECT_GE(watches[0].timeout_seconds, 240);
  EXPECT_LT(watches[0].timeout_seconds, 300);
  runtime::WatcherStatus status = watcher->status();
  EXPECT_TRUE(status.synced);
  EXPECT_EQ(status.lists, 1u);
  EXPECT_EQ(status.resource_version, "10");
}

TEST_F(WatcherTest, WatchTimeoutIsJitteredBetween240And290Seconds) {
  random.set_values({0.999999});
  script_initial_list();
  run_until_idle_in_watch(1);
  EXPECT_EQ(source->watch_calls()[0].timeout_seconds, 290);

  runtime::FakeRandom low({0.0});
  auto source2 = std::make_shared<ScriptedListWatcher>(&clock);
  source2->add_list_page(page({}, "1"));
  runtime::Watcher second(source2, [](const runtime::WatcherEvent&) {}, clock, low);
  second.start();
  ASSERT_TRUE(source2->wait_idle_in_watch(1));
  EXPECT_EQ(source2->watch_calls()[0].timeout_seconds, 240);
}

TEST_F(WatcherTest, BookmarkMovesTheResumeVersionWithoutAnEvent) {
  script_initial_list();
  source->add_watch({{added(object("ns", "d", "11")), bookmark("15")}, std::nullopt, 100s});
  run_until_idle_in_watch(2);

  EXPECT_EQ(source->watch_calls()[1].resource_version, "15");
  EXPECT_EQ(source->list_calls().size(), 1u);
  EXPECT_THAT(log.lines(), ElementsAre("upsert ns/a 5", "upsert ns/b 6", "upsert ns/c 7", "init",
                                       "upsert ns/d 11"));
  EXPECT_TRUE(clock.waited().empty()) << "a server-side close is not a failure";
}

TEST_F(WatcherTest, ResumesAfterDisconnectFromLastDeliveredVersionWithoutRelist) {
  script_initial_list();
  source->add_watch({{modified(object("ns", "a", "12")), deleted(object("ns", "b", "13"))},
                     api_error(0, "TransportError")});
  run_until_idle_in_watch(2);

  EXPECT_EQ(source->watch_calls()[1].resource_version, "13");
  EXPECT_EQ(source->list_calls().size(), 1u);
  EXPECT_THAT(log.lines(), ElementsAre("upsert ns/a 5", "upsert ns/b 6", "upsert ns/c 7", "init",
                                       "upsert ns/a 12", "delete ns/b"));
  EXPECT_THAT(clock.waited(), ElementsAre(Duration(800ms)));
}

TEST_F(WatcherTest, ServerTimeoutResumesAtOnceButAnInstantEmptyCloseBacksOff) {
  script_initial_list();
  source->add_watch({{}, std::nullopt, 240s});  // the server's timeoutSeconds
  source->add_watch({{}, std::nullopt, 0s});    // a proxy closing at once
  run_until_idle_in_watch(3);

  auto watches = source->watch_calls();
  EXPECT_EQ(watches[1].resource_version, "10");
  EXPECT_EQ(watches[2].resource_version, "10");
  EXPECT_EQ(source->list_calls().size(), 1u);
  EXPECT_THAT(clock.waited(), ElementsAre(Duration(800ms)));
}

// A watch silent past the transport's idle timeout may be a dead (half-open)
// connection or a quiet one; it is resumed at once, as after the server's
// own timeout, and counts as no failure.
TEST_F(WatcherTest, AnIdleWatchResumesAtOnceFromItsLastVersionWithoutAFailure) {
  script_initial_list();
  source->add_watch({{modified(object("ns", "a", "12"))}, api_error(0, kube::kWatchIdleReason), 90s});
  source->add_watch({{}, api_error(0, kube::kWatchIdleReason), 90s});
  run_until_idle_in_watch(3);

  auto watches = source->watch_calls();
  EXPECT_EQ(watches[1].resource_version, "12");
  EXPECT_EQ(watches[2].resource_version, "12");
  EXPECT_EQ(source->list_calls().size(), 1u);
  EXPECT_TRUE(clock.waited().empty()) << "no backoff";
  EXPECT_EQ(watcher->status().consecutive_failures, 0);
}

TEST_F(WatcherTest, GoneAsHttpErrorRelistsAndEmitsOnlyTheDifference) {
  script_initial_list();
  source->add_watch({{modified(object("ns", "a", "11"))}, api_error(410, "Expired")});
  // After compaction: a changed, b unchanged, c gone, d new.
  source->add_list_page(page({object("ns", "a", "18"), object("ns", "b", "6")}, "20", "t"));
  source->add_list_page(page({object("ns", "d", "19")}, "20"));
  run_until_idle_in_watch(2);

  EXPECT_THAT(log.lines(),
              ElementsAre("upsert ns/a 5", "upsert ns/b 6", "upsert ns/c 7", "init",
                          "upsert ns/a 11", "restarted", "upsert ns/a 18", "upsert ns/d 19",
                          "delete ns/c", "init"));
  EXPECT_EQ(source->watch_calls()[1].resource_version, "20");
  EXPECT_EQ(source->list_calls().size(), 3u);
  EXPECT_EQ(source->list_calls()[1].resource_version, "") << "relist reads the latest state";
  EXPECT_EQ(watcher->status().lists, 2u);
}

TEST_F(WatcherTest, GoneAsErrorEventInsideTheStreamRelists) {
  script_initial_list();
  source->add_watch({{bookmark("12"), error_event(410, "Expired"),
                      added(object("ns", "never", "99"))},
                     std::nullopt});
  source->add_list_page(page({object("ns", "a", "5"), object("ns", "c", "30")}, "31"));
  run_until_idle_in_watch(2);

  EXPECT_THAT(log.lines(), ElementsAre("upsert ns/a 5", "upsert ns/b 6", "upsert ns/c 7", "init",
                                       "restarted", "upsert ns/c 30", "delete ns/b", "init"));
  EXPECT_EQ(source->watch_calls()[1].resource_version, "31");
  EXPECT_EQ(source->list_calls().size(), 2u);
}

TEST_F(WatcherTest, OtherErrorEventBacksOffAndResumesWithoutRelist) {
  script_initial_list();
  source->add_watch({{modified(object("ns", "a", "11")), error_event(500, "InternalError")},
                     std::nullopt});
  run_until_idle_in_watch(2);

  EXPECT_EQ(source->watch_calls()[1].resource_version, "11");
  EXPECT_EQ(source->list_calls().size(), 1u);
  EXPECT_THAT(clock.waited(), ElementsAre(Duration(800ms)));
}

TEST_F(WatcherTest, ExpiredContinueTokenRestartsTheListFromScratch) {
  source->add_list_page(page({object("ns", "a", "5")}, "10", "token-1"));
  source->add_list_page(api_error(410, "Expired"));
  source->add_list_page(page({object("ns", "a", "5")}, "12", "token-2"));
  source->add_list_page(page({object("ns", "b", "11")}, "12"));
  run_until_idle_in_watch(1);

  auto lists = source->list_calls();
  ASSERT_EQ(lists.size(), 4u);
  EXPECT_EQ(lists[1].continue_token, "token-1");
  EXPECT_EQ(lists[2].continue_token, "");
  EXPECT_EQ(lists[3].continue_token, "token-2");
  // a was delivered by the partial list and is unchanged: not repeated.
  EXPECT_THAT(log.lines(), ElementsAre("upsert ns/a 5", "upsert ns/b 11", "init"));
  EXPECT_EQ(source->watch_calls()[0].resource_version, "12");
}

TEST_F(WatcherTest, BackoffGrowsWithJitterAndStartsOverAfterAHealthyPeriod) {
  random.set_values({0.5});  // every delay is base * 1.25
  for (int i = 0; i < 4; ++i) source->add_list_page(api_error(503, "ServiceUnavailable"));
  script_initial_list();
  // Two quick failures keep growing the delay; three healthy minutes reset it.
  source->add_watch({{modified(object("ns", "a", "11"))}, api_error(0, "TransportError")});
  source->add_watch({{modified(object("ns", "a", "12"))}, api_error(0, "TransportError"), 3min});
  source->add_watch({{}, api_error(0, "TransportError")});
  run_until_idle_in_watch(4);

  EXPECT_THAT(clock.waited(), ElementsAre(Duration(1000ms), Duration(2000ms), Duration(4000ms),
                                          Duration(8000ms), Duration(16000ms),  // streak goes on
                                          Duration(1000ms),                     // reset
                                          Duration(2000ms)));
  EXPECT_EQ(source->watch_calls()[3].resource_version, "12");
}

TEST_F(WatcherTest, StatusReportsFailuresAndProgress) {
  clock.set_auto_advance(false);
  source->add_list_page(api_error(503, "ServiceUnavailable"));
  watcher = std::make_unique<runtime::Watcher>(source, log.sink(), clock, random);
  clock.advance(5s);
  const runtime::TimePoint failed_at = clock.now();
  watcher->start();
  ASSERT_TRUE(eventually([&] { return watcher->status().consecutive_failures == 1; }));
  runtime::WatcherStatus status = watcher->status();
  EXPECT_FALSE(status.synced);
  EXPECT_NE(status.last_error.find("503"), std::string::npos);
  EXPECT_EQ(status.last_progress, failed_at) << "backing off counts as progress";

  // Parked in an 800 ms backoff on a clock that does not move: stop must
  // still return at once.
  ASSERT_TRUE(eventually([&] { return clock.blocked_threads() == 1; }));
  watcher->stop();
  EXPECT_TRUE(log.lines().empty());
}

TEST_F(WatcherTest, RecoversFromBackoffWhenTimeAdvances) {
  clock.set_auto_advance(false);
  source->add_list_page(api_error(503, "ServiceUnavailable"));
  script_initial_list();
  watcher = std::make_unique<runtime::Watcher>(source, log.sink(), clock, random);
  watcher->start();
  ASSERT_TRUE(eventually([&] { return clock.blocked_threads() == 1; }));
  clock.advance(799ms);
  EXPECT_EQ(source->list_calls().size(), 1u);
  clock.advance(1ms);
  ASSERT_TRUE(source->wait_idle_in_watch(1));
  runtime::WatcherStatus status = watcher->status();
  EXPECT_TRUE(status.synced);
  EXPECT_EQ(status.consecutive_failures, 0);
  EXPECT_EQ(status.last_error, "");
}

TEST_F(WatcherTest, StopCancelsAnOpenWatchAndJoins) {
  script_initial_list();
  run_until_idle_in_watch(1);
  watcher->stop();
  watcher->stop();  // idempotent
  EXPECT_EQ(source->watch_calls().size(), 1u);
}

TEST_F(WatcherTest, DeletedEventForAnUnknownObjectIsIgnoredButMovesTheVersion) {
  script_initial_list();
  source->add_watch({{deleted(object("ns", "zz", "14"))}, api_error(0, "TransportError")});
  run_until_idle_in_watch(2);
  EXPECT_THAT(log.lines(), ElementsAre("upsert ns/a 5", "upsert ns/b 6", "upsert ns/c 7", "init"));
  EXPECT_EQ(source->watch_calls()[1].resource_version, "14");
}

}  // namespace
}  // namespace runtime_test
