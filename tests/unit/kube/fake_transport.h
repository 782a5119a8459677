// A scripted kube::Transport for unit tests: records every request and
// answers from a queue, so Client (and anything built on it) runs without a
// cluster. Header-only so other layers' tests can include it too.
//
//   auto fake = std::make_shared<kube_test::FakeTransport>();
//   fake->respond(200, R"({"kind":"ConfigMap"})");
//   kube::Client client(fake, fake);
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/transport.h"

namespace kube_test {

class FakeTransport : public kube::Transport {
 public:
  struct Stream {
    kube::Result<kube::HttpResponse> answer;
    std::vector<std::string> chunks;  // body bytes, chunked as the server sent them
  };

  void respond(int status, std::string body = "{}",
               std::map<std::string, std::string> headers = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_.push_back(kube::HttpResponse{status, std::move(headers), std::move(body)});
  }
  void respond_json(int status, const nlohmann::json& body,
                    std::map<std::string, std::string> headers = {}) {
    respond(status, body.dump(), std::move(headers));
  }
  void fail(std::string message = "connection refused") {
    std::lock_guard<std::mutex> lock(mu_);
    answers_.push_back(kube::Error{0, "TransportError", std::move(message)});
  }
  void stream(std::vector<std::string> chunks, int status = 200, std::string body = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    streams_.push_back(Stream{kube::HttpResponse{status, {}, std::move(body)}, std::move(chunks)});
  }
  void stream_failure(std::string message = "connection reset") {
    std::lock_guard<std::mutex> lock(mu_);
    streams_.push_back(Stream{kube::Error{0, "TransportError", std::move(message)}, {}});
  }

  std::vector<kube::HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  kube::HttpRequest last() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.back();
  }

  kube::Result<kube::HttpResponse> send(const kube::HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    if (answers_.empty()) return kube::Error{0, "TransportError", "no scripted answer"};
    auto answer = std::move(answers_.front());
    answers_.pop_front();
    return answer;
  }

  kube::Result<kube::HttpResponse> stream_lines(
      const kube::HttpRequest& request,
      const std::function<bool(std::string_view line)>& on_line,
      kube::Cancellation& cancel) override {
    Stream script{kube::Error{0, "TransportError", "no scripted stream"}, {}};
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
      if (!streams_.empty()) {
        script = std::move(streams_.front());
        streams_.pop_front();
      }
    }
    if (!script.answer.ok() || script.answer.value().status != 200) return script.answer;
    kube::LineFramer framer;
    for (const auto& chunk : script.chunks) {
      if (cancel.cancelled()) return script.answer;
      if (!framer.feed(chunk, on_line)) return script.answer;
    }
    framer.finish(on_line);
    return script.answer;
  }

  std::string host() const override { return "fake:6443"; }

 private:
  mutable std::mutex mu_;
  std::vector<kube::HttpRequest> requests_;
  std::deque<kube::Result<kube::HttpResponse>> answers_;
  std::deque<Stream> streams_;
};

// The value of `name` in a request's headers ("" when absent).
inline std::string header(const kube::HttpRequest& request, const std::string& name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return {};
}

}  // namespace kube_test
