// ClientLeaseStore and ClientEventSink over kube::Client with a scripted
// transport: the HTTP each one sends and how API errors come back.
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "kube/client.h"
#include "kube/fake_transport.h"
#include "runtime/event_recorder.h"
#include "runtime/leader_election.h"

namespace runtime {
namespace {

class ClientAdaptersTest : public ::testing::Test {
 protected:
  std::shared_ptr<kube_test::FakeTransport> fake = std::make_shared<kube_test::FakeTransport>();
  kube::Client client{fake, fake, kube::RetryPolicy{1}};
};

const char* kStatusConflict =
    R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Conflict","code":409,
        "message":"the object has been modified"})";

TEST_F(ClientAdaptersTest, LeaseStoreReadsCreatesAndReplacesWithResourceVersion) {
  ClientLeaseStore store(client, "electric-system", "electric-operator-leader");
  EXPECT_EQ(store.describe(), "electric-system/electric-operator-leader");

  fake->respond(404, R"({"kind":"Status","reason":"NotFound","code":404})");
  kube::Result<ObservedLease> missing = store.get();
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().is_not_found());
  EXPECT_EQ(fake->last().method, "GET");
  EXPECT_EQ(fake->last().path_and_query,
            "/apis/coordination.k8s.io/v1/namespaces/electric-system/leases/electric-operator-leader");

  LeaseRecord record{"pod-a_x1", 15, "2024-01-01T00:00:00.000000Z",
                     "2024-01-01T00:00:00.000000Z", 0};
  fake->respond_json(201, lease_to_json("electric-system", "electric-operator-leader", record, "7"));
  kube::Result<ObservedLease> created = store.create(record);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created.value().resource_version, "7");
  EXPECT_EQ(created.value().record, record);
  EXPECT_EQ(fake->last().method, "POST");
  EXPECT_EQ(fake->last().path_and_query.rfind(
                "/apis/coordination.k8s.io/v1/namespaces/electric-system/leases", 0),
            0u);
  nlohmann::json posted = nlohmann::json::parse(fake->last().body);
  EXPECT_EQ(posted["spec"]["holderIdentity"], "pod-a_x1");
  EXPECT_FALSE(posted["metadata"].contains("resourceVersion"));

  fake->respond(409, kStatusConflict);
  kube::Result<ObservedLease> stale = store.update(record, "7");
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error().is_conflict());
  EXPECT_EQ(fake->last().method, "PUT");
  nlohmann::json put = nlohmann::json::parse(fake->last().body);
  EXPECT_EQ(put["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(put["kind"], "Lease");
}

TEST_F(ClientAdaptersTest, EventSinkPostsAndMergePatchesCoreEvents) {
  ClientEventSink sink(client);
  nlohmann::json event = {{"metadata", {{"name", "myapp.17"}, {"namespace", "prod"}}}};
  fake->respond_json(201, event);
  ASSERT_TRUE(sink.create("prod", event).ok());
  EXPECT_EQ(fake->last().method, "POST");
  EXPECT_EQ(fake->last().path_and_query, "/api/v1/namespaces/prod/events");

  fake->respond_json(200, event);
  ASSERT_TRUE(sink.patch("prod", "myapp.17", {{"count", 2}}).ok());
  EXPECT_EQ(fake->last().method, "PATCH");
  EXPECT_EQ(fake->last().path_and_query.rfind("/api/v1/namespaces/prod/events/myapp.17", 0), 0u);
  EXPECT_EQ(kube_test::header(fake->last(), "Content-Type"), "application/merge-patch+json");

  fake->respond(404, R"({"kind":"Status","reason":"NotFound","code":404})");
  kube::Result<nlohmann::json> gone = sink.patch("prod", "myapp.17", {{"count", 3}});
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.error().is_not_found());
}

}  // namespace
}  // namespace runtime
