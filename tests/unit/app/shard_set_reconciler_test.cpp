// The reconciler against fakes of what it reads (ReconcileInputs) and what
// it writes (kube::ObjectWriter): no cluster. The fake store holds what the
// real caches would hold once the API server stored exactly what was applied
// (the AppliedFields tests in drift_test.cpp show the digests agree then).
#include "app/shard_set_reconciler.h"

#include <mutex>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../electric/fixtures.h"
#include "../runtime/fake_clock.h"
#include "../runtime/gate.h"
#include "app/caches.h"
#include "app/drift.h"
#include "electric/constants.h"
#include "electric/digest.h"
#include "electric/naming.h"

namespace app {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string key_of(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind + "/" + ns + "/" + name;
}

class FakeInputs final : public ReconcileInputs {
 public:
  std::map<std::string, runtime::Projection> sets;     // ns/name
  std::map<std::string, runtime::Projection> objects;  // Kind/ns/name
  std::map<std::string, std::string> urls;             // "Secret name/key" -> url

  runtime::Projection shard_set(const std::string& ns, const std::string& name) const override {
    auto it = sets.find(ns + "/" + name);
    return it == sets.end() ? nullptr : it->second;
  }
  runtime::Projection child(const std::string& kind, const std::string& ns, const std::string& name) const override {
    auto it = objects.find(key_of(kind, ns, name));
    return it == objects.end() ? nullptr : it->second;
  }
  std::vector<KindedChild> children_of(const std::string& ns, const std::string& set_name) const override {
    std::vector<KindedChild> out;
    for (const auto& [key, object] : objects) {
      const std::string* set = object->meta.label(electric::kLabelShardSet);
      if (object->meta.namespace_name != ns || !set || *set != set_name) continue;
      out.push_back({key.substr(0, key.find('/')), object});
    }
    return out;
  }
  bool references_ready() const override { return true; }
  bool waiting_for_references(const std::string&) const override { return false; }
  electric::SecretReader secret_reader(const std::string&) const override {
    return [this](const electric::SecretKeyRef& ref) {
      auto it = urls.find(ref.name + "/" + ref.key);
      if (it == urls.end()) return electric::SecretLookup{};
      return electric::SecretLookup::found(it->second);
    };
  }
  std::map<electric::ShardKey, std::string> stream_conflicts(const std::string&) const override { return {}; }

  // What the caches hold once the API server stored `body` as applied.
  void store(json body, const std::string& uid) {
    const std::string applied_digest = owned_fields_digest(body);
    const std::string kind = body.value("kind", "");
    const std::string ns = body["metadata"].value("namespace", ""), name = body["metadata"].value("name", "");
    body["metadata"]["uid"] = uid;
    if (kind == "Deployment") {
      body["metadata"]["generation"] = 1;
      body["status"] = {{"observedGeneration", 1}, {"replicas", 1}, {"updatedReplicas", 1}, {"availableReplicas", 1}};
    }
    std::shared_ptr<CachedChild> projected = project_child_of_kind(kind, body);
    projected->owned_digest = applied_digest;
    projected->foreign_list_entries = false;  // ours alone, as applied
    objects[key_of(kind, ns, name)] = projected;
  }
  // The cached child KIND/ns/name, to change in a copy and put back.
  template <class T>
  std::shared_ptr<T> copy_of(const std::string& key) const {
    return std::make_shared<T>(*runtime::as<T>(objects.at(key)));
  }
};

struct Call {
  std::string verb, kind, ns, name;
  json body;
  std::string precondition_uid;
};

class FakeWriter final : public kube::ObjectWriter {
 public:
  std::vector<Call> calls;
  std::mutex mu;  // a reconcile may apply from several threads
  void record(Call call) {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(std::move(call));
  }
  std::function<kube::Result<json>(const json&)> on_create = [](const json& body) { return body; };
  std::function<kube::Result<json>(const std::string&)> on_get = [](const std::string&) {
    return kube::Error(404, "NotFound");
  };

  kube::Result<json> get(const kube::Resource& r, const std::string& ns, const std::string& name) override {
    record({"get", r.kind, ns, name, nullptr, ""});
    return on_get(name);
  }
  kube::Result<json> create(const kube::Resource& r, const std::string& ns, const json& body) override {
    record({"create", r.kind, ns, body["metadata"].value("name", ""), body, ""});
    return on_create(body);
  }
  // Called for an apply before it is recorded (may fail it).
  std::function<kube::Result<json>(const json&)> on_apply = [](const json& body) { return body; };
  kube::Result<json> apply(const kube::Resource& r, const std::string& ns, const std::string& name, const json& body,
                           bool, const std::string&) override {
    record({"apply", r.kind, ns, name, body, ""});
    return on_apply(body);
  }
  kube::Result<json> json_patch(const kube::Resource& r, const std::string& ns, const std::string& name,
                                const json& operations) override {
    record({"json-patch", r.kind, ns, name, operations, ""});
    return on_json_patch(operations);
  }
  std::function<kube::Result<json>(const json&)> on_json_patch = [](const json&) { return json::object(); };
  // Called for a status write before it is recorded (may block or fail it).
  std::function<kube::Result<json>(const json&)> on_status = [](const json& patch) { return patch; };
  kube::Result<json> merge_patch(const kube::Resource& r, const std::string& ns, const std::string& name,
                                 const json& patch, const std::string& subresource) override {
    if (subresource == "status") {
      auto result = on_status(patch);
      if (result.ok()) record({"status", r.kind, ns, name, patch, ""});
      return result;
    }
    record({"patch", r.kind, ns, name, patch, ""});
    return patch;
  }
  kube::Done remove(const kube::Resource& r, const std::string& ns, const std::string& name,
                    const kube::DeleteOptions& options) override {
    record({"delete", r.kind, ns, name, nullptr, options.precondition_uid});
    return kube::ok();
  }

  std::vector<Call> take() {
    std::lock_guard<std::mutex> lock(mu);
    return std::exchange(calls, {});
  }
  static size_t count(const std::vector<Call>& calls, const std::string& verb) {
    size_t n = 0;
    for (const auto& c : calls) n += c.verb == verb;
    return n;
  }
};

class NullSink final : public runtime::EventSink {
 public:
  std::vector<json> created;  // the Events, as created
  std::mutex mu;
  kube::Result<json> create(const std::string&, const json& event) override {
    std::lock_guard<std::mutex> lock(mu);
    created.push_back(event);
    return event;
  }
  kube::Result<json> patch(const std::string&, const std::string&, const json& patch) override { return patch; }
};

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest() : events_(sink_, {}, clock_) {
    for (int i = 0; i < 3; ++i)
      inputs_.urls["pg-shard-" + std::to_string(i) + "/url"] = "postgresql://u:p@db" + std::to_string(i) + ":5432/app";
    inputs_.urls["pg-shard-1/pooled"] = "postgresql://u:p@pooler1:6432/app";
    set_object_ = electric_test::sample_object();
    set_object_["metadata"]["resourceVersion"] = "1";
    put_set();
    ReconcilerOptions options;
    options.now = [] { return std::string("2026-12-02T12:00:00Z"); };
    options.random_bytes = [] { return std::string(32, 'r'); };
    options.clock = &clock_;
    reconciler_ = std::make_unique<ShardSetReconciler>(writer_, inputs_, events_, options);
  }

  // As the API server stores it: a changed spec bumps the generation.
  void put_set() {
    if (set_object_["spec"] != stored_spec_) {
      set_object_["metadata"]["generation"] = set_object_["metadata"].value("generation", 0) + 1;
      stored_spec_ = set_object_["spec"];
    }
    inputs_.sets["prod/myapp"] = project_set(set_object_, parsed_);
  }
  // The API server's side of what the last reconcile wrote.
  void store_writes(const std::vector<Call>& calls) {
    int uid = static_cast<int>(inputs_.objects.size());
    for (const Call& c : calls) {
      if (c.verb == "apply" || c.verb == "create") inputs_.store(c.body, "uid-" + std::to_string(++uid));
      if (c.verb == "status") {
        set_object_["status"] = c.body["status"];
        set_object_["metadata"]["resourceVersion"] =
            std::to_string(std::stoi(set_object_["metadata"].value("resourceVersion", "1")) + 1);
        put_set();
      }
    }
  }

  // Reconciles until a reconcile writes nothing (the Deployments roll out at
  // once here, so the second reconcile reports them Ready).
  void converge() {
    for (int round = 0; round < 4; ++round) {
      reconciler_->reconcile("prod/myapp");
      auto calls = writer_.take();
      clock_.advance(5s);
      if (calls.empty()) return;
      store_writes(calls);
    }
    ADD_FAILURE() << "did not converge in 4 reconciles";
  }

  runtime::FakeClock clock_;
  NullSink sink_;
  runtime::EventRecorder events_;
  FakeInputs inputs_;
  FakeWriter writer_;
  ParsedSets parsed_;
  json set_object_;
  json stored_spec_;
  std::unique_ptr<ShardSetReconciler> reconciler_;
};

TEST_F(ReconcilerTest, CreatesTheApiSecretOnceThenEveryChildAndTheStatus) {
  ASSERT_EQ(reconciler_->reconcile("prod/myapp").kind, runtime::ReconcileResult::Kind::Done);
  auto calls = writer_.take();
  EXPECT_EQ(FakeWriter::count(calls, "create"), 1u);
  EXPECT_EQ(calls.front().name, electric::api_secret_name("myapp"));
  // 3 shards × (Secret, PVC, Service, Deployment) and the routing ConfigMap.
  EXPECT_EQ(FakeWriter::count(calls, "apply"), 13u);
  EXPECT_EQ(FakeWriter::count(calls, "status"), 1u);
}

TEST_F(ReconcilerTest, NoWriteWhenNothingDrifted) {
  reconciler_->reconcile("prod/myapp");
  store_writes(writer_.take());
  clock_.advance(5s);
  // Only the summary moves (the Deployments rolled out, so shards turn
  // ready in status and routing); no shard child is applied again.
  reconciler_->reconcile("prod/myapp");
  auto calls = writer_.take();
  for (const Call& c : calls)
    EXPECT_TRUE(c.verb == "status" || (c.verb == "apply" && c.kind == "ConfigMap")) << c.verb << " " << c.kind;
  store_writes(calls);
  clock_.advance(5s);
  EXPECT_EQ(reconciler_->reconcile("prod/myapp").kind, runtime::ReconcileResult::Kind::Done);
  for (const Call& c : writer_.take()) ADD_FAILURE() << c.verb << " " << c.kind << " " << c.name;
}

TEST_F(ReconcilerTest, AChildWhoseOwnedFieldsChangedIsAppliedAgainAndOnlyIt) {
  converge();
  auto drifted = inputs_.copy_of<CachedChild>("Service/prod/myapp-shard-1");
  drifted->owned_digest = owned_fields_digest(json{{"spec", {{"type", "NodePort"}}}});
  inputs_.objects["Service/prod/myapp-shard-1"] = drifted;
  clock_.advance(5s);
  reconciler_->reconcile("prod/myapp");
  auto calls = writer_.take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].verb, "apply");
  EXPECT_EQ(calls[0].kind, "Service");
  EXPECT_EQ(calls[0].name, "myapp-shard-1");
}

// The Service myapp-shard-1 as the API server holds it after another manager
// moved the operator's port: `ports` in place of the operator's.
json live_service(const json& ports) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", "myapp-shard-1"}, {"namespace", "prod"}}},
          {"spec", {{"type", "ClusterIP"}, {"ports", ports}}}};
}

class KeyedListDriftTest : public ReconcilerTest {
 protected:
  // Service myapp-shard-1 drifted; `foreign` is what its ingest saw.
  void drift_service(bool foreign) {
    converge();
    auto drifted = inputs_.copy_of<CachedChild>("Service/prod/myapp-shard-1");
    drifted->owned_digest = owned_fields_digest(json{{"spec", {{"type", "ClusterIP"}}}});
    drifted->foreign_list_entries = foreign;
    inputs_.objects["Service/prod/myapp-shard-1"] = drifted;
    clock_.advance(5s);
  }
  std::vector<std::string> verbs_on_service(const std::vector<Call>& calls) {
    std::vector<std::string> out;
    for (const Call& c : calls)
      if (c.kind == "Service") out.push_back(c.verb);
    return out;
  }
  std::vector<std::string> event_reasons() {
    std::lock_guard<std::mutex> lock(sink_.mu);
    std::vector<std::string> out;
    for (const json& e : sink_.created) out.push_back(e.value("reason", ""));
    return out;
  }
  const json kMovedPort = json::parse(R"([{"name":"http","port":4000,"targetPort":"http","protocol":"TCP"}])");
};

TEST_F(KeyedListDriftTest, AnotherManagersPortNamedLikeOursIsRemovedBeforeTheApply) {
  drift_service(true);
  writer_.on_get = [&](const std::string&) -> kube::Result<json> { return live_service(kMovedPort); };
  EXPECT_EQ(reconciler_->reconcile("prod/myapp").kind, runtime::ReconcileResult::Kind::Done);
  auto calls = writer_.take();
  EXPECT_THAT(verbs_on_service(calls), ::testing::ElementsAre("get", "json-patch", "apply"));
  for (const Call& c : calls) {
    if (c.verb != "json-patch") continue;
    ASSERT_EQ(c.body.size(), 3u) << c.body.dump();
    EXPECT_EQ(c.body[0], json::parse(R"({"op":"test","path":"/spec/ports/0","value":
        {"name":"http","port":4000,"targetPort":"http","protocol":"TCP"}})"));
    EXPECT_EQ(c.body[1], json::parse(R"({"op":"remove","path":"/spec/ports/0"})"));
    EXPECT_EQ(c.body[2]["op"], "add") << "a Service without ports is refused: ours in the same patch";
  }
  EXPECT_THAT(event_reasons(), ::testing::Contains("ForeignEntryRemoved"));
}

TEST_F(KeyedListDriftTest, AnotherManagersOwnPortIsLeftAlone) {
  drift_service(true);
  writer_.on_get = [&](const std::string&) -> kube::Result<json> {
    return live_service(json::parse(R"([{"name":"debug","port":9000,"targetPort":9000,"protocol":"TCP"}])"));
  };
  EXPECT_EQ(reconciler_->reconcile("prod/myapp").kind, runtime::ReconcileResult::Kind::Done);
  EXPECT_THAT(verbs_on_service(writer_.take()), ::testing::ElementsAre("get", "apply"));
}

TEST_F(KeyedListDriftTest, AnApplyRefusedAsInvalidLooksOnceAndAppliesAgainAfterTheRemoval) {
  drift_service(false);  // the cache has not shown the foreign entry yet
  int refusals = 0;
  writer_.on_apply = [&](const json& body) -> kube::Result<json> {
    if (body.value("kind", "") == "Service" && refusals++ == 0)
      return kube::Error(422, "Invalid", "spec.ports[1].name: Duplicate value: \"http\"");
    return body;
  };
  writer_.on_get = [&](const std::string&) -> kube::Result<json> { return live_service(kMovedPort); };
  EXPECT_EQ(reconciler_->reconcile("prod/myapp").kind, runtime::ReconcileResult::Kind::Done);
  EXPECT_THAT(verbs_on_service(writer_.take()), ::testing::ElementsAre("apply", "get", "json-patch", "apply"));
  EXPECT_THAT(event_reasons(), ::testing::Not(::testing::Contains("ApplyFailed")));
}

TEST_F(KeyedListDriftTest, AnInvalidApplyWithNothingToRemoveIsReportedAndNotRetried) {
  drift_service(false);
  writer_.on_apply = [&](const json& body) -> kube::Result<json> {
    if (body.value("kind", "") == "Service") return kube::Error(422, "Invalid", "spec.type: Unsupported value");
    return body;
  };
  writer_.on_get = [&](const std::string&) -> kube::Result<json> { return live_service(json::array()); };
  const auto result = reconciler_->reconcile("prod/myapp");
  EXPECT_EQ(result.kind, runtime::ReconcileResult::Kind::Error);
  EXPECT_THAT(verbs_on_service(writer_.take()), ::testing::ElementsAre("apply", "get"));
  EXPECT_THAT(event_reasons(), ::testing::Contains("ApplyFailed"));
}

// A renamed volume that its mount, renamed too, still names: removing it
// alone is refused, and is done once the apply has renamed the mount back.
TEST_F(KeyedListDriftTest, AnEntryTheServerKeepsUntilTheApplyIsRemovedAfterIt) {
  drift_service(true);
  writer_.on_get = [&](const std::string&) -> kube::Result<json> { return live_service(kMovedPort); };
  int patches = 0;
  writer_.on_json_patch = [&](const json&) -> kube::Result<json> {
    if (patches++ == 0) return kube::Error(422, "Invalid", "spec.template.spec.containers[0].volumeMounts[0].name: Not found");
    return json::object();
  };
  writer_.on_apply = [&](const json& body) -> kube::Result<json> {
    if (body.value("kind", "") != "Service") return body;
    json ours = body["spec"]["ports"];
    json live = live_service(ours);
    live["spec"]["ports"].insert(live["spec"]["ports"].begin(), kMovedPort[0]);
    live["spec"]["ports"].insert(live["spec"]["ports"].begin(), json{{"name", "debug"}, {"port", 9000}});
    return live;
  };
  EXPECT_EQ(reconciler_->reconcile("prod/myapp").kind, runtime::ReconcileResult::Kind::Done);
  auto calls = writer_.take();
  EXPECT_THAT(verbs_on_service(calls), ::testing::ElementsAre("get", "json-patch", "apply", "json-patch"));
  const Call& after = calls.back();
  ASSERT_EQ(after.verb, "json-patch");
  EXPECT_EQ(after.body, json::parse(R"([{"op":"test","path":"/spec/ports/1","value":
      {"name":"http","port":4000,"targetPort":"http","protocol":"TCP"}},{"op":"remove","path":"/spec/ports/1"}])"))
      << "found again where the apply left it";
  EXPECT_THAT(event_reasons(), ::testing::Not(::testing::Contains("ApplyFailed")));
}

TEST_F(KeyedListDriftTest, AChildThatIsRefusedHoldsBackNeitherTheOtherChildrenNorTheStatus) {
  writer_.on_apply = [&](const json& body) -> kube::Result<json> {
    if (body.value("kind", "") == "Service" && body["metadata"].value("name", "") == "myapp-shard-1")
      return kube::Error(422, "Invalid", "spec.ports[1].name: Duplicate value: \"http\"");
    return body;
  };
  EXPECT_EQ(reconciler_->reconcile("prod/myapp").kind, runtime::ReconcileResult::Kind::Error);
  auto calls = writer_.take();
  EXPECT_EQ(FakeWriter::count(calls, "apply"), 13u) << "every child, the refused one once";
  ASSERT_EQ(FakeWriter::count(calls, "status"), 1u);
  for (const Call& c : calls) {
    if (c.verb != "status") continue;
    const json& shard = c.body["status"]["shards"][1];
    EXPECT_EQ(shard["reason"], "RejectedByAPIServer") << shard.dump();
    EXPECT_NE(shard["message"].get<std::string>().find("Service myapp-shard-1: spec.ports[1].name"), std::string::npos);
    EXPECT_EQ(c.body["status"]["shards"][0]["reason"], "Creating") << "the others as they are";
  }
}

// A refusal for a passing reason (the API server unavailable) is retried,
// not shown as bad input.
TEST_F(KeyedListDriftTest, AChildThatCouldNotBeWrittenForNowIsNoRefusal) {
  writer_.on_apply = [&](const json& body) -> kube::Result<json> {
    if (body.value("kind", "") == "Service") return kube::Error(503, "ServiceUnavailable", "etcd leader changed");
    return body;
  };
  EXPECT_EQ(reconciler_->reconcile("prod/myapp").kind, runtime::ReconcileResult::Kind::Error);
  for (const Call& c : writer_.take())
    if (c.verb == "status") EXPECT_EQ(c.body.dump().find("RejectedByAPIServer"), std::string::npos);
}

TEST_F(ReconcilerTest, AnEditedSourceSecretAppliesOnlyItsShardsSecretAndDeployment) {
  converge();
  inputs_.urls["pg-shard-1/url"] = "postgresql://u:rotated@db1:5432/app";
  reconciler_->reconcile("prod/myapp");
  std::vector<std::string> applied;
  for (const Call& c : writer_.take())
    if (c.verb == "apply" && c.kind != "ConfigMap") applied.push_back(c.kind + "/" + c.name);
  // The new URL is in the Secret, its hash in the pod template (the routing
  // ConfigMap follows: the shard rolls out again); the other shards'
  // children, current and unchanged, are not even rendered again.
  EXPECT_THAT(applied, ::testing::ElementsAre("Secret/myapp-shard-1", "Deployment/myapp-shard-1"));
}

TEST_F(ReconcilerTest, AppliesSideBySideKindAfterKind) {
  ReconcilerOptions options;
  options.now = [] { return std::string("2026-12-02T12:00:00Z"); };
  options.random_bytes = [] { return std::string(32, 'r'); };
  options.clock = &clock_;
  options.apply_concurrency = 4;
  for (int i = 3; i < 40; ++i) {
    const std::string secret = "pg-shard-" + std::to_string(i);
    set_object_["spec"]["shards"].push_back({{"name", std::to_string(i)}, {"databaseURLSecretRef", {{"name", secret}, {"key", "url"}}}});
    inputs_.urls[secret + "/url"] = "postgresql://u:p@db" + std::to_string(i) + ":5432/app";
  }
  put_set();
  ShardSetReconciler parallel(writer_, inputs_, events_, options);
  parallel.reconcile("prod/myapp");
  std::vector<std::string> kinds;  // each kind once, in the order its applies came
  size_t applies = 0;
  for (const Call& c : writer_.take()) {
    if (c.verb != "apply") continue;
    ++applies;
    if (kinds.empty() || kinds.back() != c.kind) kinds.push_back(c.kind);
  }
  EXPECT_EQ(applies, 40u * 4 + 1);
  // Never a Deployment before every Secret, PVC and Service it needs.
  EXPECT_THAT(kinds, ::testing::ElementsAre("Secret", "PersistentVolumeClaim", "Service", "Deployment", "ConfigMap"));
}

TEST_F(ReconcilerTest, ACreateThatLosesTheRaceReadsTheWinnersApiSecret) {
  const std::string winner = "the-other-reconciles-value";
  writer_.on_create = [](const json&) { return kube::Error(409, "AlreadyExists"); };
  writer_.on_get = [&](const std::string&) -> kube::Result<json> {
    json secret = electric::render_api_secret(electric_test::sample_set(), winner);
    return secret;
  };
  reconciler_->reconcile("prod/myapp");
  auto calls = writer_.take();
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls[0].verb, "create");
  EXPECT_EQ(calls[1].verb, "get");
  // No apply of the API Secret: the winner's value stands, and the shards carry it.
  bool shard_secret_has_winner = false;
  for (const Call& c : calls) {
    EXPECT_FALSE(c.verb == "apply" && c.name == electric::api_secret_name("myapp"));
    if (c.verb == "apply" && c.kind == "Secret" && c.name == "myapp-shard-0")
      shard_secret_has_winner = c.body.dump().find(electric::base64_encode(winner)) != std::string::npos;
  }
  EXPECT_TRUE(shard_secret_has_winner);
}

TEST_F(ReconcilerTest, ARemovedShardsChildrenAreDeletedWithTheirUidAsPrecondition) {
  converge();
  json& shards = set_object_["spec"]["shards"];
  shards.erase(shards.begin() + 2);
  set_object_["metadata"]["generation"] = 8;
  set_object_["metadata"]["resourceVersion"] = "50";
  put_set();
  clock_.advance(5s);
  reconciler_->reconcile("prod/myapp");
  std::map<std::string, std::string> deleted;  // Kind/name -> precondition uid
  for (const Call& c : writer_.take())
    if (c.verb == "delete") deleted[c.kind + "/" + c.name] = c.precondition_uid;
  for (const char* kind : {"Deployment", "Service", "Secret"}) {
    const std::string key = std::string(kind) + "/myapp-shard-2";
    ASSERT_TRUE(deleted.count(key)) << key;
    EXPECT_EQ(deleted[key], inputs_.objects.at(std::string(kind) + "/prod/myapp-shard-2")->meta.uid);
  }
}

TEST_F(ReconcilerTest, StatusIsWrittenOnlyWhenItChangedAndAtMostOncePerSettleWindow) {
  converge();
  // A status write just went (the window starts now); a Deployment's status then moves.
  auto first = inputs_.copy_of<CachedDeployment>("Deployment/prod/myapp-shard-1");
  first->facts.available_replicas = 0;
  inputs_.objects["Deployment/prod/myapp-shard-1"] = first;
  reconciler_->reconcile("prod/myapp");
  store_writes(writer_.take());
  // Deployments' status moves within the window: the status write waits.
  clock_.advance(500ms);
  auto deployment = inputs_.copy_of<CachedDeployment>("Deployment/prod/myapp-shard-0");
  deployment->facts.available_replicas = 0;
  inputs_.objects["Deployment/prod/myapp-shard-0"] = deployment;
  runtime::ReconcileResult held = reconciler_->reconcile("prod/myapp");
  EXPECT_EQ(held.kind, runtime::ReconcileResult::Kind::RequeueAfter);
  EXPECT_EQ(held.requeue_after, 1500ms);
  EXPECT_EQ(FakeWriter::count(writer_.take(), "status"), 0u);
  // After the window the waiting change goes.
  clock_.advance(1500ms);
  EXPECT_EQ(reconciler_->reconcile("prod/myapp").kind, runtime::ReconcileResult::Kind::Done);
  auto calls = writer_.take();
  EXPECT_EQ(FakeWriter::count(calls, "status"), 1u);
  store_writes(calls);
  // Unchanged: nothing, however long after.
  clock_.advance(10s);
  reconciler_->reconcile("prod/myapp");
  EXPECT_TRUE(writer_.take().empty());
}

// Writes of the summary off the worker (the operator's setting).
class AsyncSummaryTest : public ReconcilerTest {
 protected:
  std::unique_ptr<ShardSetReconciler> async_reconciler(std::vector<std::string>& requeued) {
    ReconcilerOptions options;
    options.now = [] { return std::string("2026-12-02T12:00:00Z"); };
    options.random_bytes = [] { return std::string(32, 'r'); };
    options.clock = &clock_;
    options.summary_writer_threads = 1;
    options.requeue = [&requeued](const std::string& key) { requeued.push_back(key); };
    return std::make_unique<ShardSetReconciler>(writer_, inputs_, events_, options);
  }
  void make_status_change() {
    auto deployment = inputs_.copy_of<CachedDeployment>("Deployment/prod/myapp-shard-0");
    deployment->facts.available_replicas = 0;
    inputs_.objects["Deployment/prod/myapp-shard-0"] = deployment;
  }
};

TEST_F(AsyncSummaryTest, AStatusWriteInFlightHoldsUpNoReconcileAndIsNotSentTwice) {
  converge();
  runtime_test::Gate gate;  // before the reconciler: its writer thread waits in it
  std::vector<std::string> requeued;
  auto async = async_reconciler(requeued);
  runtime_test::Gate::OpenOnExit unblock{gate};  // after: an early return frees that thread first
  writer_.on_status = [&](const json& patch) -> kube::Result<json> {
    gate.pass();
    return patch;
  };
  make_status_change();
  EXPECT_EQ(async->reconcile("prod/myapp").kind, runtime::ReconcileResult::Kind::Done);
  gate.wait_entered();
  // The write is stuck; the same status again is not queued a second time.
  clock_.advance(5s);
  EXPECT_EQ(async->reconcile("prod/myapp").kind, runtime::ReconcileResult::Kind::Done);
  // An edit of one shard's URL goes out while the status write still hangs.
  inputs_.urls["pg-shard-1/url"] = "postgresql://u:p@db1-new:5432/app";
  EXPECT_EQ(async->reconcile("prod/myapp").kind, runtime::ReconcileResult::Kind::Done);
  std::vector<std::string> applied;
  size_t routing_applies = 0;  // the summary's, sent once before its status
  for (const Call& c : writer_.take()) {
    if (c.verb != "apply") continue;
    if (c.kind == "ConfigMap") ++routing_applies;
    else applied.push_back(c.kind + "/" + c.name);
  }
  EXPECT_THAT(applied, ::testing::UnorderedElementsAre("Secret/myapp-shard-1", "Deployment/myapp-shard-1"));
  EXPECT_EQ(routing_applies, 1u);
  gate.open();
  async->wait_for_summaries();
  // The held status went once; what follows (the edited shard rolling) is another.
  std::vector<json> statuses;
  for (const Call& c : writer_.take())
    if (c.verb == "status") statuses.push_back(c.body);
  ASSERT_GE(statuses.size(), 1u);
  for (size_t i = 1; i < statuses.size(); ++i) EXPECT_NE(statuses[i], statuses[i - 1]) << "a status sent twice";
  EXPECT_TRUE(requeued.empty());
}

TEST_F(AsyncSummaryTest, AFailedStatusWriteAsksForAnotherReconcileWhichReportsIt) {
  converge();
  std::vector<std::string> requeued;
  auto async = async_reconciler(requeued);
  writer_.on_status = [](const json&) -> kube::Result<json> { return kube::Error(500, "InternalError"); };
  make_status_change();
  runtime::ReconcileResult result = async->reconcile("prod/myapp");
  async->wait_for_summaries();
  EXPECT_THAT(requeued, ::testing::ElementsAre("prod/myapp"));
  // Reported by the reconcile that sent it when the write failed first, else by the next.
  if (result.kind != runtime::ReconcileResult::Kind::Error) result = async->reconcile("prod/myapp");
  EXPECT_EQ(result.kind, runtime::ReconcileResult::Kind::Error);
  EXPECT_THAT(result.message, ::testing::HasSubstr("status"));
}

}  // namespace
}  // namespace app
