#include "runtime/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace runtime {
namespace {

int connect_local(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Everything the server sends until it closes (or 5 s pass).
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string round_trip(uint16_t port, const std::string& request) {
  int fd = connect_local(port);
  if (fd < 0) return "connect failed";
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response = read_all(fd);
  ::close(fd);
  return response;
}

std::string get(uint16_t port, const std::string& path) {
  return round_trip(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

std::string body_of(const std::string& response) {
  size_t split = response.find("\r\n\r\n");
  return split == std::string::npos ? "" : response.substr(split + 4);
}

TEST(ParseBindAddress, AcceptsControllerRuntimeForms) {
  auto disabled = parse_bind_address("0");
  ASSERT_TRUE(disabled);
  EXPECT_TRUE(disabled->disabled);

  auto all = parse_bind_address(":8080");
  ASSERT_TRUE(all);
  EXPECT_FALSE(all->disabled);
  EXPECT_EQ(all->host, "");
  EXPECT_EQ(all->port, 8080);

  auto local = parse_bind_address("127.0.0.1:0");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->host, "127.0.0.1");
  EXPECT_EQ(local->port, 0);

  auto v6 = parse_bind_address("[::1]:9090");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9090);

  auto named = parse_bind_address("localhost:8081");
  ASSERT_TRUE(named);
  EXPECT_EQ(named->host, "localhost");
}

TEST(ParseBindAddress, RejectsNonsense) {
  for (const char* bad : {"", "8080", ":", ":http", ":65536", "::1:80", "[::1]", "[]:80",
                          "host:-1", ":123456"}) {
    EXPECT_FALSE(parse_bind_address(bad)) << bad;
  }
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server.handle("/metrics", [] {
      return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", "up 1\n"};
    });
    server.handle("/boom", []() -> HttpReply { throw std::runtime_error("handler bug"); });
    kube::Done started = server.start("127.0.0.1:0");
    ASSERT_TRUE(started.ok()) << started.error().describe();
    ASSERT_TRUE(server.listening());
    ASSERT_NE(server.port(), 0);
  }
  HttpServer server;
};

TEST_F(HttpServerTest, ServesRegisteredPath) {
  std::string response = get(server.port(), "/metrics");
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_NE(response.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(body_of(response), "up 1\n");
}

TEST_F(HttpServerTest, IgnoresQueryString) {
  EXPECT_EQ(body_of(get(server.port(), "/metrics?verbose=1")), "up 1\n");
}

TEST_F(HttpServerTest, UnknownPathIs404) {
  EXPECT_EQ(get(server.port(), "/nope").rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
}

TEST_F(HttpServerTest, OnlyGetAndHead) {
  std::string post = round_trip(server.port(), "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(post.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << post;
  EXPECT_NE(post.find("Allow: GET, HEAD\r\n"), std::string::npos);

  std::string head = round_trip(server.port(), "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(head.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_EQ(body_of(head), "");
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  EXPECT_EQ(round_trip(server.port(), "hello\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndServerLives) {
  EXPECT_EQ(get(server.port(), "/boom").rfind("HTTP/1.1 500 ", 0), 0u);
  EXPECT_EQ(body_of(get(server.port(), "/metrics")), "up 1\n");
}

TEST_F(HttpServerTest, OversizedRequestIs431) {
  std::string huge = "GET /metrics HTTP/1.1\r\nX-Pad: " + std::string(20000, 'a') + "\r\n\r\n";
  EXPECT_EQ(round_trip(server.port(), huge).rfind("HTTP/1.1 431 ", 0), 0u);
}

TEST_F(HttpServerTest, ServesManyRequestsInTurn) {
  for (int i = 0; i < 50; ++i) ASSERT_EQ(body_of(get(server.port(), "/metrics")), "up 1\n");
}

TEST_F(HttpServerTest, StopIsPromptEvenWithAnIdleClientConnected) {
  int idle = connect_local(server.port());
  ASSERT_GE(idle, 0);
  // Give the server time to accept and start waiting for the request.
  ::poll(nullptr, 0, 50);
  auto started = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_FALSE(server.listening());
  EXPECT_EQ(server.port(), 0);
  ::close(idle);
  server.stop();  // idempotent
}

TEST(HttpServer, SlowClientGets408AfterReadTimeout) {
  HttpServerLimits limits;
  limits.read_timeout = std::chrono::milliseconds(200);
  HttpServer server(limits);
  server.handle("/metrics", [] { return HttpReply{200, "text/plain", "x"}; });
  ASSERT_TRUE(server.start("127.0.0.1:0").ok());
  std::string response = round_trip(server.port(), "GET /metrics HTTP/1.1\r\n");  // unfinished
  EXPECT_EQ(response.rfind("HTTP/1.1 408 ", 0), 0u) << response;
  // The next client is served normally.
  EXPECT_EQ(body_of(get(server.port(), "/metrics")), "x");
}

// An idle connection (a port scanner, a half-open probe) must not hold up the
// kubelet's probe: with a read budget far beyond any probe timeout, a GET is
// still answered while the idle connection stays open.
TEST(HttpServer, AnIdleConnectionDoesNotHoldUpOthers) {
  HttpServerLimits limits;
  limits.read_timeout = std::chrono::seconds(60);
  HttpServer server(limits);
  server.handle("/healthz", [] { return HttpReply{200, "text/plain", "ok"}; });
  ASSERT_TRUE(server.start("127.0.0.1:0").ok());
  int idle = connect_local(server.port());
  ASSERT_GE(idle, 0);
  EXPECT_EQ(body_of(get(server.port(), "/healthz")), "ok");  // read_all gives up after 5 s
  ::close(idle);
}

TEST(HttpServer, BeyondMaxConnectionsIs503AndASlotFreesUp) {
  HttpServerLimits limits;
  limits.read_timeout = std::chrono::seconds(60);
  limits.max_connections = 2;
  HttpServer server(limits);
  server.handle("/healthz", [] { return HttpReply{200, "text/plain", "ok"}; });
  ASSERT_TRUE(server.start("127.0.0.1:0").ok());
  int idle[2] = {connect_local(server.port()), connect_local(server.port())};
  ASSERT_GE(idle[0], 0);
  ASSERT_GE(idle[1], 0);
  // Both idle connections are accepted and held before the third arrives.
  std::string busy;
  for (int i = 0; i < 50 && busy.rfind("HTTP/1.1 503 ", 0) != 0; ++i) {
    busy = get(server.port(), "/healthz");
    ::poll(nullptr, 0, 20);
  }
  EXPECT_EQ(busy.rfind("HTTP/1.1 503 ", 0), 0u) << busy;
  ::close(idle[0]);  // the server sees EOF and frees its slot
  std::string served;
  for (int i = 0; i < 50 && body_of(served) != "ok"; ++i) {
    served = get(server.port(), "/healthz");
    ::poll(nullptr, 0, 20);
  }
  EXPECT_EQ(body_of(served), "ok") << served;
  ::close(idle[1]);
}

TEST(HttpServer, StopWaitsForEveryConnectionAndIsPrompt) {
  HttpServerLimits limits;
  limits.read_timeout = std::chrono::seconds(60);
  HttpServer server(limits);
  ASSERT_TRUE(server.start("127.0.0.1:0").ok());
  int idle[3];
  for (int& fd : idle) ASSERT_GE(fd = connect_local(server.port()), 0);
  ::poll(nullptr, 0, 50);
  auto started = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  for (int fd : idle) {
    char byte;
    EXPECT_EQ(::recv(fd, &byte, 1, 0), 0) << "the server closed every connection";
    ::close(fd);
  }
}

TEST(HttpServer, DisabledWithZero) {
  HttpServer server;
  kube::Done started = server.start("0");
  EXPECT_TRUE(started.ok());
  EXPECT_FALSE(server.listening());
  EXPECT_EQ(server.port(), 0);
  server.stop();
}

TEST(HttpServer, AllInterfacesAcceptsLoopbackIPv4) {
  HttpServer server;
  server.handle("/healthz", [] { return HttpReply{200, "text/plain", "ok"}; });
  ASSERT_TRUE(server.start(":0").ok());
  EXPECT_EQ(body_of(get(server.port(), "/healthz")), "ok");
}

TEST(HttpServer, PortInUseIsAnError) {
  HttpServer first;
  ASSERT_TRUE(first.start("127.0.0.1:0").ok());
  HttpServer second;
  kube::Done again = second.start("127.0.0.1:" + std::to_string(first.port()));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().reason, "BindFailed");
  EXPECT_FALSE(second.listening());
}

// parse_request_head is the whole request parser; the socket tests above
// show the replies, these the decisions (tests/fuzz/fuzz_http_request.cpp
// checks them on any bytes).
TEST(ParseRequestHead, ServesGetAndHeadWithoutTheQuery) {
  using Kind = RequestHeadOutcome::Kind;
  RequestHeadOutcome get = parse_request_head("GET /metrics?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", 8192);
  EXPECT_EQ(get.kind, Kind::Serve);
  EXPECT_EQ(get.path, "/metrics");
  EXPECT_FALSE(get.head_only);
  RequestHeadOutcome head = parse_request_head("HEAD /healthz HTTP/1.0\n\n", 8192);
  EXPECT_EQ(head.kind, Kind::Serve);
  EXPECT_EQ(head.path, "/healthz");
  EXPECT_TRUE(head.head_only);
  EXPECT_EQ(parse_request_head("POST / HTTP/1.1\r\n\r\n", 8192).kind, Kind::MethodNotAllowed);
  EXPECT_EQ(parse_request_head("GET /\r\n\r\n", 8192).kind, Kind::BadRequest);
  EXPECT_EQ(parse_request_head("GET / HTTP/1.1\r\nHost: h\r\n", 8192).kind, Kind::Incomplete);
}

TEST(ParseRequestHead, TheLimitCountsTheWholeHeadWhateverTheChunking) {
  using Kind = RequestHeadOutcome::Kind;
  const std::string request = "GET / HTTP/1.1\r\n\r\n";  // 18 bytes
  EXPECT_EQ(parse_request_head(request, request.size()).kind, Kind::Serve);
  // A head whose blank line ends one byte past the limit is too large, also
  // when the bytes read so far stop inside that blank line.
  EXPECT_EQ(parse_request_head(request, request.size() - 1).kind, Kind::TooLarge);
  EXPECT_EQ(parse_request_head(request.substr(0, request.size() - 1), request.size() - 2).kind,
            Kind::TooLarge);
  EXPECT_EQ(parse_request_head(std::string(100, 'a'), 64).kind, Kind::TooLarge);
  EXPECT_EQ(parse_request_head(std::string(64, 'a'), 64).kind, Kind::Incomplete);
}

TEST(HttpServer, BadAddressIsAnError) {
  HttpServer server;
  kube::Done started = server.start("8080");
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().reason, "InvalidBindAddress");
}

}  // namespace
}  // namespace runtime
