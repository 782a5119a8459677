// The cpprestsdk transport against small HTTP and HTTPS servers on loopback:
// requests on the wire, streaming with cancellation, and TLS verification
// (CA, IP and DNS names, client certificates) with readable failures.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "kube/config.h"
#include "kube/test_certs.h"

namespace kube {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using kube_test::Pem;
using testing::HasSubstr;
using namespace std::chrono_literals;

// cpprestsdk writes "Name:value" without the optional space.
testing::Matcher<std::string> HasHeader(const std::string& name, const std::string& value) {
  return testing::AnyOf(HasSubstr("\r\n" + name + ": " + value + "\r\n"),
                        HasSubstr("\r\n" + name + ":" + value + "\r\n"));
}

const Pem& ca() {
  static const Pem pem = kube_test::make_ca("cluster-ca");
  return pem;
}
const Pem& other_ca() {
  static const Pem pem = kube_test::make_ca("some-other-ca");
  return pem;
}
const Pem& server_pem() {
  static const Pem pem = kube_test::make_leaf(
      ca(), "kube-apiserver", {"IP:127.0.0.1", "DNS:kubernetes", "DNS:localhost"}, true);
  return pem;
}
const Pem& client_pem() {
  static const Pem pem = kube_test::make_leaf(ca(), "electric-operator", {}, false);
  return pem;
}

struct TlsSetup {
  Pem server;
  std::string client_ca;  // "" = no client certificate asked for
};

// What a handler can do with one connection.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual bool write(const std::string& bytes) = 0;
  // Blocks until the server stops (for "never answer" and "hold open").
  virtual void hold() = 0;
};

// A one-request-per-connection HTTP/1.1 server on 127.0.0.1, plain or TLS.
class TestServer {
 public:
  using Handler = std::function<void(const std::string& request, Connection& connection)>;

  explicit TestServer(Handler handler, std::optional<TlsSetup> tls = std::nullopt)
      : handler_(std::move(handler)),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    if (tls) {
      ssl_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      ssl_->use_certificate_chain(asio::buffer(tls->server.cert));
      ssl_->use_private_key(asio::buffer(tls->server.key), asio::ssl::context::pem);
      if (!tls->client_ca.empty()) {
        ssl_->add_certificate_authority(asio::buffer(tls->client_ca));
        ssl_->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
      }
    }
    accept_thread_ = std::thread([this] { accept_loop(); });
  }

  ~TestServer() {
    stopping_ = true;
    stop_cv_.notify_all();
    boost::system::error_code ec;
    tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ec);  // unblocks accept()
    accept_thread_.join();
    for (auto& t : connection_threads_) t.join();
  }

  int port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const {
    return std::string(ssl_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
  }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  template <class Stream>
  class StreamConnection : public Connection {
   public:
    StreamConnection(Stream& stream, TestServer& server) : stream_(stream), server_(server) {}
    bool write(const std::string& bytes) override {
      boost::system::error_code ec;
      asio::write(stream_, asio::buffer(bytes), ec);
      return !ec;
    }
    void hold() override {
      std::unique_lock<std::mutex> lock(server_.mu_);
      server_.stop_cv_.wait(lock, [&] { return server_.stopping_.load(); });
    }

   private:
    Stream& stream_;
    TestServer& server_;
  };

  void accept_loop() {
    while (!stopping_) {
      auto socket = std::make_shared<tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec || stopping_) break;
      connection_threads_.emplace_back([this, socket] { serve(*socket); });
    }
  }

  void serve(tcp::socket& socket) {
    try {
      if (ssl_) {
        asio::ssl::stream<tcp::socket&> tls(socket, *ssl_);
        tls.handshake(asio::ssl::stream_base::server);
        serve_stream(tls);
      } else {
        serve_stream(socket);
      }
    } catch (const std::exception&) {
      // A failed handshake is what some tests want; the client reports it.
    }
    boost::system::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }

  template <class Stream>
  void serve_stream(Stream& stream) {
    asio::streambuf buffer;
    asio::read_until(stream, buffer, "\r\n\r\n");
    std::string data(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
    const size_t head_end = data.find("\r\n\r\n") + 4;
    size_t content_length = 0;
    const auto at = data.find("Content-Length:");
    if (at != std::string::npos && at < head_end) {
      content_length = std::stoul(data.substr(at + 15));
    }
    while (data.size() < head_end + content_length) {
      char chunk[4096];
      const size_t n = stream.read_some(asio::buffer(chunk));
      data.append(chunk, n);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(data);
    }
    StreamConnection<Stream> connection(stream, *this);
    handler_(data, connection);
  }

  Handler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::unique_ptr<asio::ssl::context> ssl_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable stop_cv_;
  std::vector<std::string> requests_;
  std::thread accept_thread_;
  std::vector<std::thread> connection_threads_;
};

std::string http_response(int status, const std::string& body,
                          const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

std::string chunk(const std::string& data) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return std::string(size) + "\r\n" + data + "\r\n";
}

const std::string kStreamHead =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";

ClusterConfig plain_config(const TestServer& server) {
  ClusterConfig config;
  config.server = server.url();
  return config;
}

ClusterConfig tls_config(const TestServer& server, const std::string& ca_pem) {
  ClusterConfig config;
  config.server = server.url();
  config.ca_pem = ca_pem;
  return config;
}

HttpRequest get(const std::string& path) {
  HttpRequest request;
  request.method = "GET";
  request.path_and_query = path;
  return request;
}

TEST(CpprestTransport, SendsTheRequestAsGivenAndReadsTheAnswer) {
  TestServer server([](const std::string&, Connection& c) {
    c.write(http_response(201, R"({"ok":true})", "X-Test: Yes\r\n"));
  });
  ClusterConfig config = plain_config(server);
  config.bearer_token = "static-token";
  auto transport = make_cpprest_transport(config, TransportUse::Requests);
  EXPECT_EQ(transport->host(), "127.0.0.1:" + std::to_string(server.port()));

  HttpRequest request;
  request.method = "PATCH";
  request.path_and_query = "/api/v1/namespaces/p/configmaps/x?fieldManager=electric-operator"
                           "&labelSelector=a%2Fb%3Dc";
  request.headers = {{"Content-Type", "application/apply-patch+yaml"}, {"Accept", "application/json"}};
  request.body = R"({"data":{"k":"v"}})";
  auto answer = transport->send(request);
  ASSERT_TRUE(answer.ok()) << answer.error().describe();
  EXPECT_EQ(answer.value().status, 201);
  EXPECT_EQ(answer.value().body, R"({"ok":true})");
  EXPECT_EQ(answer.value().headers.at("x-test"), "Yes");

  const std::string wire = server.requests().at(0);
  EXPECT_THAT(wire, HasSubstr("PATCH /api/v1/namespaces/p/configmaps/x?fieldManager=electric-operator"
                              "&labelSelector=a%2Fb%3Dc HTTP/1.1\r\n"));
  EXPECT_THAT(wire, HasHeader("Content-Type", "application/apply-patch+yaml"));
  EXPECT_THAT(wire, HasHeader("Accept", "application/json"));
  EXPECT_THAT(wire, HasHeader("Authorization", "Bearer static-token"));
  EXPECT_THAT(wire, HasHeader("User-Agent", "electric-operator"));
  EXPECT_THAT(wire, HasSubstr("\r\n\r\n{\"data\":{\"k\":\"v\"}}"));
}

TEST(CpprestTransport, AnHttpErrorIsAnAnswerNotAFailure) {
  TestServer server([](const std::string&, Connection& c) {
    c.write(http_response(404, R"({"kind":"Status","code":404})"));
  });
  auto answer = make_cpprest_transport(plain_config(server), TransportUse::Requests)
                    ->send(get("/api/v1/namespaces/p/configmaps/x"));
  ASSERT_TRUE(answer.ok()) << answer.error().describe();
  EXPECT_EQ(answer.value().status, 404);
  EXPECT_THAT(answer.value().body, HasSubstr("Status"));
}

TEST(CpprestTransport, SendsTheTokenFromTheTokenFile) {
  kube_test::TempDir dir;
  TestServer server([](const std::string&, Connection& c) { c.write(http_response(200, "{}")); });
  ClusterConfig config = plain_config(server);
  config.bearer_token = "stale";
  config.bearer_token_file = dir.write("token", "projected-token\n");
  auto answer = make_cpprest_transport(config, TransportUse::Requests)->send(get("/version"));
  ASSERT_TRUE(answer.ok()) << answer.error().describe();
  EXPECT_THAT(server.requests().at(0), HasHeader("Authorization", "Bearer projected-token"));
}

TEST(CpprestTransport, ConnectionRefusedIsATransportError) {
  int free_port;
  {
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    free_port = probe.local_endpoint().port();
  }
  ClusterConfig config;
  config.server = "http://127.0.0.1:" + std::to_string(free_port);
  auto answer = make_cpprest_transport(config, TransportUse::Requests)->send(get("/api/v1/pods?x=1"));
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().http_code, 0);
  EXPECT_EQ(answer.error().reason, "TransportError");
  EXPECT_THAT(answer.error().message,
              HasSubstr("GET " + config.server + "/api/v1/pods failed: cannot connect"));
}

TEST(CpprestTransport, AnIpv6LiteralGivesAnExplainedError) {
  ClusterConfig config;
  config.server = "https://[::1]:6443";
  auto answer = make_cpprest_transport(config, TransportUse::Requests)->send(get("/version"));
  ASSERT_FALSE(answer.ok());
  EXPECT_THAT(answer.error().message, HasSubstr("IPv6 address literal"));
}

TEST(CpprestTransport, ASilentServerTimesOut) {
  TestServer server([](const std::string&, Connection& c) { c.hold(); });
  auto transport = make_cpprest_transport(plain_config(server), TransportUse::Requests, 1s);
  const auto start = std::chrono::steady_clock::now();
  auto answer = transport->send(get("/version"));
  ASSERT_FALSE(answer.ok());
  EXPECT_THAT(answer.error().message, HasSubstr("timed out after 1s"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

// ---- streaming ----

TEST(CpprestTransport, StreamsLinesWhateverTheChunking) {
  TestServer server([](const std::string&, Connection& c) {
    c.write(kStreamHead);
    c.write(chunk("{\"a\":1}\n{\"b\""));
    std::this_thread::sleep_for(20ms);
    c.write(chunk(":2}\n"));
    std::this_thread::sleep_for(20ms);
    c.write(chunk("{\"c\":3}\n{\"d\":4}\n{\"tail\":5}"));
    c.write(chunk(std::string(200000, 'x') + "\n"));
    c.write("0\r\n\r\n");
  });
  auto transport = make_cpprest_transport(plain_config(server), TransportUse::Watches);
  std::vector<std::string> lines;
  Cancellation cancel;
  auto answer = transport->stream_lines(
      get("/api/v1/configmaps?watch=1"),
      [&](std::string_view line) {
        lines.emplace_back(line);
        return true;
      },
      cancel);
  ASSERT_TRUE(answer.ok()) << answer.error().describe();
  EXPECT_EQ(answer.value().status, 200);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], R"({"a":1})");
  EXPECT_EQ(lines[1], R"({"b":2})");
  EXPECT_EQ(lines[3], R"({"d":4})");
  EXPECT_EQ(lines[4].size(), std::string(R"({"tail":5})").size() + 200000);
}

TEST(CpprestTransport, StreamingANonOkStatusReturnsTheBody) {
  TestServer server([](const std::string&, Connection& c) {
    c.write(http_response(410, R"({"kind":"Status","reason":"Expired"})"));
  });
  int lines = 0;
  Cancellation cancel;
  auto answer = make_cpprest_transport(plain_config(server), TransportUse::Watches)
                    ->stream_lines(get("/api/v1/configmaps?watch=1"),
                                   [&](std::string_view) { return ++lines, true; }, cancel);
  ASSERT_TRUE(answer.ok()) << answer.error().describe();
  EXPECT_EQ(answer.value().status, 410);
  EXPECT_THAT(answer.value().body, HasSubstr("Expired"));
  EXPECT_EQ(lines, 0);
}

TEST(CpprestTransport, CancelEndsABlockedStream) {
  TestServer server([](const std::string&, Connection& c) {
    c.write(kStreamHead);
    c.write(chunk("{\"first\":1}\n"));
    c.hold();  // then nothing, for as long as the test runs
  });
  auto transport = make_cpprest_transport(plain_config(server), TransportUse::Watches);
  Cancellation cancel;
  std::atomic<int> lines{0};
  std::thread canceller([&] {
    while (lines.load() == 0) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(50ms);  // let the reader block again
    cancel.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  auto answer = transport->stream_lines(get("/api/v1/configmaps?watch=1"),
                                        [&](std::string_view) { return ++lines, true; }, cancel);
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(lines.load(), 1);
  EXPECT_TRUE(cancel.cancelled());
  (void)answer;  // either the 200 or "Cancelled": the caller looks at `cancel`
}

TEST(CpprestTransport, CancelBeforeTheAnswerArrives) {
  TestServer server([](const std::string&, Connection& c) { c.hold(); });
  auto transport = make_cpprest_transport(plain_config(server), TransportUse::Watches);
  Cancellation cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    cancel.cancel();
  });
  auto answer = transport->stream_lines(get("/api/v1/configmaps?watch=1"),
                                        [](std::string_view) { return true; }, cancel);
  canceller.join();
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().reason, "Cancelled");
}

TEST(CpprestTransport, StopsReadingWhenTheCallbackSaysSo) {
  TestServer server([](const std::string&, Connection& c) {
    c.write(kStreamHead);
    c.write(chunk("one\ntwo\n"));
    c.hold();
  });
  Cancellation cancel;
  std::vector<std::string> lines;
  auto answer = make_cpprest_transport(plain_config(server), TransportUse::Watches)
                    ->stream_lines(get("/w"),
                                   [&](std::string_view line) {
                                     lines.emplace_back(line);
                                     return false;
                                   },
                                   cancel);
  ASSERT_TRUE(answer.ok()) << answer.error().describe();
  EXPECT_EQ(lines, std::vector<std::string>{"one"});
}

TEST(CpprestTransport, AReusedCancellationDoesNotPileUpCallbacks) {
  TestServer server([](const std::string&, Connection& c) {
    c.write(kStreamHead);
    c.write(chunk("{\"a\":1}\n"));
    c.write("0\r\n\r\n");
  });
  auto transport = make_cpprest_transport(plain_config(server), TransportUse::Watches);
  Cancellation cancel;
  for (int i = 0; i < 3; ++i) {
    size_t during_call = 0;
    auto answer = transport->stream_lines(
        get("/w"),
        [&](std::string_view) {
          during_call = cancel.pending_callbacks();
          return true;
        },
        cancel);
    ASSERT_TRUE(answer.ok()) << answer.error().describe();
    EXPECT_EQ(during_call, 1u) << "call " << i << " registered no abort callback";
    EXPECT_EQ(cancel.pending_callbacks(), 0u) << "call " << i << " left its callback behind";
  }
  cancel.cancel();  // must not touch the finished calls' state
  EXPECT_TRUE(cancel.cancelled());
}

// ---- TLS ----

TEST(CpprestTransportTls, VerifiesTheServerAgainstTheClusterCaAndItsIpName) {
  TestServer server([](const std::string&, Connection& c) { c.write(http_response(200, "{}")); },
                    TlsSetup{server_pem(), ""});
  auto answer = make_cpprest_transport(tls_config(server, ca().cert), TransportUse::Requests)
                    ->send(get("/version"));
  ASSERT_TRUE(answer.ok()) << answer.error().describe();
  EXPECT_EQ(answer.value().status, 200);
}

TEST(CpprestTransportTls, AWrongCaFailsWithAClearMessage) {
  TestServer server([](const std::string&, Connection& c) { c.write(http_response(200, "{}")); },
                    TlsSetup{server_pem(), ""});
  auto answer = make_cpprest_transport(tls_config(server, other_ca().cert), TransportUse::Requests)
                    ->send(get("/version"));
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().http_code, 0);
  EXPECT_EQ(answer.error().reason, "TransportError");
  EXPECT_THAT(answer.error().message,
              HasSubstr("TLS handshake with " + server.url() + " failed: certificate verify failed"));
  EXPECT_THAT(answer.error().message, HasSubstr("is the cluster CA right?"));
}

TEST(CpprestTransportTls, TheSystemRootsAreNotTrustedForTheCluster) {
  TestServer server([](const std::string&, Connection& c) { c.write(http_response(200, "{}")); },
                    TlsSetup{server_pem(), ""});
  ClusterConfig config = tls_config(server, "");  // no CA: system roots only
  auto answer = make_cpprest_transport(config, TransportUse::Requests)->send(get("/version"));
  ASSERT_FALSE(answer.ok());
  EXPECT_THAT(answer.error().message, HasSubstr("certificate verify failed"));
}

TEST(CpprestTransportTls, ACertificateForAnotherHostIsRefused) {
  static const Pem elsewhere = kube_test::make_leaf(ca(), "elsewhere", {"DNS:elsewhere.example"}, true);
  TestServer server([](const std::string&, Connection& c) { c.write(http_response(200, "{}")); },
                    TlsSetup{elsewhere, ""});
  auto answer = make_cpprest_transport(tls_config(server, ca().cert), TransportUse::Requests)
                    ->send(get("/version"));
  ASSERT_FALSE(answer.ok());
  EXPECT_THAT(answer.error().message,
              HasSubstr("TLS handshake with " + server.url() +
                        " failed: certificate verify failed: the server certificate is not "
                        "valid for 127.0.0.1"));
}

TEST(CpprestTransportTls, TlsServerNameChoosesTheNameToVerify) {
  static const Pem named = kube_test::make_leaf(ca(), "named", {"DNS:kubernetes"}, true);
  TestServer server([](const std::string&, Connection& c) { c.write(http_response(200, "{}")); },
                    TlsSetup{named, ""});
  ClusterConfig config = tls_config(server, ca().cert);
  EXPECT_FALSE(make_cpprest_transport(config, TransportUse::Requests)->send(get("/v")).ok());
  config.tls_server_name = "kubernetes";
  auto answer = make_cpprest_transport(config, TransportUse::Requests)->send(get("/v"));
  ASSERT_TRUE(answer.ok()) << answer.error().describe();
}

TEST(CpprestTransportTls, PresentsTheClientCertificate) {
  TestServer server([](const std::string&, Connection& c) { c.write(http_response(200, "{}")); },
                    TlsSetup{server_pem(), ca().cert});
  ClusterConfig config = tls_config(server, ca().cert);
  auto without = make_cpprest_transport(config, TransportUse::Requests)->send(get("/v"));
  ASSERT_FALSE(without.ok());
  EXPECT_EQ(without.error().reason, "TransportError");
  EXPECT_THAT(without.error().message, HasSubstr("client certificate"));

  config.client_cert_pem = client_pem().cert;
  config.client_key_pem = client_pem().key;
  auto with = make_cpprest_transport(config, TransportUse::Requests)->send(get("/v"));
  ASSERT_TRUE(with.ok()) << with.error().describe();
  EXPECT_EQ(with.value().status, 200);
}

TEST(CpprestTransportTls, InsecureSkipVerifyIsHonouredWhenAskedFor) {
  TestServer server([](const std::string&, Connection& c) { c.write(http_response(200, "{}")); },
                    TlsSetup{server_pem(), ""});
  ClusterConfig config;
  config.server = server.url();
  config.insecure_skip_tls_verify = true;
  auto answer = make_cpprest_transport(config, TransportUse::Requests)->send(get("/v"));
  ASSERT_TRUE(answer.ok()) << answer.error().describe();
}

TEST(CpprestTransportTls, StreamsOverTls) {
  TestServer server(
      [](const std::string&, Connection& c) {
        c.write(kStreamHead);
        for (int i = 0; i < 100; ++i) c.write(chunk("{\"n\":" + std::to_string(i) + "}\n"));
        c.write("0\r\n\r\n");
      },
      TlsSetup{server_pem(), ""});
  std::vector<std::string> lines;
  Cancellation cancel;
  auto answer = make_cpprest_transport(tls_config(server, ca().cert), TransportUse::Watches)
                    ->stream_lines(get("/w"),
                                   [&](std::string_view line) {
                                     lines.emplace_back(line);
                                     return true;
                                   },
                                   cancel);
  ASSERT_TRUE(answer.ok()) << answer.error().describe();
  ASSERT_EQ(lines.size(), 100u);
  EXPECT_EQ(lines[99], R"({"n":99})");
}

}  // namespace
}  // namespace kube
