#include "runtime/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <spdlog/spdlog.h>

namespace runtime {
namespace {

using SteadyClock = std::chrono::steady_clock;

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

int remaining_ms(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::string errno_text(int err) { return std::strerror(err); }

kube::Error bind_error(const std::string& address, const std::string& what) {
  return kube::Error{0, "BindFailed", address + ": " + what, std::nullopt};
}

// Returns a listening socket or -1 with `error` set.
int listen_on(const sockaddr* addr, socklen_t len, int family, bool dual_stack,
              std::string* error) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = errno_text(errno);
    return -1;
  }
  int one = 1;
  // A restarted operator must not fail on the previous process's TIME_WAIT.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) {
    int v6only = dual_stack ? 0 : 1;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  if (::bind(fd, addr, len) != 0 || ::listen(fd, 64) != 0) {
    *error = errno_text(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::optional<BindAddress> parse_bind_address(const std::string& text) {
  BindAddress out;
  if (text == "0") {
    out.disabled = true;
    return out;
  }
  std::string port_text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    out.host = text.substr(1, close - 1);
    if (out.host.empty()) return std::nullopt;
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    out.host = text.substr(0, colon);
    if (out.host.find(':') != std::string::npos) return std::nullopt;  // IPv6 needs [ ]
    port_text = text.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5) return std::nullopt;
  unsigned long port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  if (port > 65535) return std::nullopt;
  out.port = static_cast<uint16_t>(port);
  return out;
}

RequestHeadOutcome parse_request_head(std::string_view received, size_t max_request_bytes) {
  using Kind = RequestHeadOutcome::Kind;
  RequestHeadOutcome out;
  // The head ends where its first blank line ends, in either form; it must
  // end within the limit. Both are decided by the first bytes alone, so the
  // outcome does not depend on how the bytes arrived or on what came after.
  const size_t crlf = received.find("\r\n\r\n");
  const size_t lf = received.find("\n\n");
  const size_t head_end = std::min(crlf == std::string_view::npos ? crlf : crlf + 4,
                                   lf == std::string_view::npos ? lf : lf + 2);
  if (head_end == std::string_view::npos || head_end > max_request_bytes) {
    if (received.size() > max_request_bytes) out.kind = Kind::TooLarge;
    return out;
  }
  // Request line: METHOD SP target SP HTTP/1.x
  std::string_view line = received.substr(0, received.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line.substr(sp2 + 1, 7) != "HTTP/1.") {
    out.kind = Kind::BadRequest;
    return out;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (method != "GET" && method != "HEAD") {
    out.kind = Kind::MethodNotAllowed;
    return out;
  }
  out.kind = Kind::Serve;
  out.path = std::string(target.substr(0, target.find('?')));
  out.head_only = method == "HEAD";
  return out;
}

HttpServer::HttpServer(HttpServerLimits limits) : limits_(limits) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::handle(const std::string& path, HttpHandler handler) {
  std::lock_guard<std::mutex> guard(handlers_mu_);
  handlers_[path] = std::move(handler);
}

kube::Done HttpServer::start(const std::string& bind_address) {
  if (listen_fd_ >= 0) {
    return kube::Error{0, "BindFailed", "server already started", std::nullopt};
  }
  std::optional<BindAddress> parsed = parse_bind_address(bind_address);
  if (!parsed) {
    return kube::Error{0, "InvalidBindAddress",
                       "\"" + bind_address + "\": want \"0\" (disabled), \":port\" or \"host:port\"",
                       std::nullopt};
  }
  if (parsed->disabled) return kube::ok();

  std::string error;
  int fd = -1;
  if (parsed->host.empty()) {
    // Every interface: one IPv6 socket that also takes IPv4 (as Go's ":8080"
    // does), or plain IPv4 where the kernel has no IPv6.
    sockaddr_in6 any6{};
    any6.sin6_family = AF_INET6;
    any6.sin6_addr = in6addr_any;
    any6.sin6_port = htons(parsed->port);
    fd = listen_on(reinterpret_cast<sockaddr*>(&any6), sizeof any6, AF_INET6, true, &error);
    if (fd < 0) {
      sockaddr_in any4{};
      any4.sin_family = AF_INET;
      any4.sin_addr.s_addr = htonl(INADDR_ANY);
      any4.sin_port = htons(parsed->port);
      fd = listen_on(reinterpret_cast<sockaddr*>(&any4), sizeof any4, AF_INET, false, &error);
    }
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string port_text = std::to_string(parsed->port);
    int rc = ::getaddrinfo(parsed->host.c_str(), port_text.c_str(), &hints, &found);
    if (rc != 0) return bind_error(bind_address, gai_strerror(rc));
    for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
      fd = listen_on(ai->ai_addr, ai->ai_addrlen, ai->ai_family, false, &error);
    }
    ::freeaddrinfo(found);
  }
  if (fd < 0) return bind_error(bind_address, error);

  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) == 0) {
    port_ = bound.ss_family == AF_INET6
                ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    std::string why = errno_text(errno);
    ::close(fd);
    port_ = 0;
    return bind_error(bind_address, "pipe: " + why);
  }
  wake_read_fd_ = pipe_fds[0];
  wake_write_fd_ = pipe_fds[1];
  listen_fd_ = fd;
  stopping_ = false;
  thread_ = std::thread([this] { serve(); });
  return kube::ok();
}

void HttpServer::stop() {
  if (listen_fd_ < 0) return;
  stopping_ = true;
  char byte = 1;
  // The pipe is non-blocking and only needs to be readable; a full pipe is
  // already readable.
  (void)!::write(wake_write_fd_, &byte, 1);
  if (thread_.joinable()) thread_.join();
  {
    // Each connection thread polls the wake pipe too, so this is quick.
    std::unique_lock<std::mutex> lock(connections_mu_);
    connections_done_.wait(lock, [this] { return connections_ == 0; });
  }
  ::close(listen_fd_);
  ::close(wake_read_fd_);
  ::close(wake_write_fd_);
  listen_fd_ = wake_read_fd_ = wake_write_fd_ = -1;
  port_ = 0;
}

void HttpServer::serve() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_fd_, POLLIN, 0}};
    int rc = ::poll(fds, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      spdlog::error("http server: poll: {}", errno_text(errno));
      return;
    }
    if (fds[1].revents != 0 || stopping_) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      // ECONNABORTED and friends: the client gave up; EMFILE: try again
      // later rather than spin.
      if (errno == EMFILE || errno == ENFILE) ::poll(nullptr, 0, 100);
      continue;
    }
    hand_off(client);
  }
}

void HttpServer::hand_off(int fd) {
  {
    std::lock_guard<std::mutex> guard(connections_mu_);
    if (connections_ >= limits_.max_connections) {
      // Best effort and never blocking: the accept thread must stay free.
      static const std::string busy =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      return;
    }
    ++connections_;
  }
  auto finish = [this, fd] {
    ::close(fd);
    std::lock_guard<std::mutex> guard(connections_mu_);
    --connections_;
    connections_done_.notify_all();
  };
  try {
    std::thread([this, fd, finish] {
      serve_connection(fd);
      finish();
    }).detach();
  } catch (const std::system_error& e) {
    spdlog::warn("http server: cannot start a connection thread: {}", e.what());
    finish();
  }
}

void HttpServer::serve_connection(int fd) {
  auto write_all = [&](const std::string& data) {
    auto deadline = SteadyClock::now() + limits_.write_timeout;
    size_t sent = 0;
    while (sent < data.size() && !stopping_) {
      pollfd fds[2] = {{fd, POLLOUT, 0}, {wake_read_fd_, POLLIN, 0}};
      int rc = ::poll(fds, 2, remaining_ms(deadline));
      if (rc < 0 && errno == EINTR) continue;
      if (rc <= 0 || fds[1].revents != 0) return;
      if ((fds[0].revents & (POLLERR | POLLHUP)) != 0) return;
      ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        return;
      }
      sent += static_cast<size_t>(n);
    }
  };
  auto reply = [&](const HttpReply& r, bool with_body, const char* extra_header = nullptr) {
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) +
                       "\r\nContent-Type: " + r.content_type +
                       "\r\nContent-Length: " + std::to_string(r.body.size()) +
                       "\r\nConnection: close\r\n";
    if (extra_header != nullptr) head += extra_header;
    head += "\r\n";
    write_all(with_body ? head + r.body : head);
    // Half-close, then read what the client already sent, so close() does
    // not turn unread bytes into a reset that could discard our reply.
    ::shutdown(fd, SHUT_WR);
    char sink[1024];
    for (int i = 0; i < 64 && ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
    }
  };

  // Read the request head within the budget.
  std::string request;
  auto deadline = SteadyClock::now() + limits_.read_timeout;
  RequestHeadOutcome head;
  while (head.kind == RequestHeadOutcome::Kind::Incomplete) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_read_fd_, POLLIN, 0}};
    int rc = ::poll(fds, 2, remaining_ms(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 || fds[1].revents != 0 || stopping_) return;
    if (rc == 0) {
      reply({408, "text/plain; charset=utf-8", "request timeout\n"}, true);
      return;
    }
    char buf[2048];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;  // the client went away
    request.append(buf, static_cast<size_t>(n));
    head = parse_request_head(request, limits_.max_request_bytes);
  }

  switch (head.kind) {
    case RequestHeadOutcome::Kind::TooLarge:
      reply({431, "text/plain; charset=utf-8", "request too large\n"}, true);
      return;
    case RequestHeadOutcome::Kind::BadRequest:
      reply({400, "text/plain; charset=utf-8", "bad request\n"}, true);
      return;
    case RequestHeadOutcome::Kind::MethodNotAllowed:
      reply({405, "text/plain; charset=utf-8", "method not allowed\n"}, true,
            "Allow: GET, HEAD\r\n");
      return;
    case RequestHeadOutcome::Kind::Serve:
    case RequestHeadOutcome::Kind::Incomplete:
      break;
  }
  reply(dispatch(head.path), !head.head_only);
}

HttpReply HttpServer::dispatch(const std::string& path) {
  HttpHandler handler;
  {
    std::lock_guard<std::mutex> guard(handlers_mu_);
    auto it = handlers_.find(path);
    if (it != handlers_.end()) handler = it->second;
  }
  if (!handler) return {404, "text/plain; charset=utf-8", "404 page not found\n"};
  try {
    return handler();
  } catch (const std::exception& e) {
    spdlog::error("http server: handler for {} failed: {}", path, e.what());
  } catch (...) {
    spdlog::error("http server: handler for {} failed", path);
  }
  return {500, "text/plain; charset=utf-8", "internal server error\n"};
}

}  // namespace runtime
