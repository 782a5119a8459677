#include "kube/token_source.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include <spdlog/spdlog.h>

namespace kube {

BearerTokenSource::BearerTokenSource(std::string static_token, std::string file, Clock now)
    : static_token_(std::move(static_token)), file_(std::move(file)), now_(std::move(now)) {}

std::string BearerTokenSource::token() {
  if (file_.empty()) return static_token_;
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = now_();
  if (!read_once_ || now - read_at_ >= kRereadInterval) {
    read_once_ = true;
    read_at_ = now;
    std::ifstream in(file_, std::ios::binary);
    std::ostringstream content;
    if (in) content << in.rdbuf();
    if (!in || in.bad()) {
      spdlog::warn("cannot read bearer token file {}: {}; keeping the previous token", file_,
                   std::strerror(errno));
    } else {
      std::string text = content.str();
      const size_t end = text.find_last_not_of(" \t\r\n");
      text.erase(end == std::string::npos ? 0 : end + 1);
      if (text.empty()) {
        spdlog::warn("bearer token file {} is empty; keeping the previous token", file_);
      } else {
        file_token_ = std::move(text);
      }
    }
  }
  return file_token_.empty() ? static_token_ : file_token_;
}

}  // namespace kube
