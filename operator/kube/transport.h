// The narrow HTTP seam between the Kubernetes client and an HTTP library.
//
// Client code builds HttpRequests and reads HttpResponses; only
// cpprest_transport.cpp knows cpprestsdk. Tests swap in a scripted Transport,
// and another backend could replace cpprestsdk without touching callers.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "kube/result.h"

namespace kube {

struct HttpRequest {
  std::string method;          // "GET", "POST", "PATCH", "PUT", "DELETE"
  std::string path_and_query;  // "/api/v1/namespaces/x/configmaps?limit=500"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// Cooperative cancellation for long calls (watch streams). Thread-safe.
class Cancellation {
 public:
  using CallbackId = uint64_t;

  // Idempotent; runs the registered callbacks once, on the calling thread.
  void cancel();
  bool cancelled() const { return cancelled_.load(); }
  // Runs `fn` on cancel (at once if already cancelled, returning 0). Used by
  // transports to abort a blocking read. A long-lived Cancellation reused for
  // many calls should see each call's callback removed when the call ends,
  // hence the id.
  CallbackId on_cancel(std::function<void()> fn);
  // Forgets a callback that has not run yet; unknown ids are ignored.
  void remove_on_cancel(CallbackId id);
  // Callbacks registered and not yet run or removed: a finished call leaves none.
  size_t pending_callbacks() const;

 private:
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  CallbackId next_id_ = 1;
  std::vector<std::pair<CallbackId, std::function<void()>>> callbacks_;
};

// The Error reason of a watch stream that sent nothing (no event, no
// bookmark) for the watch transport's idle timeout. A quiet watch and a
// half-open connection look the same from here, so the caller resumes it
// at once rather than treating it as a failure.
inline constexpr const char* kWatchIdleReason = "WatchIdle";

class Transport {
 public:
  virtual ~Transport() = default;

  // One request, whole response. Any HTTP status is a value here (the Client
  // turns non-2xx into Error); only a failure to get an answer is an Error.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;

  // Streams a response body line by line (for watches). `on_line` gets each
  // complete line without its '\n' and returns false to stop reading. Returns
  // when the body ends, `cancel` fires, or reading fails. For a non-200 status
  // no line is delivered and the whole body is in the returned response.
  virtual Result<HttpResponse> stream_lines(
      const HttpRequest& request,
      const std::function<bool(std::string_view line)>& on_line,
      Cancellation& cancel) = 0;

  // "host:port" of the API server, for request metrics.
  virtual std::string host() const = 0;
};

// Splits a byte stream into lines whatever the chunking: a line split across
// chunks is joined, several lines in one chunk are delivered one by one.
class LineFramer {
 public:
  // Returns false as soon as `on_line` does (the rest is kept unread).
  bool feed(std::string_view chunk,
            const std::function<bool(std::string_view)>& on_line);
  // The unterminated tail, delivered when the stream ends.
  bool finish(const std::function<bool(std::string_view)>& on_line);

 private:
  bool split(std::string_view chunk, const std::function<bool(std::string_view)>& on_line);
  // Only bytes of an unterminated line, unless a stop left whole lines behind.
  std::string pending_;
  bool pending_has_lines_ = false;
};

}  // namespace kube
