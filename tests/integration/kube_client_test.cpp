// The Kubernetes client against the real control plane (tests/cluster):
// CRUD and server-side apply of ConfigMaps, a watch that misses nothing,
// and failures that come back as readable values (wrong CA, no RBAC).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "kube/client.h"
#include "kube/config.h"
#include "support.h"

namespace {

using json = nlohmann::json;
using testing::HasSubstr;
using namespace std::chrono_literals;

const kube::Resource kServiceAccounts{"v1", "serviceaccounts", "ServiceAccount", true};

#define SKIP_WITHOUT_CLUSTER()                                              \
  do {                                                                      \
    if (!itest::cluster_available()) GTEST_SKIP() << "KUBECONFIG not set"; \
  } while (0)

kube::ClusterConfig admin_config() {
  auto cfg = kube::load_kubeconfig(std::getenv("KUBECONFIG"));
  if (!cfg.ok()) throw std::runtime_error(cfg.error().describe());
  return cfg.value();
}

std::unique_ptr<kube::Client> client_for(const kube::ClusterConfig& cfg) {
  kube::RetryPolicy no_retry;
  no_retry.max_attempts = 1;
  return std::make_unique<kube::Client>(
      kube::make_cpprest_transport(cfg, kube::TransportUse::Requests, 10s),
      kube::make_cpprest_transport(cfg, kube::TransportUse::Watches), no_retry);
}

// A self-signed CA that has signed nothing the cluster uses.
std::string unrelated_ca_pem() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("not-the-cluster-ca"), -1, -1,
                             0);
  X509_set_issuer_name(cert, name);
  X509_set_pubkey(cert, key);
  X509_sign(cert, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  X509_free(cert);
  EVP_PKEY_free(key);
  return pem;
}

json config_map(const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}}},
          {"data", {{"key", value}}}};
}

std::string rv_of(const json& object) {
  return object["metadata"]["resourceVersion"].get<std::string>();
}

TEST(KubeClient, ConfigMapCrudAndApply) {
  SKIP_WITHOUT_CLUSTER();
  itest::TestNamespace ns("kube-crud");
  kube::Client& client = itest::client();

  auto created = client.create(kube::kConfigMaps, ns.name(), config_map("crud", "one"));
  ASSERT_TRUE(created.ok()) << created.error().describe();
  auto again = client.create(kube::kConfigMaps, ns.name(), config_map("crud", "one"));
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.error().is_conflict());
  EXPECT_EQ(again.error().reason, "AlreadyExists");

  auto got = client.get(kube::kConfigMaps, ns.name(), "crud");
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(got.value()["data"]["key"], "one");

  auto patched = client.merge_patch(kube::kConfigMaps, ns.name(), "crud",
                                    {{"data", {{"extra", "x"}}}});
  ASSERT_TRUE(patched.ok()) << patched.error().describe();
  EXPECT_EQ(patched.value()["data"]["extra"], "x");

  json replacement = patched.value();
  replacement["data"] = {{"key", "two"}};
  auto replaced = client.replace(kube::kConfigMaps, ns.name(), "crud", replacement);
  ASSERT_TRUE(replaced.ok()) << replaced.error().describe();
  EXPECT_EQ(replaced.value()["data"].size(), 1u);
  // A stale resourceVersion is a conflict, as a value.
  auto stale = client.replace(kube::kConfigMaps, ns.name(), "crud", replacement);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(stale.error().is_conflict());

  auto applied = client.apply(kube::kConfigMaps, ns.name(), "applied",
                              {{"data", {{"key", "three"}}}});
  ASSERT_TRUE(applied.ok()) << applied.error().describe();
  bool managed_by_us = false;
  for (const auto& entry : applied.value()["metadata"]["managedFields"]) {
    if (entry["manager"] == "electric-operator-tests" && entry["operation"] == "Apply") {
      managed_by_us = true;
    }
  }
  EXPECT_TRUE(managed_by_us) << applied.value()["metadata"]["managedFields"].dump();

  auto invalid = client.create(kube::kConfigMaps, ns.name(), config_map("Not_Valid", "x"));
  ASSERT_FALSE(invalid.ok());
  EXPECT_TRUE(invalid.error().is_invalid());

  kube::DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  auto refused = client.remove(kube::kConfigMaps, ns.name(), "crud", wrong_uid);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.error().is_conflict());

  kube::DeleteOptions right_uid;
  right_uid.precondition_uid = replaced.value()["metadata"]["uid"];
  ASSERT_TRUE(client.remove(kube::kConfigMaps, ns.name(), "crud", right_uid).ok());
  auto gone = client.get(kube::kConfigMaps, ns.name(), "crud");
  ASSERT_FALSE(gone.ok());
  EXPECT_TRUE(gone.error().is_not_found());
  auto gone_again = client.remove(kube::kConfigMaps, ns.name(), "crud");
  EXPECT_TRUE(!gone_again.ok() && gone_again.error().is_not_found());
}

TEST(KubeClient, ApplyingTheSameThingTwiceChangesNothing) {
  SKIP_WITHOUT_CLUSTER();
  itest::TestNamespace ns("kube-apply");
  kube::Client& client = itest::client();
  const json body = {{"metadata", {{"labels", {{"app.kubernetes.io/name", "electric"}}}}},
                     {"data", {{"a", "1"}, {"b", "2"}}}};
  auto first = client.apply(kube::kConfigMaps, ns.name(), "twice", body);
  ASSERT_TRUE(first.ok()) << first.error().describe();
  auto second = client.apply(kube::kConfigMaps, ns.name(), "twice", body);
  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_EQ(rv_of(first.value()), rv_of(second.value()));
}

TEST(KubeClient, ListPagesThroughEverything) {
  SKIP_WITHOUT_CLUSTER();
  itest::TestNamespace ns("kube-list");
  kube::Client& client = itest::client();
  for (int i = 0; i < 25; ++i) {
    json cm = config_map("page-" + std::to_string(i), "v");
    cm["metadata"]["labels"] = {{"app.kubernetes.io/component", i % 2 ? "odd" : "even"}};
    ASSERT_TRUE(client.create(kube::kConfigMaps, ns.name(), cm).ok());
  }
  kube::ListOptions options;
  options.limit = 4;
  options.label_selector = "app.kubernetes.io/component in (odd)";
  auto odd = client.list_all(kube::kConfigMaps, ns.name(), options);
  ASSERT_TRUE(odd.ok()) << odd.error().describe();
  EXPECT_EQ(odd.value().items.size(), 12u);
  EXPECT_FALSE(odd.value().resource_version.empty());

  kube::ListOptions by_name;
  by_name.field_selector = "metadata.name=page-3";
  auto one = client.list(kube::kConfigMaps, ns.name(), by_name);
  ASSERT_TRUE(one.ok()) << one.error().describe();
  ASSERT_EQ(one.value().items.size(), 1u);
  EXPECT_EQ(one.value().items[0]["kind"], "ConfigMap");
}

TEST(KubeClient, AWatchSeesEveryChangeOfAThousandObjectsInOrder) {
  SKIP_WITHOUT_CLUSTER();
  itest::TestNamespace ns("kube-watch");
  kube::Client& client = itest::client();
  constexpr int kObjects = 1000;

  auto start = client.list(kube::kConfigMaps, ns.name());
  ASSERT_TRUE(start.ok()) << start.error().describe();

  struct Seen {
    std::string type;
    std::string name;
    unsigned long long rv;
  };
  std::mutex mu;
  std::vector<Seen> seen;
  std::atomic<int> deletes{0};
  kube::Cancellation cancel;
  kube::Done watch_result = kube::ok();
  std::thread watcher([&] {
    kube::WatchOptions options;
    options.resource_version = start.value().resource_version;
    watch_result = client.watch(kube::kConfigMaps, ns.name(), options,
                                [&](const kube::WatchEvent& e) {
                                  if (e.type == kube::WatchEvent::Type::Bookmark) return true;
                                  // The controller-manager adds kube-root-ca.crt to a new
                                  // namespace at a moment of its own: not ours to count.
                                  if (e.object["metadata"].value("name", "").rfind("w-", 0) != 0) return true;
                                  static const char* names[] = {"ADDED", "MODIFIED", "DELETED",
                                                                "BOOKMARK", "ERROR"};
                                  std::lock_guard<std::mutex> lock(mu);
                                  seen.push_back({names[static_cast<int>(e.type)],
                                                  e.object["metadata"].value("name", ""),
                                                  std::stoull(rv_of(e.object))});
                                  if (e.type == kube::WatchEvent::Type::Deleted) ++deletes;
                                  return true;
                                },
                                cancel);
  });

  for (int i = 0; i < kObjects; ++i) {
    auto r = client.create(kube::kConfigMaps, ns.name(), config_map("w-" + std::to_string(i), "a"));
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }
  for (int i = 0; i < kObjects; ++i) {
    auto r = client.merge_patch(kube::kConfigMaps, ns.name(), "w-" + std::to_string(i),
                                {{"data", {{"key", "b"}}}});
    ASSERT_TRUE(r.ok()) << r.error().describe();
  }
  for (int i = 0; i < kObjects; ++i) {
    ASSERT_TRUE(client.remove(kube::kConfigMaps, ns.name(), "w-" + std::to_string(i)).ok());
  }
  const bool all_deletes = itest::eventually([&] { return deletes.load() == kObjects; }, 60s);
  cancel.cancel();
  watcher.join();
  ASSERT_TRUE(watch_result.ok()) << watch_result.error().describe();
  ASSERT_TRUE(all_deletes) << "saw " << deletes.load() << " deletes";

  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 3u * kObjects);
  std::map<std::string, std::vector<std::string>> per_object;
  for (size_t i = 0; i < seen.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(seen[i - 1].rv, seen[i].rv) << "event " << i << " out of order";
    }
    per_object[seen[i].name].push_back(seen[i].type);
  }
  ASSERT_EQ(per_object.size(), static_cast<size_t>(kObjects));
  for (const auto& [name, types] : per_object) {
    EXPECT_EQ(types, (std::vector<std::string>{"ADDED", "MODIFIED", "DELETED"})) << name;
  }
  // The creates came first, in the order they were made.
  for (int i = 0; i < kObjects; ++i) {
    EXPECT_EQ(seen[i].name, "w-" + std::to_string(i));
  }
}

TEST(KubeClient, AWatchFromACompactedVersionIsGone) {
  SKIP_WITHOUT_CLUSTER();
  kube::Client& client = itest::client();
  kube::WatchOptions options;
  // The API server compacts etcd every 5 minutes, so version 1 is gone on any
  // cluster that ran a while; on a younger one the old events replay, which
  // this test notices at the first event and skips on.
  options.resource_version = "1";
  options.timeout_seconds = 10;
  kube::Cancellation cancel;
  int errors = 0;
  int replayed = 0;
  kube::Done done = client.watch(kube::kConfigMaps, "", options,
                                 [&](const kube::WatchEvent& e) {
                                   if (e.type == kube::WatchEvent::Type::Error) {
                                     ++errors;
                                     EXPECT_EQ(e.object.value("code", 0), 410);
                                   } else {
                                     ++replayed;
                                   }
                                   return false;
                                 },
                                 cancel);
  if (done.ok() && errors == 0) GTEST_SKIP() << "etcd not compacted yet (" << replayed << ")";
  // Either form is legal: 410 as the HTTP status, or an ERROR event in a 200.
  EXPECT_TRUE((!done.ok() && done.error().is_gone()) || errors == 1)
      << (done.ok() ? "no error" : done.error().describe());
}

TEST(KubeClient, AWrongCaFailsWithAClearTlsError) {
  SKIP_WITHOUT_CLUSTER();
  kube::ClusterConfig cfg = admin_config();
  cfg.ca_pem = unrelated_ca_pem();
  auto client = client_for(cfg);
  auto got = client->get(kube::kNamespaces, "", "default");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().http_code, 0);
  EXPECT_THAT(got.error().message,
              HasSubstr("TLS handshake with " + cfg.server + " failed: certificate verify failed"));
  EXPECT_THAT(got.error().message, HasSubstr("is the cluster CA right?"));
}

TEST(KubeClient, ATokenWithoutPermissionGetsA403Value) {
  SKIP_WITHOUT_CLUSTER();
  itest::TestNamespace ns("kube-rbac");
  kube::Client& client = itest::client();
  ASSERT_TRUE(client
                  .create(kServiceAccounts, ns.name(),
                          {{"apiVersion", "v1"},
                           {"kind", "ServiceAccount"},
                           {"metadata", {{"name", "powerless"}}}})
                  .ok());

  // TokenRequest is a create on the serviceaccounts/token subresource.
  kube::ClusterConfig admin = admin_config();
  auto transport = kube::make_cpprest_transport(admin, kube::TransportUse::Requests);
  kube::HttpRequest token_request;
  token_request.method = "POST";
  token_request.path_and_query = kube::object_path(kServiceAccounts, ns.name(), "powerless", "token");
  token_request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  token_request.body = json{{"apiVersion", "authentication.k8s.io/v1"},
                            {"kind", "TokenRequest"},
                            {"spec", {{"expirationSeconds", 600}}}}
                           .dump();
  auto answer = transport->send(token_request);
  ASSERT_TRUE(answer.ok()) << answer.error().describe();
  ASSERT_EQ(answer.value().status, 201) << answer.value().body;
  const std::string token = json::parse(answer.value().body)["status"]["token"];

  kube::ClusterConfig powerless;
  powerless.server = admin.server;
  powerless.ca_pem = admin.ca_pem;
  powerless.tls_server_name = admin.tls_server_name;
  powerless.bearer_token = token;
  auto denied = client_for(powerless)->list(kube::kConfigMaps, ns.name());
  ASSERT_FALSE(denied.ok());
  EXPECT_TRUE(denied.error().is_forbidden());
  EXPECT_EQ(denied.error().reason, "Forbidden");
  EXPECT_THAT(denied.error().message, HasSubstr("powerless"));

  // And no token at all: 401 (or 403 for system:anonymous), never a crash.
  kube::ClusterConfig anonymous = powerless;
  anonymous.bearer_token = "not-a-token";
  auto unauthorized = client_for(anonymous)->get(kube::kNamespaces, "", "default");
  ASSERT_FALSE(unauthorized.ok());
  EXPECT_EQ(unauthorized.error().http_code, 401);
}

}  // namespace
