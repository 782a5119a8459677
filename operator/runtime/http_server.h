// A tiny HTTP/1.1 server for /metrics, /healthz and /readyz.
//
//   runtime::HttpServer server;
//   server.handle("/metrics", [&] {
//     return runtime::HttpReply{200, runtime::kPrometheusTextContentType, registry.render()};
//   });
//   kube::Done started = server.start(":8080");   // "0" = disabled
//   if (!started.ok()) { ... started.error().describe() ... }
//   spdlog::info("metrics on port {}", server.port());
//   ...
//   server.stop();   // closes the socket and joins; also done by the destructor
//
// Why not cpprestsdk's http_listener, the stack's HTTP library: checked with
// libcpprest 2.10.18, a listener on "http://127.0.0.1:0/" binds an ephemeral
// port but uri().port() still reports 0 and no API exposes the socket, so a
// test or a log cannot learn the port; opening it also leaves its shared pool
// of 40 threads running for three GET endpoints scraped every few seconds.
// No other Debian-packaged server is in the fixed stack, and these endpoints
// need so little HTTP that ~300 lines of POSIX sockets are simpler to reason
// about: one accept thread, each connection served on a thread of its own (at
// most max_connections at once; beyond that a 503 at once), GET/HEAD only,
// "Connection: close", a 2 s budget from accept to read a request head of at
// most 8 KiB (so a slow or idle client holds a slot for 2 s at the most, and
// never holds up the kubelet's 1 s probe), no keep-alive, no TLS (the
// endpoints carry no secrets; put kube-rbac-proxy in front if they must be
// protected).
//
// Bind addresses follow controller-runtime's flags: ":8080" (every interface,
// IPv4 and IPv6), "127.0.0.1:0" (port 0 = the kernel picks; read port()),
// "[::1]:9090", "localhost:8080", and "0" disables the server.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "kube/result.h"

namespace runtime {

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Runs on the connection's thread, so several may run at once: a handler
// must be thread-safe. An exception becomes a 500 reply.
using HttpHandler = std::function<HttpReply()>;

struct BindAddress {
  bool disabled = false;
  std::string host;  // "" = every interface
  uint16_t port = 0;
};

// std::nullopt for text that is neither "0" nor "[host]:port".
std::optional<BindAddress> parse_bind_address(const std::string& text);

// What the bytes a connection sent so far come to: the request parser of
// the server, pure so that tests and the fuzz target reach it without a
// socket. Only the request line counts; header fields are read past.
struct RequestHeadOutcome {
  enum class Kind {
    Incomplete,        // no blank line yet: read more (within the limits)
    TooLarge,          // 431: no complete head within max_request_bytes
    BadRequest,        // 400: not "METHOD SP target SP HTTP/1.x"
    MethodNotAllowed,  // 405: a method other than GET or HEAD
    Serve,             // dispatch `path`
  };
  Kind kind = Kind::Incomplete;
  std::string path;        // Serve: the target without its query string
  bool head_only = false;  // Serve: HEAD, the reply goes without its body
};

// The outcome for `received`, every byte read so far. The head ends with
// its first blank line ("\r\n\r\n" or "\n\n"); a head that does not end
// within the first `max_request_bytes` is TooLarge. A decided outcome is the
// same for every longer `received`: how the bytes were chunked is no matter.
RequestHeadOutcome parse_request_head(std::string_view received, size_t max_request_bytes);

struct HttpServerLimits {
  std::chrono::milliseconds read_timeout{2000};   // whole request head, from accept
  std::chrono::milliseconds write_timeout{5000};  // whole reply
  size_t max_request_bytes = 8192;
  size_t max_connections = 16;                    // served at once
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves GET/HEAD on exactly `path` (the query string is ignored). Register
  // before start().
  void handle(const std::string& path, HttpHandler handler);

  // Binds and starts the accept thread. "0" succeeds without listening.
  // Errors: reason "InvalidBindAddress" or "BindFailed" (port in use, ...).
  kube::Done start(const std::string& bind_address);
  // Idempotent; requests being served are cut off, and it returns once
  // every connection's thread has finished.
  void stop();

  bool listening() const { return listen_fd_ >= 0; }
  // The bound port (the kernel's choice for port 0); 0 when not listening.
  uint16_t port() const { return port_; }

 private:
  void serve();
  // A connection thread for `fd`, or a 503 when max_connections are busy.
  void hand_off(int fd);
  void serve_connection(int fd);
  HttpReply dispatch(const std::string& path);

  HttpServerLimits limits_;
  std::mutex handlers_mu_;
  std::map<std::string, HttpHandler> handlers_;
  int listen_fd_ = -1;
  int wake_read_fd_ = -1;   // self-pipe: stop() writes, poll() wakes
  int wake_write_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex connections_mu_;
  std::condition_variable connections_done_;
  size_t connections_ = 0;  // connection threads still running
};

}  // namespace runtime
