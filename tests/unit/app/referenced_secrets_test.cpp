// ReferencedSecrets against a fake GET: what is fetched, what is held, who
// is woken, and the stream claims its values decide.
#include "app/referenced_secrets.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "base/base64.h"

namespace app {
namespace {

using nlohmann::json;

const std::string kUrlA = "postgresql://electric:pw@db-a:5432/app";
const std::string kUrlB = "postgresql://electric:pw@db-b:5432/app";

json secret(const std::string& rv, const std::map<std::string, std::string>& data) {
  json encoded = json::object();
  for (const auto& [key, value] : data) encoded[key] = base::base64_encode(value);
  return {{"metadata", {{"resourceVersion", rv}}}, {"data", encoded}};
}

json set_object(const std::string& ns, const std::string& name, const std::string& created,
                const std::vector<std::string>& url_secrets, const std::string& stream = "") {
  json shards = json::array();
  for (size_t i = 0; i < url_secrets.size(); ++i) {
    json shard = {{"name", std::to_string(i)}, {"databaseURLSecretRef", {{"name", url_secrets[i]}, {"key", "url"}}}};
    if (!stream.empty()) shard["replicationStreamID"] = stream;
    shards.push_back(shard);
  }
  return {{"apiVersion", "electric-operator.dev/v1alpha1"},
          {"kind", "ElectricShardSet"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"uid", name + "-uid"}, {"creationTimestamp", created}}},
          {"spec", {{"shards", shards}}}};
}

class ReferencedSecretsTest : public testing::Test {
 protected:
  ReferencedSecretsTest()
      : refs([this](const std::string& ns, const std::string& name) -> kube::Result<json> {
          fetched.push_back(ns + "/" + name);
          if (during_fetch) during_fetch();
          if (fail_next) {
            fail_next = false;
            return kube::Error{503, "ServiceUnavailable", "try later"};
          }
          auto found = cluster.find(ns + "/" + name);
          if (found == cluster.end()) return kube::Error{404, "NotFound", "secrets \"" + name + "\" not found"};
          return found->second;
        }) {
    refs.set_wake([this](const std::string& key) { woken.insert(key); });
  }

  void add_set(const json& object) {
    auto parsed = electric::parse_shard_set(object);
    refs.on_set(object["metadata"]["namespace"].get<std::string>() + "/" + object["metadata"]["name"].get<std::string>(),
                &parsed);
  }
  void fetch_all() {
    while (refs.fetch_next()) {
    }
  }
  electric::SecretLookup read(const std::string& ns, const std::string& name, const std::string& key = "url") {
    return refs.reader(ns)({name, key});
  }
  std::set<std::string> take_woken() { return std::exchange(woken, {}); }

  std::map<std::string, json> cluster;
  std::vector<std::string> fetched;
  std::set<std::string> woken;
  bool fail_next = false;
  std::function<void()> during_fetch;
  ReferencedSecrets refs;
};

TEST_F(ReferencedSecretsTest, AnUnreferencedSecretIsNeitherFetchedNorHeld) {
  cluster["ns/helm-release"] = secret("1", {{"release", std::string(64 * 1024, 'x')}});
  refs.on_secret("ns/helm-release", "1");
  refs.on_secret("ns/helm-release", "2");
  refs.on_secret_deleted("ns/helm-release");
  EXPECT_FALSE(refs.fetch_next());
  EXPECT_TRUE(fetched.empty());
  EXPECT_EQ(refs.totals().secrets, 0u);
  EXPECT_EQ(refs.totals().value_bytes, 0u);
  EXPECT_TRUE(refs.idle());
}

TEST_F(ReferencedSecretsTest, AReferencedSecretIsFetchedOnceAndOnlyItsReferencedKeysAreKept) {
  cluster["ns/pg"] = secret("5", {{"url", kUrlA}, {"unrelated", std::string(64 * 1024, 'y')}});
  add_set(set_object("ns", "s", "2024-01-01T00:00:00Z", {"pg", "pg"}));
  EXPECT_TRUE(refs.waiting_for("ns/s"));
  EXPECT_FALSE(refs.idle());
  fetch_all();
  EXPECT_EQ(fetched, std::vector<std::string>{"ns/pg"});
  EXPECT_FALSE(refs.waiting_for("ns/s"));
  EXPECT_EQ(read("ns", "pg").value, kUrlA);
  EXPECT_EQ(read("ns", "pg", "unrelated").state, electric::SecretLookup::State::KeyMissing);
  EXPECT_EQ(refs.totals().secrets, 1u);
  EXPECT_EQ(refs.totals().value_bytes, kUrlA.size());
  EXPECT_EQ(refs.totals().fetches, 1u);
  EXPECT_EQ(take_woken(), std::set<std::string>{"ns/s"});
  EXPECT_EQ(refs.sets_referencing("ns", "pg"), std::vector<std::string>{"ns/s"});

  // The metadata watch lists it at the resourceVersion already read: no GET.
  refs.on_secret("ns/pg", "5");
  EXPECT_FALSE(refs.fetch_next());
}

TEST_F(ReferencedSecretsTest, AChangedValueWakesTheSetsReadingItAndAnUnrelatedChangeWakesNone) {
  cluster["ns/pg"] = secret("1", {{"url", kUrlA}, {"other", "a"}});
  add_set(set_object("ns", "s", "2024-01-01T00:00:00Z", {"pg"}));
  add_set(set_object("ns", "t", "2024-01-01T00:00:00Z", {"pg"}));
  add_set(set_object("ns", "u", "2024-01-01T00:00:00Z", {"elsewhere"}));
  fetch_all();
  take_woken();

  cluster["ns/pg"] = secret("2", {{"url", kUrlA}, {"other", "b"}});
  refs.on_secret("ns/pg", "2");
  fetch_all();
  EXPECT_TRUE(take_woken().empty()) << "the referenced key did not change";

  cluster["ns/pg"] = secret("3", {{"url", kUrlB}, {"other", "b"}});
  refs.on_secret("ns/pg", "3");
  fetch_all();
  EXPECT_EQ(take_woken(), (std::set<std::string>{"ns/s", "ns/t"}));
  EXPECT_EQ(read("ns", "pg").value, kUrlB);
}

TEST_F(ReferencedSecretsTest, ADeletedSecretIsMissingAtOnceAndItsReturnIsFetched) {
  cluster["ns/pg"] = secret("1", {{"url", kUrlA}});
  add_set(set_object("ns", "s", "2024-01-01T00:00:00Z", {"pg"}));
  fetch_all();
  take_woken();

  cluster.erase("ns/pg");
  refs.on_secret_deleted("ns/pg");
  EXPECT_EQ(take_woken(), std::set<std::string>{"ns/s"});
  EXPECT_EQ(read("ns", "pg").state, electric::SecretLookup::State::SecretMissing);
  EXPECT_FALSE(refs.fetch_next()) << "a deletion needs no GET";
  EXPECT_EQ(refs.totals().value_bytes, 0u);

  cluster["ns/pg"] = secret("9", {{"url", kUrlB}});
  refs.on_secret("ns/pg", "9");
  fetch_all();
  EXPECT_EQ(take_woken(), std::set<std::string>{"ns/s"});
  EXPECT_EQ(read("ns", "pg").value, kUrlB);
}

TEST_F(ReferencedSecretsTest, ASecretCreatedAfterTheSetIsFetchedWhenItAppears) {
  add_set(set_object("ns", "s", "2024-01-01T00:00:00Z", {"later"}));
  fetch_all();  // 404: missing, and known to be
  EXPECT_FALSE(refs.waiting_for("ns/s"));
  EXPECT_EQ(read("ns", "later").state, electric::SecretLookup::State::SecretMissing);
  take_woken();

  cluster["ns/later"] = secret("4", {{"url", kUrlA}});
  refs.on_secret("ns/later", "4");
  fetch_all();
  EXPECT_EQ(take_woken(), std::set<std::string>{"ns/s"});
  EXPECT_EQ(read("ns", "later").value, kUrlA);
}

TEST_F(ReferencedSecretsTest, ASecretNoLongerReferencedIsDropped) {
  cluster["ns/pg"] = secret("1", {{"url", kUrlA}});
  cluster["ns/pg2"] = secret("1", {{"url", kUrlB}});
  add_set(set_object("ns", "s", "2024-01-01T00:00:00Z", {"pg"}));
  fetch_all();
  add_set(set_object("ns", "s", "2024-01-01T00:00:00Z", {"pg2"}));
  fetch_all();
  EXPECT_EQ(refs.totals().secrets, 1u);
  EXPECT_EQ(read("ns", "pg").state, electric::SecretLookup::State::SecretMissing);
  refs.on_secret("ns/pg", "2");
  EXPECT_FALSE(refs.fetch_next());

  refs.on_set("ns/s", nullptr);
  EXPECT_EQ(refs.totals().secrets, 0u);
  EXPECT_TRUE(refs.sets_referencing("ns", "pg2").empty());
}

TEST_F(ReferencedSecretsTest, ANewlyReferencedKeyOfAHeldSecretIsFetched) {
  cluster["ns/pg"] = secret("1", {{"url", kUrlA}, {"pooled", kUrlB}});
  add_set(set_object("ns", "s", "2024-01-01T00:00:00Z", {"pg"}));
  fetch_all();
  json with_pool = set_object("ns", "s", "2024-01-01T00:00:00Z", {"pg"});
  with_pool["spec"]["shards"][0]["pooledDatabaseURLSecretRef"] = {{"name", "pg"}, {"key", "pooled"}};
  add_set(with_pool);
  EXPECT_TRUE(refs.waiting_for("ns/s"));
  fetch_all();
  EXPECT_EQ(fetched.size(), 2u);
  EXPECT_EQ(read("ns", "pg", "pooled").value, kUrlB);
  EXPECT_FALSE(refs.waiting_for("ns/s"));
}

TEST_F(ReferencedSecretsTest, AFailedGetStaysPending) {
  cluster["ns/pg"] = secret("1", {{"url", kUrlA}});
  add_set(set_object("ns", "s", "2024-01-01T00:00:00Z", {"pg"}));
  fail_next = true;
  bool failed = false;
  EXPECT_TRUE(refs.fetch_next(&failed));
  EXPECT_TRUE(failed);
  EXPECT_TRUE(refs.waiting_for("ns/s"));
  fetch_all();
  EXPECT_EQ(read("ns", "pg").value, kUrlA);
}

TEST_F(ReferencedSecretsTest, ADeletionDuringAGetIsNotOverwrittenByIt) {
  cluster["ns/pg"] = secret("1", {{"url", kUrlA}});
  add_set(set_object("ns", "s", "2024-01-01T00:00:00Z", {"pg"}));
  // The GET answers with the object; meanwhile the watch says it is gone.
  during_fetch = [this] {
    during_fetch = nullptr;
    refs.on_secret_deleted("ns/pg");
    cluster.erase("ns/pg");
  };
  fetch_all();
  EXPECT_EQ(read("ns", "pg").state, electric::SecretLookup::State::SecretMissing);
  EXPECT_EQ(fetched.size(), 2u);
}

TEST_F(ReferencedSecretsTest, StreamClaimsFollowTheSecretsAcrossNamespaces) {
  cluster["a/pg"] = secret("1", {{"url", kUrlA}});
  cluster["b/pg"] = secret("1", {{"url", kUrlA}});
  add_set(set_object("a", "old", "2024-01-01T00:00:00Z", {"pg"}, "shared"));
  add_set(set_object("b", "new", "2024-02-01T00:00:00Z", {"pg"}, "shared"));
  add_set(set_object("c", "bystander", "2024-02-01T00:00:00Z", {"pg"}, "shared"));  // its Secret is missing
  fetch_all();
  EXPECT_EQ(refs.stream_conflicts("a/old").size(), 1u);  // the group holds the loser
  auto losers = refs.stream_conflicts("b/new");
  ASSERT_EQ(losers.size(), 1u);
  EXPECT_EQ(losers.begin()->first, (electric::ShardKey{"b", "new", "0"}));
  EXPECT_TRUE(refs.stream_conflicts("c/bystander").empty());
  take_woken();

  // The newer set's database moves elsewhere: both claimants wake, the conflict is gone.
  cluster["b/pg"] = secret("2", {{"url", kUrlB}});
  refs.on_secret("b/pg", "2");
  fetch_all();
  EXPECT_EQ(take_woken(), (std::set<std::string>{"a/old", "b/new"}));
  EXPECT_TRUE(refs.stream_conflicts("b/new").empty());

  // It moves back, then the older set goes: the newer one wins.
  cluster["b/pg"] = secret("3", {{"url", kUrlA}});
  refs.on_secret("b/pg", "3");
  fetch_all();
  ASSERT_EQ(refs.stream_conflicts("b/new").size(), 1u);
  take_woken();
  refs.on_set("a/old", nullptr);
  EXPECT_EQ(take_woken(), (std::set<std::string>{"a/old", "b/new"}));
  EXPECT_TRUE(refs.stream_conflicts("b/new").empty());
}

TEST_F(ReferencedSecretsTest, AShardWhoseStreamIDChangeWasRefusedClaimsTheIDItsElectricRuns) {
  // a/old's shard asks for "asked_for", but its Deployment still runs
  // "running" (StreamIDChangeNotSupported); b/new asks for "running".
  std::map<std::string, std::string> live = {{"a/old-shard-0", "running"}};
  refs.set_live_stream_ids([&](const std::string& ns, const std::string& name) -> std::optional<std::string> {
    auto it = live.find(ns + "/" + name);
    return it == live.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
  cluster["a/pg"] = secret("1", {{"url", kUrlA}});
  cluster["b/pg"] = secret("1", {{"url", kUrlA}});
  add_set(set_object("a", "old", "2024-01-01T00:00:00Z", {"pg"}, "asked_for"));
  add_set(set_object("b", "new", "2024-02-01T00:00:00Z", {"pg"}, "running"));
  fetch_all();
  auto losers = refs.stream_conflicts("b/new");
  ASSERT_EQ(losers.size(), 1u) << "two Electrics would share electric_slot_running";
  EXPECT_EQ(losers.begin()->first, (electric::ShardKey{"b", "new", "0"}));

  // The old Deployment goes (its shard then starts on the ID it asked for):
  // the next reconcile of a/old re-derives its claim, and b/new is woken.
  live.clear();
  take_woken();
  EXPECT_TRUE(refs.stream_conflicts("a/old").empty());
  EXPECT_EQ(take_woken(), (std::set<std::string>{"b/new"}));
  EXPECT_TRUE(refs.stream_conflicts("b/new").empty());
}

TEST_F(ReferencedSecretsTest, TheFetcherThreadDrainsThePendingReads) {
  cluster["ns/pg"] = secret("1", {{"url", kUrlA}});
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> seen;
  refs.set_wake([&](const std::string& key) {
    std::lock_guard<std::mutex> lock(mu);
    seen.insert(key);
    cv.notify_all();
  });
  refs.start_fetcher();
  add_set(set_object("ns", "s", "2024-01-01T00:00:00Z", {"pg"}));
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return seen.count("ns/s") > 0; }));
  lock.unlock();
  EXPECT_EQ(read("ns", "pg").value, kUrlA);
  refs.stop_fetcher();
  refs.set_wake(nullptr);
}

TEST(ReferencedSecretKeys, AreTheExplicitReferencesOnly) {
  json object = set_object("ns", "s", "2024-01-01T00:00:00Z", {"pg0", "pg1"});
  object["spec"]["shards"][1]["pooledDatabaseURLSecretRef"] = {{"name", "pg1"}, {"key", "pooled"}};
  auto keys = referenced_secret_keys(electric::parse_shard_set(object).set);
  EXPECT_EQ(keys, (std::map<std::string, std::set<std::string>>{{"pg0", {"url"}}, {"pg1", {"pooled", "url"}}}));
  object["spec"]["apiSecretRef"] = {{"name", "api"}, {"key", "secret"}};
  EXPECT_EQ(referenced_secret_keys(electric::parse_shard_set(object).set).count("api"), 1u);
}

}  // namespace
}  // namespace app
