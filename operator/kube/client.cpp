#include "kube/client.h"

#include <algorithm>
#include <thread>
#include <utility>

namespace kube {
namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kApplyPatch = "application/apply-patch+yaml";
constexpr const char* kMergePatch = "application/merge-patch+json";
constexpr const char* kJsonPatch = "application/json-patch+json";
// The API server's content negotiation for metadata-only reads (since 1.15).
// No fallback to plain JSON: a server that cannot answer with metadata only
// should fail the call (406) rather than send whole objects.
constexpr const char* kMetadataListAccept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
constexpr const char* kMetadataAccept = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

// Builds "?a=1&b=2" with every value percent-encoded; empty values skipped.
class Query {
 public:
  Query& add(const char* key, const std::string& value) {
    if (value.empty()) return *this;
    text_ += text_.empty() ? '?' : '&';
    text_ += key;
    text_ += '=';
    text_ += url_encode(value);
    return *this;
  }
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

HttpRequest make_request(const char* method, std::string path_and_query) {
  HttpRequest request;
  request.method = method;
  request.path_and_query = std::move(path_and_query);
  request.headers.emplace_back("Accept", kJson);
  return request;
}

void set_accept(HttpRequest& request, const char* accept) {
  for (auto& [name, value] : request.headers) {
    if (name == "Accept") value = accept;
  }
}

void set_body(HttpRequest& request, const char* content_type, const json& body) {
  request.headers.emplace_back("Content-Type", content_type);
  request.body = body.dump();
}

bool is_success(int status) { return status >= 200 && status < 300; }

// The reason the API server would give for a bare status code, for answers
// that carry no Status body (proxies, load balancers, old servers).
const char* default_reason(int status) {
  switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 413: return "RequestEntityTooLarge";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return status >= 500 ? "InternalError" : "Unknown";
  }
}

Result<json> parse_object(const HttpResponse& response) {
  json parsed = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Error{response.status, "BadResponse",
                 "the API server answered " + std::to_string(response.status) +
                     " with a body that is not JSON"};
  }
  return parsed;
}

Result<json> object_or_error(Result<HttpResponse> answer) {
  if (!answer.ok()) return answer.error();
  const HttpResponse& response = answer.value();
  if (!is_success(response.status)) return error_from_response(response);
  return parse_object(response);
}

// Server-side apply needs apiVersion, kind and metadata.name in the body;
// filling them from the call keeps callers from repeating what the path says.
json complete_apply_body(const Resource& r, const std::string& ns,
                         const std::string& name, json body) {
  if (!body.is_object()) return body;
  if (!body.contains("apiVersion")) body["apiVersion"] = r.api_version;
  if (!body.contains("kind")) body["kind"] = r.kind;
  json& metadata = body["metadata"];
  if (!metadata.is_object()) metadata = json::object();
  if (!metadata.contains("name")) metadata["name"] = name;
  if (r.namespaced && !ns.empty() && !metadata.contains("namespace")) {
    metadata["namespace"] = ns;
  }
  return body;
}

const char* propagation_name(Propagation p) {
  switch (p) {
    case Propagation::Background: return "Background";
    case Propagation::Foreground: return "Foreground";
    case Propagation::Orphan: return "Orphan";
    case Propagation::Default: break;
  }
  return nullptr;
}

std::optional<WatchEvent::Type> event_type(const std::string& type) {
  if (type == "ADDED") return WatchEvent::Type::Added;
  if (type == "MODIFIED") return WatchEvent::Type::Modified;
  if (type == "DELETED") return WatchEvent::Type::Deleted;
  if (type == "BOOKMARK") return WatchEvent::Type::Bookmark;
  if (type == "ERROR") return WatchEvent::Type::Error;
  return std::nullopt;
}

std::optional<std::chrono::seconds> parse_retry_after(const HttpResponse& response) {
  auto it = response.headers.find("retry-after");
  if (it == response.headers.end()) return std::nullopt;
  // The API server sends delta-seconds; an HTTP-date (never seen from
  // Kubernetes) falls back to our own backoff.
  const std::string& value = it->second;
  if (value.empty() || value.size() > 9 ||
      !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::chrono::seconds(std::stol(value));
}

}  // namespace

Result<std::optional<WatchEvent>> decode_watch_line(std::string_view line) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
    return std::optional<WatchEvent>();
  }
  json parsed = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  std::optional<WatchEvent::Type> type;
  if (parsed.is_object() && parsed.contains("type") && parsed["type"].is_string()) {
    type = event_type(parsed["type"].get<std::string>());
  }
  if (!type || !parsed.contains("object")) {
    // Code 0 marks it retryable: the caller resumes from the last
    // resourceVersion it saw, which is exactly what a torn stream needs.
    return Error{0, "BadWatchEvent",
                 "the watch stream sent a line that is not a watch event: " +
                     std::string(line.substr(0, 200))};
  }
  WatchEvent event;
  event.type = *type;
  event.object = std::move(parsed["object"]);
  return std::optional<WatchEvent>(std::move(event));
}

Error error_from_response(const HttpResponse& response) {
  Error error;
  error.http_code = response.status;
  error.retry_after = parse_retry_after(response);
  json status = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (status.is_object() && status.value("kind", "") == "Status") {
    error.reason = status.value("reason", "");
    error.message = status.value("message", "");
  }
  if (error.reason.empty()) error.reason = default_reason(response.status);
  if (error.message.empty()) {
    // A non-Status body (an HTML page from a proxy, say) still helps a human;
    // a bounded prefix keeps a log line a line.
    constexpr size_t kMaxBodyInMessage = 256;
    error.message = response.body.substr(0, kMaxBodyInMessage);
    if (error.message.empty()) {
      error.message = "the API server answered " + std::to_string(response.status);
    }
  }
  return error;
}

Client::Client(std::shared_ptr<Transport> requests, std::shared_ptr<Transport> watches,
               RetryPolicy retry)
    : requests_(std::move(requests)),
      watches_(std::move(watches)),
      retry_(retry),
      sleeper_([](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }) {}

void Client::set_request_observer(RequestObserver observer) { observer_ = std::move(observer); }

void Client::set_field_manager(std::string field_manager) {
  field_manager_ = std::move(field_manager);
}

void Client::set_sleeper(std::function<void(std::chrono::milliseconds)> sleeper) {
  sleeper_ = std::move(sleeper);
}

Result<HttpResponse> Client::send_with_retry(HttpRequest request) {
  std::chrono::milliseconds backoff = retry_.initial_backoff;
  const int attempts = std::max(1, retry_.max_attempts);
  for (int attempt = 1;; ++attempt) {
    Result<HttpResponse> answer = requests_->send(request);
    const int code = answer.ok() ? answer.value().status : 0;
    if (observer_) observer_(code, request.method, requests_->host());

    std::optional<std::chrono::seconds> retry_after;
    if (answer.ok()) {
      const HttpResponse& response = answer.value();
      const bool retryable = (response.status == 429 || response.status >= 500) &&
                             !error_from_response(response).is_typed_patch_refusal();
      if (!retryable || attempt >= attempts) return answer;
      retry_after = parse_retry_after(response);
    } else {
      if (!answer.error().is_retryable() || attempt >= attempts) return answer;
      retry_after = answer.error().retry_after;
    }

    std::chrono::milliseconds delay = backoff;
    if (retry_after) {
      delay = std::min<std::chrono::milliseconds>(*retry_after, retry_.max_retry_after);
    }
    sleeper_(delay);
    backoff = std::min(backoff * 2, retry_.max_backoff);
  }
}

Result<json> Client::get(const Resource& r, const std::string& ns, const std::string& name) {
  return object_or_error(send_with_retry(make_request("GET", object_path(r, ns, name))));
}

Result<ObjectList> Client::list(const Resource& r, const std::string& ns,
                                const ListOptions& options) {
  Query query;
  query.add("labelSelector", options.label_selector)
      .add("fieldSelector", options.field_selector)
      .add("limit", options.limit > 0 ? std::to_string(options.limit) : std::string())
      .add("continue", options.continue_token)
      .add("resourceVersion", options.resource_version);
  HttpRequest request = make_request("GET", collection_path(r, ns) + query.str());
  if (options.metadata_only) set_accept(request, kMetadataListAccept);
  Result<json> body = object_or_error(send_with_retry(std::move(request)));
  if (!body.ok()) return body.error();

  json& list = body.value();
  ObjectList out;
  if (list.contains("metadata") && list["metadata"].is_object()) {
    out.resource_version = list["metadata"].value("resourceVersion", "");
    out.continue_token = list["metadata"].value("continue", "");
  }
  if (list.contains("items") && list["items"].is_array()) {
    out.items.reserve(list["items"].size());
    for (json& item : list["items"]) {
      // Items of a list carry no apiVersion/kind; restoring them lets callers
      // treat listed and watched objects alike.
      if (item.is_object()) {
        if (!item.contains("apiVersion")) item["apiVersion"] = r.api_version;
        if (!item.contains("kind")) item["kind"] = r.kind;
      }
      out.items.push_back(std::move(item));
    }
  }
  return out;
}

Result<ObjectList> Client::list_all(const Resource& r, const std::string& ns,
                                    ListOptions options) {
  ObjectList all;
  bool first = true;
  do {
    Result<ObjectList> page = list(r, ns, options);
    if (!page.ok()) return page.error();
    ObjectList& got = page.value();
    if (first) {
      all.resource_version = got.resource_version;
      first = false;
    }
    for (json& item : got.items) all.items.push_back(std::move(item));
    options.continue_token = got.continue_token;
    // A continued list is served from the first page's snapshot; the server
    // rejects a resourceVersion alongside a continue token.
    options.resource_version.clear();
  } while (!options.continue_token.empty());
  return all;
}

Result<json> Client::create(const Resource& r, const std::string& ns, const json& body) {
  HttpRequest request = make_request("POST", collection_path(r, ns));
  set_body(request, kJson, body);
  return object_or_error(send_with_retry(std::move(request)));
}

Result<json> Client::apply(const Resource& r, const std::string& ns, const std::string& name,
                           const json& body, bool force, const std::string& subresource) {
  Query query;
  query.add("fieldManager", field_manager_).add("force", force ? "true" : "");
  HttpRequest request =
      make_request("PATCH", object_path(r, ns, name, subresource) + query.str());
  // JSON is YAML, so the apply content type takes the JSON text as it is.
  set_body(request, kApplyPatch, complete_apply_body(r, ns, name, body));
  return object_or_error(send_with_retry(std::move(request)));
}

Result<json> Client::merge_patch(const Resource& r, const std::string& ns,
                                 const std::string& name, const json& patch,
                                 const std::string& subresource) {
  Query query;
  query.add("fieldManager", field_manager_);
  HttpRequest request =
      make_request("PATCH", object_path(r, ns, name, subresource) + query.str());
  set_body(request, kMergePatch, patch);
  return object_or_error(send_with_retry(std::move(request)));
}

Result<json> Client::json_patch(const Resource& r, const std::string& ns, const std::string& name,
                                const json& operations) {
  Query query;
  query.add("fieldManager", field_manager_);
  HttpRequest request = make_request("PATCH", object_path(r, ns, name, {}) + query.str());
  set_body(request, kJsonPatch, operations);
  return object_or_error(send_with_retry(std::move(request)));
}

Result<json> Client::replace(const Resource& r, const std::string& ns, const std::string& name,
                             const json& body, const std::string& subresource) {
  Query query;
  query.add("fieldManager", field_manager_);
  HttpRequest request = make_request("PUT", object_path(r, ns, name, subresource) + query.str());
  set_body(request, kJson, body);
  return object_or_error(send_with_retry(std::move(request)));
}

Done Client::remove(const Resource& r, const std::string& ns, const std::string& name,
                    const DeleteOptions& options) {
  json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (const char* policy = propagation_name(options.propagation)) {
    body["propagationPolicy"] = policy;
  }
  if (!options.precondition_uid.empty()) {
    body["preconditions"]["uid"] = options.precondition_uid;
  }
  if (!options.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
  }
  HttpRequest request = make_request("DELETE", object_path(r, ns, name));
  set_body(request, kJson, body);
  Result<HttpResponse> answer = send_with_retry(std::move(request));
  if (!answer.ok()) return answer.error();
  if (!is_success(answer.value().status)) return error_from_response(answer.value());
  return ok();
}

Done Client::watch(const Resource& r, const std::string& ns, const WatchOptions& options,
                   const std::function<bool(const WatchEvent&)>& on_event,
                   Cancellation& cancel) {
  Query query;
  query.add("watch", "1")
      .add("allowWatchBookmarks", options.allow_bookmarks ? "true" : "")
      .add("timeoutSeconds",
           options.timeout_seconds > 0 ? std::to_string(options.timeout_seconds) : "")
      .add("resourceVersion", options.resource_version)
      .add("labelSelector", options.label_selector)
      .add("fieldSelector", options.field_selector);
  HttpRequest request = make_request("GET", collection_path(r, ns) + query.str());
  if (options.metadata_only) set_accept(request, kMetadataAccept);

  std::optional<Error> bad_event;
  const auto on_line = [&](std::string_view line) {
    Result<std::optional<WatchEvent>> decoded = decode_watch_line(line);
    if (!decoded.ok()) {
      bad_event = decoded.error();
      return false;
    }
    if (!decoded.value()) return true;
    return on_event(*decoded.value());
  };

  Result<HttpResponse> answer = watches_->stream_lines(request, on_line, cancel);
  if (observer_) {
    observer_(answer.ok() ? answer.value().status : 0, request.method, watches_->host());
  }
  if (cancel.cancelled()) return ok();
  if (bad_event) return *bad_event;
  if (!answer.ok()) return answer.error();
  if (answer.value().status != 200) return error_from_response(answer.value());
  return ok();
}

}  // namespace kube
