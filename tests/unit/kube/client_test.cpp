// Client against a scripted transport: what goes on the wire for each verb,
// how answers become values, and the retry policy.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <tuple>
#include <vector>

#include "kube/client.h"
#include "kube/fake_transport.h"

namespace kube {
namespace {

using json = nlohmann::json;
using kube_test::FakeTransport;
using kube_test::header;
using std::chrono::milliseconds;
using testing::ElementsAre;
using testing::HasSubstr;

json status_body(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
          {"code", code},     {"reason", reason},   {"message", message}};
}

class ClientTest : public testing::Test {
 protected:
  ClientTest() : fake(std::make_shared<FakeTransport>()), client(fake, fake) {
    client.set_sleeper([this](milliseconds d) { sleeps.push_back(d); });
    client.set_field_manager("electric-operator");
  }
  std::shared_ptr<FakeTransport> fake;
  Client client;
  std::vector<milliseconds> sleeps;
};

TEST_F(ClientTest, GetAddressesTheObjectAndParsesIt) {
  fake->respond_json(200, {{"kind", "ConfigMap"}, {"metadata", {{"name", "x"}}}});
  auto got = client.get(kConfigMaps, "prod", "x");
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(got.value()["metadata"]["name"], "x");
  const HttpRequest request = fake->last();
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path_and_query, "/api/v1/namespaces/prod/configmaps/x");
  EXPECT_EQ(header(request, "Accept"), "application/json");
  EXPECT_TRUE(request.body.empty());
}

TEST_F(ClientTest, GetNotFoundIsAValueCarryingTheStatus) {
  fake->respond_json(404, status_body(404, "NotFound", "configmaps \"x\" not found"));
  auto got = client.get(kConfigMaps, "prod", "x");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.error().is_not_found());
  EXPECT_EQ(got.error().reason, "NotFound");
  EXPECT_EQ(got.error().message, "configmaps \"x\" not found");
  EXPECT_EQ(fake->requests().size(), 1u);
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(ClientTest, ANonJsonSuccessBodyIsAnError) {
  fake->respond(200, "<html>");
  auto got = client.get(kConfigMaps, "prod", "x");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().reason, "BadResponse");
}

TEST_F(ClientTest, ListEncodesSelectorsAndPages) {
  fake->respond_json(200, {{"kind", "ConfigMapList"},
                           {"metadata", {{"resourceVersion", "42"}, {"continue", "next"}}},
                           {"items", {{{"metadata", {{"name", "a"}}}}}}});
  ListOptions options;
  options.label_selector = "app.kubernetes.io/managed-by=electric-operator";
  options.field_selector = "metadata.name=a";
  options.limit = 50;
  auto got = client.list(kConfigMaps, "prod", options);
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(fake->last().path_and_query,
            "/api/v1/namespaces/prod/configmaps"
            "?labelSelector=app.kubernetes.io%2Fmanaged-by%3Delectric-operator"
            "&fieldSelector=metadata.name%3Da&limit=50");
  EXPECT_EQ(got.value().resource_version, "42");
  EXPECT_EQ(got.value().continue_token, "next");
  ASSERT_EQ(got.value().items.size(), 1u);
  // Items come back with the apiVersion/kind a list leaves out.
  EXPECT_EQ(got.value().items[0]["kind"], "ConfigMap");
  EXPECT_EQ(got.value().items[0]["apiVersion"], "v1");
}

TEST_F(ClientTest, AMetadataOnlyListAsksForPartialObjectMetadata) {
  fake->respond_json(200, {{"kind", "PartialObjectMetadataList"},
                           {"apiVersion", "meta.k8s.io/v1"},
                           {"metadata", {{"resourceVersion", "7"}}},
                           {"items", {{{"metadata", {{"name", "a"}}}}}}});
  ListOptions options;
  options.metadata_only = true;
  auto got = client.list(kSecrets, "prod", options);
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(header(fake->last(), "Accept"),
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1");
  EXPECT_EQ(fake->last().path_and_query, "/api/v1/namespaces/prod/secrets?limit=500");
  EXPECT_EQ(got.value().resource_version, "7");
  ASSERT_EQ(got.value().items.size(), 1u);
  EXPECT_EQ(got.value().items[0]["metadata"]["name"], "a");
}

TEST_F(ClientTest, ListWithoutPagingOrSelectorsHasNoQuery) {
  fake->respond_json(200, {{"items", json::array()}, {"metadata", json::object()}});
  ListOptions options;
  options.limit = 0;
  ASSERT_TRUE(client.list(kNamespaces, "", options).ok());
  EXPECT_EQ(fake->last().path_and_query, "/api/v1/namespaces");
}

TEST_F(ClientTest, ListAllFollowsContinueTokens) {
  fake->respond_json(200, {{"metadata", {{"resourceVersion", "100"}, {"continue", "c1"}}},
                           {"items", {{{"metadata", {{"name", "a"}}}}}}});
  fake->respond_json(200, {{"metadata", {{"resourceVersion", "100"}, {"continue", "c/2="}}},
                           {"items", {{{"metadata", {{"name", "b"}}}}}}});
  fake->respond_json(200, {{"metadata", {{"resourceVersion", "100"}}},
                           {"items", {{{"metadata", {{"name", "c"}}}}}}});
  ListOptions options;
  options.limit = 1;
  options.resource_version = "0";
  auto got = client.list_all(kDeployments, "prod", options);
  ASSERT_TRUE(got.ok()) << got.error().describe();
  ASSERT_EQ(got.value().items.size(), 3u);
  EXPECT_EQ(got.value().items[2]["metadata"]["name"], "c");
  EXPECT_EQ(got.value().resource_version, "100");
  EXPECT_TRUE(got.value().continue_token.empty());
  const auto requests = fake->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].path_and_query,
            "/apis/apps/v1/namespaces/prod/deployments?limit=1&resourceVersion=0");
  EXPECT_EQ(requests[1].path_and_query,
            "/apis/apps/v1/namespaces/prod/deployments?limit=1&continue=c1");
  EXPECT_EQ(requests[2].path_and_query,
            "/apis/apps/v1/namespaces/prod/deployments?limit=1&continue=c%2F2%3D");
}

TEST_F(ClientTest, ListAllReturnsTheErrorOfAFailedPage) {
  fake->respond_json(200, {{"metadata", {{"resourceVersion", "1"}, {"continue", "c1"}}},
                           {"items", json::array()}});
  fake->respond_json(410, status_body(410, "Expired", "continue token expired"));
  auto got = client.list_all(kConfigMaps, "prod");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.error().is_gone());
}

TEST_F(ClientTest, CreatePostsJsonToTheCollection) {
  fake->respond_json(201, {{"metadata", {{"name", "x"}, {"uid", "u1"}}}});
  json body = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "x"}}}};
  auto got = client.create(kConfigMaps, "prod", body);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value()["metadata"]["uid"], "u1");
  const HttpRequest request = fake->last();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path_and_query, "/api/v1/namespaces/prod/configmaps");
  EXPECT_EQ(header(request, "Content-Type"), "application/json");
  EXPECT_EQ(json::parse(request.body), body);
}

TEST_F(ClientTest, ApplyIsAForcedServerSidePatchWithOurFieldManager) {
  fake->respond_json(200, {{"metadata", {{"name", "x"}}}});
  auto got = client.apply(kConfigMaps, "prod", "x", {{"data", {{"k", "v"}}}});
  ASSERT_TRUE(got.ok());
  const HttpRequest request = fake->last();
  EXPECT_EQ(request.method, "PATCH");
  EXPECT_EQ(request.path_and_query,
            "/api/v1/namespaces/prod/configmaps/x?fieldManager=electric-operator&force=true");
  EXPECT_EQ(header(request, "Content-Type"), "application/apply-patch+yaml");
  const json sent = json::parse(request.body);
  EXPECT_EQ(sent["apiVersion"], "v1");
  EXPECT_EQ(sent["kind"], "ConfigMap");
  EXPECT_EQ(sent["metadata"]["name"], "x");
  EXPECT_EQ(sent["metadata"]["namespace"], "prod");
  EXPECT_EQ(sent["data"]["k"], "v");
}

TEST_F(ClientTest, ApplyKeepsWhatTheBodySaysAndCanSkipForce) {
  fake->respond_json(200, json::object());
  json body = {{"apiVersion", "apps/v1"},
               {"kind", "Deployment"},
               {"metadata", {{"name", "x"}, {"labels", {{"a", "b"}}}}}};
  ASSERT_TRUE(client.apply(kDeployments, "prod", "x", body, /*force=*/false).ok());
  const HttpRequest request = fake->last();
  EXPECT_EQ(request.path_and_query,
            "/apis/apps/v1/namespaces/prod/deployments/x?fieldManager=electric-operator");
  const json sent = json::parse(request.body);
  EXPECT_EQ(sent["metadata"]["labels"]["a"], "b");
  EXPECT_EQ(sent["metadata"]["namespace"], "prod");
}

TEST_F(ClientTest, ApplyToTheStatusSubresource) {
  const Resource shard_sets{"electric-sql.com/v1alpha1", "electricshardsets",
                            "ElectricShardSet", true};
  fake->respond_json(200, json::object());
  ASSERT_TRUE(client.apply(shard_sets, "prod", "main", {{"status", {{"ready", 1}}}}, true,
                           "status")
                  .ok());
  EXPECT_EQ(fake->last().path_and_query,
            "/apis/electric-sql.com/v1alpha1/namespaces/prod/electricshardsets/main/status"
            "?fieldManager=electric-operator&force=true");
  EXPECT_EQ(json::parse(fake->last().body)["kind"], "ElectricShardSet");
}

TEST_F(ClientTest, TheFieldManagerCanBeChangedForTests) {
  client.set_field_manager("integration-test");
  fake->respond_json(200, json::object());
  ASSERT_TRUE(client.apply(kConfigMaps, "prod", "x", json::object()).ok());
  EXPECT_EQ(fake->last().path_and_query,
            "/api/v1/namespaces/prod/configmaps/x?fieldManager=integration-test&force=true");
}

TEST_F(ClientTest, MergePatchUsesTheMergePatchContentType) {
  fake->respond_json(200, json::object());
  json patch = {{"metadata", {{"annotations", {{"a", nullptr}}}}}};
  ASSERT_TRUE(client.merge_patch(kServices, "prod", "svc", patch).ok());
  const HttpRequest request = fake->last();
  EXPECT_EQ(request.method, "PATCH");
  EXPECT_EQ(request.path_and_query,
            "/api/v1/namespaces/prod/services/svc?fieldManager=electric-operator");
  EXPECT_EQ(header(request, "Content-Type"), "application/merge-patch+json");
  EXPECT_EQ(json::parse(request.body), patch);
}

TEST_F(ClientTest, ReplacePutsTheWholeObject) {
  fake->respond_json(200, json::object());
  ASSERT_TRUE(client.replace(kLeases, "ops", "leader", {{"spec", json::object()}}).ok());
  EXPECT_EQ(fake->last().method, "PUT");
  EXPECT_EQ(fake->last().path_and_query,
            "/apis/coordination.k8s.io/v1/namespaces/ops/leases/leader"
            "?fieldManager=electric-operator");
  fake->respond_json(200, json::object());
  ASSERT_TRUE(client.replace(kDeployments, "p", "d", json::object(), "status").ok());
  EXPECT_EQ(fake->last().path_and_query,
            "/apis/apps/v1/namespaces/p/deployments/d/status?fieldManager=electric-operator");
}

TEST_F(ClientTest, RemoveSendsDeleteOptions) {
  fake->respond_json(200, status_body(200, "", ""));
  DeleteOptions options;
  options.propagation = Propagation::Foreground;
  options.precondition_uid = "uid-1";
  options.precondition_resource_version = "7";
  ASSERT_TRUE(client.remove(kPersistentVolumeClaims, "prod", "data", options).ok());
  const HttpRequest request = fake->last();
  EXPECT_EQ(request.method, "DELETE");
  EXPECT_EQ(request.path_and_query, "/api/v1/namespaces/prod/persistentvolumeclaims/data");
  const json sent = json::parse(request.body);
  EXPECT_EQ(sent["kind"], "DeleteOptions");
  EXPECT_EQ(sent["propagationPolicy"], "Foreground");
  EXPECT_EQ(sent["preconditions"]["uid"], "uid-1");
  EXPECT_EQ(sent["preconditions"]["resourceVersion"], "7");
}

TEST_F(ClientTest, RemoveDefaultsToBackgroundAndCanLeaveThePolicyOut) {
  fake->respond_json(200, json::object());
  ASSERT_TRUE(client.remove(kConfigMaps, "prod", "x").ok());
  json sent = json::parse(fake->last().body);
  EXPECT_EQ(sent["propagationPolicy"], "Background");
  EXPECT_FALSE(sent.contains("preconditions"));

  fake->respond_json(200, json::object());
  DeleteOptions server_default;
  server_default.propagation = Propagation::Default;
  ASSERT_TRUE(client.remove(kConfigMaps, "prod", "x", server_default).ok());
  sent = json::parse(fake->last().body);
  EXPECT_FALSE(sent.contains("propagationPolicy"));
}

TEST_F(ClientTest, RemoveReportsAFailedPrecondition) {
  fake->respond_json(409, status_body(409, "Conflict", "Precondition failed: UID in precondition"));
  DeleteOptions options;
  options.precondition_uid = "old";
  Done done = client.remove(kConfigMaps, "prod", "x", options);
  ASSERT_FALSE(done.ok());
  EXPECT_TRUE(done.error().is_conflict());
  EXPECT_THAT(done.error().message, HasSubstr("Precondition failed"));
}

TEST_F(ClientTest, RetriesTooManyRequestsHonouringRetryAfter) {
  fake->respond_json(429, status_body(429, "TooManyRequests", "slow down"),
                     {{"retry-after", "2"}});
  fake->respond_json(200, {{"metadata", {{"name", "x"}}}});
  auto got = client.get(kConfigMaps, "prod", "x");
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(fake->requests().size(), 2u);
  EXPECT_THAT(sleeps, ElementsAre(milliseconds(2000)));
}

TEST_F(ClientTest, RetriesServerErrorsWithExponentialBackoff) {
  fake->respond_json(503, status_body(503, "ServiceUnavailable", "etcd"));
  fake->respond(500, "");
  fake->fail("connection reset by peer");
  fake->respond_json(200, json::object());
  auto got = client.apply(kConfigMaps, "prod", "x", json::object());
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(fake->requests().size(), 4u);
  EXPECT_THAT(sleeps, ElementsAre(milliseconds(100), milliseconds(200), milliseconds(400)));
}

// Server-side apply's 500 for a body the schema refuses gets the same
// answer every time (kubernetes/kubernetes#139253): no retry.
TEST_F(ClientTest, AnApplyTheSchemaRefusesIsARefusalNotRetried) {
  fake->respond_json(500, status_body(500, "", "failed to create typed patch object (prod/x; apps/v1, Kind=Deployment): "
                                                ".spec.template.spec.affinity.n: field not declared in schema"));
  auto got = client.apply(kConfigMaps, "prod", "x", json::object());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(fake->requests().size(), 1u);
  EXPECT_TRUE(sleeps.empty());
  EXPECT_TRUE(got.error().is_refusal());
  EXPECT_FALSE(got.error().is_retryable());
  EXPECT_FALSE(Error(500, "InternalError", "etcd timeout").is_refusal());
  EXPECT_TRUE(Error(403, "Forbidden", "exceeded quota").is_refusal());
}

TEST_F(ClientTest, GivesUpAfterMaxAttemptsWithTheLastError) {
  RetryPolicy policy;
  policy.max_attempts = 3;
  policy.initial_backoff = milliseconds(10);
  policy.max_backoff = milliseconds(15);
  Client limited(fake, fake, policy);
  limited.set_sleeper([this](milliseconds d) { sleeps.push_back(d); });
  for (int i = 0; i < 3; ++i) {
    fake->respond_json(503, status_body(503, "ServiceUnavailable", "try " + std::to_string(i)));
  }
  auto got = limited.get(kConfigMaps, "prod", "x");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().http_code, 503);
  EXPECT_EQ(got.error().message, "try 2");
  EXPECT_EQ(fake->requests().size(), 3u);
  EXPECT_THAT(sleeps, ElementsAre(milliseconds(10), milliseconds(15)));
}

TEST_F(ClientTest, ATransportFailureIsRetriedThenReturnedAsCodeZero) {
  RetryPolicy policy;
  policy.max_attempts = 2;
  Client limited(fake, fake, policy);
  limited.set_sleeper([this](milliseconds d) { sleeps.push_back(d); });
  fake->fail("connection refused");
  fake->fail("connection refused again");
  auto got = limited.get(kConfigMaps, "prod", "x");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().http_code, 0);
  EXPECT_EQ(got.error().reason, "TransportError");
  EXPECT_EQ(got.error().message, "connection refused again");
  EXPECT_EQ(sleeps.size(), 1u);
}

TEST_F(ClientTest, RetryAfterIsCapped) {
  fake->respond(503, "", {{"retry-after", "86400"}});
  fake->respond_json(200, json::object());
  ASSERT_TRUE(client.get(kConfigMaps, "prod", "x").ok());
  EXPECT_THAT(sleeps, ElementsAre(RetryPolicy{}.max_retry_after));
}

class NoRetry : public ClientTest, public testing::WithParamInterface<std::tuple<int, const char*>> {};

TEST_P(NoRetry, ClientErrorsAreReturnedAtOnce) {
  const auto [code, reason] = GetParam();
  fake->respond_json(code, status_body(code, reason, "nope"));
  fake->respond_json(200, json::object());  // must stay unused
  auto got = client.create(kConfigMaps, "prod", {{"metadata", {{"name", "x"}}}});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().http_code, code);
  EXPECT_EQ(got.error().reason, reason);
  EXPECT_FALSE(got.error().is_retryable());
  EXPECT_EQ(fake->requests().size(), 1u);
  EXPECT_TRUE(sleeps.empty());
}

INSTANTIATE_TEST_SUITE_P(Codes, NoRetry,
                         testing::Values(std::make_tuple(400, "BadRequest"),
                                         std::make_tuple(403, "Forbidden"),
                                         std::make_tuple(404, "NotFound"),
                                         std::make_tuple(409, "AlreadyExists"),
                                         std::make_tuple(422, "Invalid")));

TEST_F(ClientTest, TheObserverSeesEveryAnswer) {
  std::vector<std::tuple<int, std::string, std::string>> seen;
  client.set_request_observer([&](int code, const std::string& method, const std::string& host) {
    seen.emplace_back(code, method, host);
  });
  fake->respond(429, "");
  fake->fail();
  fake->respond_json(200, json::object());
  ASSERT_TRUE(client.merge_patch(kConfigMaps, "p", "x", json::object()).ok());
  fake->respond_json(404, status_body(404, "NotFound", ""));
  ASSERT_FALSE(client.get(kConfigMaps, "p", "x").ok());
  EXPECT_THAT(seen, ElementsAre(std::make_tuple(429, "PATCH", "fake:6443"),
                                std::make_tuple(0, "PATCH", "fake:6443"),
                                std::make_tuple(200, "PATCH", "fake:6443"),
                                std::make_tuple(404, "GET", "fake:6443")));
}

TEST(ErrorFromResponse, ReadsAStatusBody) {
  HttpResponse response{403, {}, status_body(403, "Forbidden",
                                             "configmaps is forbidden: User \"x\" cannot list")
                                     .dump()};
  Error error = error_from_response(response);
  EXPECT_EQ(error.http_code, 403);
  EXPECT_EQ(error.reason, "Forbidden");
  EXPECT_EQ(error.message, "configmaps is forbidden: User \"x\" cannot list");
  EXPECT_TRUE(error.is_forbidden());
  EXPECT_FALSE(error.retry_after.has_value());
  EXPECT_EQ(error.describe(), "403 Forbidden: configmaps is forbidden: User \"x\" cannot list");
}

TEST(ErrorFromResponse, FallsBackToTheStatusCodeAndBody) {
  Error error = error_from_response(HttpResponse{502, {}, "<html>bad gateway</html>"});
  EXPECT_EQ(error.reason, "InternalError");
  EXPECT_EQ(error.message, "<html>bad gateway</html>");
  Error empty = error_from_response(HttpResponse{410, {}, ""});
  EXPECT_EQ(empty.reason, "Expired");
  EXPECT_EQ(empty.message, "the API server answered 410");
  Error huge = error_from_response(HttpResponse{500, {}, std::string(100000, 'x')});
  EXPECT_LE(huge.message.size(), 256u);
}

TEST(ErrorFromResponse, ReadsRetryAfterSeconds) {
  Error error = error_from_response(HttpResponse{429, {{"retry-after", "7"}}, ""});
  ASSERT_TRUE(error.retry_after.has_value());
  EXPECT_EQ(*error.retry_after, std::chrono::seconds(7));
  EXPECT_EQ(error.reason, "TooManyRequests");
  Error date = error_from_response(
      HttpResponse{503, {{"retry-after", "Fri, 31 Dec 1999 23:59:59 GMT"}}, ""});
  EXPECT_FALSE(date.retry_after.has_value());
}

// ---- watch ----

std::string event_line(const std::string& type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump() + "\n";
}

json cm(const std::string& name, const std::string& rv) {
  return {{"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"resourceVersion", rv}}}};
}

TEST_F(ClientTest, WatchBuildsTheQuery) {
  fake->stream({});
  WatchOptions options;
  options.resource_version = "1234";
  options.label_selector = "a=b";
  options.field_selector = "metadata.name=x";
  Cancellation cancel;
  ASSERT_TRUE(client.watch(kConfigMaps, "prod", options, [](const WatchEvent&) { return true; },
                           cancel)
                  .ok());
  const HttpRequest request = fake->last();
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path_and_query,
            "/api/v1/namespaces/prod/configmaps?watch=1&allowWatchBookmarks=true"
            "&timeoutSeconds=290&resourceVersion=1234&labelSelector=a%3Db"
            "&fieldSelector=metadata.name%3Dx");
}

TEST_F(ClientTest, AMetadataOnlyWatchAsksForPartialObjectMetadata) {
  fake->stream({});
  WatchOptions options;
  options.metadata_only = true;
  Cancellation cancel;
  ASSERT_TRUE(client.watch(kSecrets, "", options, [](const WatchEvent&) { return true; }, cancel).ok());
  EXPECT_EQ(header(fake->last(), "Accept"), "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1");
}

TEST_F(ClientTest, WatchDeliversEveryEventTypeInOrderWhateverTheChunking) {
  const std::string stream = event_line("ADDED", cm("a", "1")) +
                             event_line("MODIFIED", cm("a", "2")) +
                             event_line("BOOKMARK", {{"kind", "ConfigMap"},
                                                     {"metadata", {{"resourceVersion", "3"}}}}) +
                             event_line("DELETED", cm("a", "4")) +
                             event_line("ERROR", status_body(410, "Expired", "too old"));
  // Split mid-event and merge several events into one chunk.
  std::vector<std::string> chunks{stream.substr(0, 10), stream.substr(10, 150),
                                  stream.substr(160)};
  fake->stream(chunks);
  std::vector<WatchEvent> events;
  Cancellation cancel;
  Done done = client.watch(kConfigMaps, "prod", {}, [&](const WatchEvent& e) {
    events.push_back(e);
    return true;
  }, cancel);
  ASSERT_TRUE(done.ok()) << done.error().describe();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].type, WatchEvent::Type::Added);
  EXPECT_EQ(events[0].object["metadata"]["resourceVersion"], "1");
  EXPECT_EQ(events[1].type, WatchEvent::Type::Modified);
  EXPECT_EQ(events[2].type, WatchEvent::Type::Bookmark);
  EXPECT_EQ(events[2].object["metadata"]["resourceVersion"], "3");
  EXPECT_EQ(events[3].type, WatchEvent::Type::Deleted);
  EXPECT_EQ(events[4].type, WatchEvent::Type::Error);
  EXPECT_EQ(events[4].object["code"], 410);
}

TEST_F(ClientTest, WatchStopsWhenTheCallbackSaysSo) {
  fake->stream({event_line("ADDED", cm("a", "1")) + event_line("ADDED", cm("b", "2"))});
  int seen = 0;
  Cancellation cancel;
  Done done = client.watch(kConfigMaps, "prod", {}, [&](const WatchEvent&) {
    ++seen;
    return false;
  }, cancel);
  EXPECT_TRUE(done.ok());
  EXPECT_EQ(seen, 1);
}

TEST_F(ClientTest, WatchGoneAsHttpStatusIsAnError) {
  fake->stream({}, 410, status_body(410, "Expired", "too old resource version: 1 (5)").dump());
  Cancellation cancel;
  int seen = 0;
  Done done = client.watch(kConfigMaps, "prod", {}, [&](const WatchEvent&) {
    ++seen;
    return true;
  }, cancel);
  ASSERT_FALSE(done.ok());
  EXPECT_TRUE(done.error().is_gone());
  EXPECT_EQ(done.error().reason, "Expired");
  EXPECT_EQ(seen, 0);
}

TEST_F(ClientTest, WatchIsNotRetriedHere) {
  fake->stream_failure("connection reset");
  Cancellation cancel;
  Done done = client.watch(kConfigMaps, "prod", {}, [](const WatchEvent&) { return true; },
                           cancel);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().http_code, 0);
  EXPECT_TRUE(done.error().is_retryable());
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(ClientTest, WatchRejectsALineThatIsNotAnEvent) {
  fake->stream({event_line("ADDED", cm("a", "1")), "not json\n", event_line("ADDED", cm("b", "2"))});
  int seen = 0;
  Cancellation cancel;
  Done done = client.watch(kConfigMaps, "prod", {}, [&](const WatchEvent&) {
    ++seen;
    return true;
  }, cancel);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().reason, "BadWatchEvent");
  EXPECT_EQ(seen, 1);
  fake->stream({R"({"type":"EXPLODED","object":{}})" "\n"});
  done = client.watch(kConfigMaps, "prod", {}, [](const WatchEvent&) { return true; }, cancel);
  EXPECT_FALSE(done.ok());
}

TEST_F(ClientTest, WatchSkipsBlankLines) {
  fake->stream({"\n", event_line("ADDED", cm("a", "1")), "\r\n"});
  int seen = 0;
  Cancellation cancel;
  ASSERT_TRUE(client.watch(kConfigMaps, "prod", {}, [&](const WatchEvent&) {
    ++seen;
    return true;
  }, cancel).ok());
  EXPECT_EQ(seen, 1);
}

TEST_F(ClientTest, ACancelledWatchEndsQuietly) {
  fake->stream({event_line("ADDED", cm("a", "1")), event_line("ADDED", cm("b", "2"))});
  Cancellation cancel;
  int seen = 0;
  Done done = client.watch(kConfigMaps, "prod", {}, [&](const WatchEvent&) {
    ++seen;
    cancel.cancel();
    return true;
  }, cancel);
  EXPECT_TRUE(done.ok());
  EXPECT_EQ(seen, 1);
}

TEST_F(ClientTest, TheObserverSeesWatches) {
  int observed = 0;
  client.set_request_observer([&](int code, const std::string& method, const std::string&) {
    EXPECT_EQ(code, 200);
    EXPECT_EQ(method, "GET");
    ++observed;
  });
  fake->stream({});
  Cancellation cancel;
  EXPECT_TRUE(client.watch(kConfigMaps, "", {}, [](const WatchEvent&) { return true; }, cancel).ok());
  EXPECT_EQ(observed, 1);
  EXPECT_EQ(fake->last().path_and_query,
            "/api/v1/configmaps?watch=1&allowWatchBookmarks=true&timeoutSeconds=290");
}

TEST(DecodeWatchLine, EventsBlankLinesAndBadLines) {
  auto added = decode_watch_line(R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})");
  ASSERT_TRUE(added.ok());
  ASSERT_TRUE(added.value().has_value());
  EXPECT_EQ(added.value()->type, WatchEvent::Type::Added);
  EXPECT_EQ(added.value()->object["metadata"]["name"], "a");
  auto blank = decode_watch_line(" \t\r");
  ASSERT_TRUE(blank.ok());
  EXPECT_FALSE(blank.value().has_value());
  for (const char* line : {"{\"type\":\"ADDED\"}", "{\"type\":1,\"object\":{}}", "[]", "{\"type\":\"NEW\",\"object\":{}}"}) {
    auto bad = decode_watch_line(line);
    ASSERT_FALSE(bad.ok()) << line;
    EXPECT_EQ(bad.error().reason, "BadWatchEvent");
    EXPECT_TRUE(bad.error().is_retryable());
  }
}

}  // namespace
}  // namespace kube
