#include "runtime/health.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "runtime/fake_clock.h"

namespace runtime {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TEST(Heartbeat, FreshAtConstructionStaleAfterThreshold) {
  FakeClock clock;
  Heartbeat beat(clock);
  EXPECT_FALSE(beat.stale(clock.now(), seconds(30)));
  clock.advance(seconds(30));
  EXPECT_FALSE(beat.stale(clock.now(), seconds(30)));  // "older than", not "as old as"
  clock.advance(seconds(1));
  EXPECT_TRUE(beat.stale(clock.now(), seconds(30)));
  beat.beat();
  EXPECT_FALSE(beat.stale(clock.now(), seconds(30)));
  EXPECT_EQ(beat.last(), clock.now());
}

TEST(HeartbeatCheck, FailsOnlyWhenStaleWhileWorkIsPending) {
  FakeClock clock;
  Heartbeat beat(clock);
  bool pending = false;
  HealthCheck check = heartbeat_check(beat, clock, minutes(5), [&] { return pending; });
  EXPECT_TRUE(check().ok);

  clock.advance(minutes(6));
  EXPECT_TRUE(check().ok) << "an idle loop is not stuck";

  pending = true;
  CheckResult stuck = check();
  EXPECT_FALSE(stuck.ok);
  EXPECT_EQ(stuck.detail, "no heartbeat for 6m0s while work is pending (limit 5m0s)");

  beat.beat();
  EXPECT_TRUE(check().ok);
}

TEST(FormatDuration, LooksLikeGo) {
  EXPECT_EQ(format_duration(Duration::zero()), "0s");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(1500)), "1.5s");
  EXPECT_EQ(format_duration(minutes(6)), "6m0s");
  EXPECT_EQ(format_duration(std::chrono::hours(1) + seconds(3)), "1h0m3s");
  EXPECT_EQ(format_duration(std::chrono::microseconds(3)), "3µs");
}

TEST(HealthChecks, ReadyzFailsUntilSynced) {
  HealthChecks health;
  std::atomic<bool> synced{false};
  health.add_readiness("informers", ready_when([&] { return synced.load(); }, "caches not synced"));

  HttpReply before = health.readyz();
  EXPECT_EQ(before.status, 503);
  EXPECT_EQ(before.body, "[-]informers failed: caches not synced\nreadyz check failed\n");

  synced = true;
  HttpReply after = health.readyz();
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.body, "[+]informers ok\nreadyz check passed\n");
}

TEST(HealthChecks, HealthzListsEveryCheckAndFailsWith500) {
  HealthChecks health;
  health.add_liveness("watchers", [] { return CheckResult::passed(); });
  health.add_liveness("workers", [] { return CheckResult::failed("stuck"); });
  health.add_liveness("thrower", []() -> CheckResult { throw std::runtime_error("bug"); });
  HttpReply reply = health.healthz();
  EXPECT_EQ(reply.status, 500);
  EXPECT_EQ(reply.body,
            "[+]watchers ok\n[-]workers failed: stuck\n[-]thrower failed: check threw: bug\n"
            "healthz check failed\n");
  // Liveness and readiness are separate lists.
  EXPECT_EQ(health.readyz().status, 200);
}

TEST(HealthChecks, NoChecksMeansHealthy) {
  HealthChecks health;
  EXPECT_EQ(health.healthz().status, 200);
  EXPECT_EQ(health.healthz().body, "healthz check passed\n");
}

std::string http_get(uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  std::string request = "GET " + path + " HTTP/1.1\r\n\r\n";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[1024];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST(HealthChecks, ServedOverHttp) {
  HealthChecks health;
  std::atomic<bool> synced{false};
  health.add_readiness("informers", ready_when([&] { return synced.load(); }, "caches not synced"));
  HttpServer server;
  health.serve_on(server);
  ASSERT_TRUE(server.start("127.0.0.1:0").ok());

  EXPECT_EQ(http_get(server.port(), "/readyz").rfind("HTTP/1.1 503 ", 0), 0u);
  synced = true;
  EXPECT_EQ(http_get(server.port(), "/readyz?verbose").rfind("HTTP/1.1 200 ", 0), 0u);
  EXPECT_EQ(http_get(server.port(), "/healthz").rfind("HTTP/1.1 200 ", 0), 0u);
  server.stop();
}

}  // namespace
}  // namespace runtime
