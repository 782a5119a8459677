// The bearer token to send with each request: a static token, or a token file
// re-read at most once per interval, because projected service-account
// tokens rotate (the kubelet rewrites the file well before expiry).
//
//   kube::BearerTokenSource tokens(cfg.bearer_token, cfg.bearer_token_file);
//   if (auto t = tokens.token(); !t.empty()) header = "Bearer " + t;
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

namespace kube {

class BearerTokenSource {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  static constexpr std::chrono::seconds kRereadInterval{60};

  // `file` wins over `static_token` whenever it can be read (as in client-go);
  // `now` is injectable for tests.
  BearerTokenSource(std::string static_token, std::string file,
                    Clock now = [] { return std::chrono::steady_clock::now(); });

  // The token to send now; "" when there is none. Thread-safe. A file that
  // cannot be re-read keeps the last good token and logs a warning (never the
  // token itself).
  std::string token();

 private:
  const std::string static_token_;
  const std::string file_;
  const Clock now_;
  std::mutex mu_;
  bool read_once_ = false;
  std::chrono::steady_clock::time_point read_at_{};
  std::string file_token_;
};

}  // namespace kube
