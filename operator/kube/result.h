// Expected failures as values.
//
// Every call that talks to the API server returns a Result<T>: either the
// value or an Error carrying the Kubernetes Status (code, reason, message).
// Exceptions are reserved for programmer errors and start-up misconfiguration.
//
//   kube::Result<nlohmann::json> got = client.get(kConfigMaps, "ns", "name");
//   if (!got.ok() && got.error().is_not_found()) { ... }
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "base/expected.h"

namespace kube {

struct Error {
  Error() = default;
  // Spelled out (rather than aggregate) so Error{0, "TransportError", msg}
  // compiles cleanly under -Wextra's missing-field-initializers.
  Error(int http_code, std::string reason, std::string message = {},
        std::optional<std::chrono::seconds> retry_after = std::nullopt)
      : http_code(http_code),
        reason(std::move(reason)),
        message(std::move(message)),
        retry_after(retry_after) {}

  // HTTP status of the API server's answer; 0 when no answer came (connect,
  // TLS, timeout, cancelled).
  int http_code = 0;
  // Kubernetes Status.reason ("NotFound", "Conflict", "Expired", ...) or, for
  // transport failures, a short word such as "TransportError".
  std::string reason;
  std::string message;
  // From a Retry-After header (429, 503) when the server sent one.
  std::optional<std::chrono::seconds> retry_after;

  bool is_not_found() const { return http_code == 404; }
  bool is_conflict() const { return http_code == 409; }
  bool is_gone() const { return http_code == 410; }
  bool is_forbidden() const { return http_code == 403; }
  bool is_invalid() const { return http_code == 422; }
  // Server-side apply answers 500 for a body that does not fit the schema
  // ("failed to create typed patch object ...: field not declared in
  // schema"; kubernetes/kubernetes#139253, 400 once that is fixed).
  bool is_typed_patch_refusal() const {
    return http_code == 500 && message.rfind(kTypedPatchRefusal, 0) == 0;
  }
  // The API server refused the body itself (it is invalid, forbidden, over
  // a quota): sending it again gets the same answer.
  bool is_refusal() const {
    return http_code == 400 || http_code == 403 || http_code == 422 || is_typed_patch_refusal();
  }
  // Worth retrying with backoff: no answer at all, throttled, or a server error.
  bool is_retryable() const {
    return http_code == 0 || http_code == 429 || (http_code >= 500 && !is_typed_patch_refusal());
  }
  static constexpr const char* kTypedPatchRefusal = "failed to create typed patch object";
  // "403 Forbidden: configmaps is forbidden: ..." for logs and conditions.
  std::string describe() const;
};

// A value or an Error (base::Expected, the one result type of every layer).
// Result<void> is spelled Result<std::monostate>.
template <class T>
using Result = base::Expected<T, Error>;

using Done = Result<std::monostate>;
inline Done ok() { return Done(std::monostate{}); }

}  // namespace kube
