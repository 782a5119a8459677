// Kubernetes REST verbs on any resource, over a Transport.
//
// All calls are synchronous and thread-safe. Non-2xx answers become Error
// values carrying the API server's Status; 429 and 5xx are retried here with
// backoff (honouring Retry-After) up to RetryPolicy::max_attempts.
//
//   kube::Client client(std::move(transport));
//   auto cm = client.apply(kube::kConfigMaps, "prod", "x", body);  // SSA, force
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/resource.h"
#include "kube/result.h"
#include "kube/transport.h"

namespace kube {

using json = nlohmann::json;

struct ListOptions {
  std::string label_selector;  // e.g. "app.kubernetes.io/managed-by=electric-operator"
  std::string field_selector;  // e.g. "metadata.name=x"
  int64_t limit = 500;         // page size; 0 = no paging
  std::string continue_token;
  std::string resource_version;  // "" = most recent (quorum read)
  // Items as PartialObjectMetadata (apiVersion, kind, metadata only): the
  // server drops spec, data and status before sending, so a watch of a
  // kind whose payload is rarely needed costs only its metadata.
  bool metadata_only = false;
};

struct ObjectList {
  std::vector<json> items;
  std::string resource_version;  // of the list, for a following watch
  std::string continue_token;    // "" on the last page
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  // The server closes the stream after this. Keep it under 300 (the API
  // server's own cap) and under the watch transport's inactivity timeout
  // (330 s in cpprest_transport.cpp), so a quiet watch ends cleanly.
  int timeout_seconds = 290;
  bool allow_bookmarks = true;
  // Events carry PartialObjectMetadata objects (see ListOptions).
  bool metadata_only = false;
};

struct WatchEvent {
  enum class Type { Added, Modified, Deleted, Bookmark, Error };
  Type type = Type::Added;
  json object;  // the object; for Error, a metav1.Status
};

enum class Propagation { Default, Background, Foreground, Orphan };

struct DeleteOptions {
  Propagation propagation = Propagation::Background;
  std::string precondition_uid;               // "" = none
  std::string precondition_resource_version;  // "" = none
};

// Retries of 429, 5xx and transport failures (every verb: a create retried
// after an ambiguous failure may then answer 409 AlreadyExists). The delay
// doubles from initial_backoff up to max_backoff; a Retry-After header
// replaces it, capped at max_retry_after so a confused server cannot park a
// worker for hours.
struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds max_retry_after{60000};
};

// Called once per HTTP answer (or transport failure, code 0): feeds
// rest_client_requests_total{code,method,host}.
using RequestObserver =
    std::function<void(int code, const std::string& method, const std::string& host)>;

// The calls a reconciler makes to change objects (and the one read it needs
// after a create conflict). Client implements it; unit tests fake it.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Result<json> get(const Resource& r, const std::string& ns, const std::string& name) = 0;
  virtual Result<json> create(const Resource& r, const std::string& ns, const json& body) = 0;
  // Server-side apply with force, as field manager set on the writer.
  virtual Result<json> apply(const Resource& r, const std::string& ns, const std::string& name,
                             const json& body, bool force = true, const std::string& subresource = {}) = 0;
  virtual Result<json> merge_patch(const Resource& r, const std::string& ns, const std::string& name,
                                   const json& patch, const std::string& subresource = {}) = 0;
  // JSON patch (RFC 6902): removes what the other two cannot name.
  virtual Result<json> json_patch(const Resource& r, const std::string& ns, const std::string& name,
                                  const json& operations) = 0;
  virtual Done remove(const Resource& r, const std::string& ns, const std::string& name,
                      const DeleteOptions& options = {}) = 0;
};

class Client final : public ObjectWriter {
 public:
  // `requests` serves short calls; `watches` serves long streams (it may be
  // the same object; cpprestsdk needs separate clients because its timeout is
  // an inactivity timeout).
  Client(std::shared_ptr<Transport> requests, std::shared_ptr<Transport> watches,
         RetryPolicy retry = {});

  void set_request_observer(RequestObserver observer);
  // The fieldManager of apply/merge_patch/replace. kube/ knows no product:
  // the operator sets electric::kFieldManager, tests their own. Set before
  // sharing the client; server-side apply refuses a request without one.
  void set_field_manager(std::string field_manager);
  // For unit tests of retry: replaces std::this_thread::sleep_for.
  void set_sleeper(std::function<void(std::chrono::milliseconds)> sleeper);

  Result<json> get(const Resource& r, const std::string& ns, const std::string& name) override;
  // One page.
  Result<ObjectList> list(const Resource& r, const std::string& ns,
                          const ListOptions& options = {});
  // Every page, following `continue`; resource_version is the first page's.
  Result<ObjectList> list_all(const Resource& r, const std::string& ns,
                              ListOptions options = {});
  Result<json> create(const Resource& r, const std::string& ns, const json& body) override;
  // Server-side apply (application/apply-patch+yaml; JSON is valid YAML),
  // fieldManager=electric-operator. `subresource` may be "status".
  Result<json> apply(const Resource& r, const std::string& ns, const std::string& name,
                     const json& body, bool force = true,
                     const std::string& subresource = {}) override;
  // JSON merge patch (RFC 7386).
  Result<json> merge_patch(const Resource& r, const std::string& ns,
                           const std::string& name, const json& patch,
                           const std::string& subresource = {}) override;
  // JSON patch (RFC 6902): a list of operations; a failed "test" refuses all.
  Result<json> json_patch(const Resource& r, const std::string& ns, const std::string& name,
                          const json& operations) override;
  // PUT; used for the status subresource when replacing whole status.
  Result<json> replace(const Resource& r, const std::string& ns, const std::string& name,
                       const json& body, const std::string& subresource = {});
  Done remove(const Resource& r, const std::string& ns, const std::string& name,
              const DeleteOptions& options = {}) override;

  // Opens a watch and delivers each event until the server closes the stream
  // (Done), `cancel` fires (Done), `on_event` returns false (Done) or the call
  // fails (Error; a 410 as HTTP status is Error{410}). An ERROR event inside
  // a 200 stream is delivered as WatchEvent::Type::Error: the caller decides.
  Done watch(const Resource& r, const std::string& ns, const WatchOptions& options,
             const std::function<bool(const WatchEvent&)>& on_event,
             Cancellation& cancel);

 private:
  Result<HttpResponse> send_with_retry(HttpRequest request);
  std::shared_ptr<Transport> requests_;
  std::shared_ptr<Transport> watches_;
  RetryPolicy retry_;
  RequestObserver observer_;
  std::string field_manager_;
  std::function<void(std::chrono::milliseconds)> sleeper_;
};

// One line of a watch stream (as a LineFramer delivers it): the event, or
// std::nullopt for a blank line (a keep-alive), or Error "BadWatchEvent"
// (code 0, so the caller resumes from its last resourceVersion) for a line
// that is not {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": ...}.
Result<std::optional<WatchEvent>> decode_watch_line(std::string_view line);

// Turns a non-2xx HttpResponse into an Error, reading a metav1.Status body
// when there is one.
Error error_from_response(const HttpResponse& response);

}  // namespace kube
