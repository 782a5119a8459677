// Issue 11's Secrets part against a real API server: Secrets nobody
// references are never read and nothing of them is held; referenced ones
// still reach their shards when created, changed, switched or deleted; a
// Secret change alone moves a stream conflict.
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support.h"

namespace itest {
namespace {

class SecretsTest : public OperatorSuite {
 protected:
  static double fetches(const OperatorProcess& op) {
    return op.metric("electric_operator_referenced_secret_fetches_total");
  }
  static std::string shard_secret_url(const std::string& ns, const std::string& name) {
    json secret = get_object(kube::kSecrets, ns, name);
    return secret.is_null() ? "" : secret["data"].value("DATABASE_URL", "");
  }
};

TEST_F(SecretsTest, ForeignSecretsAreNeitherReadNorHeld) {
  TestNamespace ns("foreign");
  const std::string big(64 * 1024, 'f');
  for (int i = 0; i < 10; ++i) put_secret(ns.name(), "helm-release-" + std::to_string(i), {{"release", big}});
  put_secret(ns.name(), "pg-0", {{"url", pg_url(0)}, {"unrelated", big}});
  OperatorProcess op({"--namespace", ns.name()});
  apply_set(shard_set(ns.name(), "f", 1));
  ASSERT_TRUE(eventually([&] { return set_ready(ns.name(), "f", 1); }, 90s)) << op.log_tail();

  // Held: one referenced Secret, and of it only the key the set reads.
  EXPECT_EQ(op.metric("electric_operator_referenced_secrets"), 1);
  EXPECT_EQ(op.metric("electric_operator_referenced_secret_value_bytes"), pg_url(0).size());
  EXPECT_EQ(fetches(op), 1) << "one GET, of the referenced Secret only";

  // A foreign Secret changes, then the referenced one: the metadata watch
  // delivers them in order, so once the second change reached the shard the
  // first was seen too, and it cost no GET.
  put_secret(ns.name(), "helm-release-3", {{"release", big + "v2"}});
  const std::string moved = "postgresql://electric:pw2@pg-0b.db:5432/app";
  put_secret(ns.name(), "pg-0", {{"url", moved}, {"unrelated", big}});
  ASSERT_TRUE(eventually([&] { return shard_secret_url(ns.name(), "f-shard-0") == base64(moved); }, 30s))
      << op.log_tail();
  EXPECT_EQ(fetches(op), 2) << "the foreign change was not read";
  EXPECT_EQ(op.metric("electric_operator_referenced_secret_value_bytes"), moved.size());
}

TEST_F(SecretsTest, ReferencingChangingAndDeletingASecretReachesTheShard) {
  TestNamespace ns("refs");
  put_secret(ns.name(), "pg-0", {{"url", pg_url(0)}});
  OperatorProcess op({"--namespace", ns.name()});
  apply_set(shard_set(ns.name(), "r", 1));
  ASSERT_TRUE(eventually([&] { return set_ready(ns.name(), "r", 1); }, 90s)) << op.log_tail();
  EXPECT_EQ(shard_secret_url(ns.name(), "r-shard-0"), base64(pg_url(0)));

  // The set switches to a Secret it did not reference before.
  const std::string other = "postgresql://electric:pw@other.db:5432/app";
  put_secret(ns.name(), "other", {{"dsn", other}});
  json switched = shard_set(ns.name(), "r", 1);
  switched["spec"]["shards"][0]["databaseURLSecretRef"] = {{"name", "other"}, {"key", "dsn"}};
  apply_set(switched);
  ASSERT_TRUE(eventually([&] { return shard_secret_url(ns.name(), "r-shard-0") == base64(other); }, 30s))
      << op.log_tail();
  EXPECT_EQ(op.metric("electric_operator_referenced_secrets"), 1) << "pg-0 is no longer held";

  // It is deleted: the shard says so.
  ASSERT_TRUE(client().remove(kube::kSecrets, ns.name(), "other").ok());
  ASSERT_TRUE(eventually([&] { return shard_status(ns.name(), "r", "0").value("reason", "") == "SecretNotFound"; },
                         30s))
      << op.log_tail();
  EXPECT_EQ(op.metric("electric_operator_referenced_secret_value_bytes"), 0);

  // It comes back with a new value: the shard heals with it.
  const std::string back = "postgresql://electric:pw@back.db:5432/app";
  put_secret(ns.name(), "other", {{"dsn", back}});
  ASSERT_TRUE(eventually([&] { return shard_secret_url(ns.name(), "r-shard-0") == base64(back); }, 30s))
      << op.log_tail();
  EXPECT_TRUE(eventually([&] { return set_ready(ns.name(), "r", 1); }, 60s)) << op.log_tail();
}

TEST_F(SecretsTest, ASecretChangeAloneMovesAStreamConflict) {
  TestNamespace ns("claims");
  put_secret(ns.name(), "pg-old", {{"url", "postgresql://electric:pw@db-a:5432/app"}});
  put_secret(ns.name(), "pg-new", {{"url", "postgresql://electric:pw@db-b:5432/app"}});
  OperatorProcess op({"--namespace", ns.name()});
  auto with_stream = [&](const std::string& name, const std::string& secret) {
    json set = shard_set(ns.name(), name, 1);
    set["spec"]["shards"][0]["databaseURLSecretRef"] = {{"name", secret}, {"key", "url"}};
    set["spec"]["shards"][0]["replicationStreamID"] = "shared_stream";
    return set;
  };
  apply_set(with_stream("older", "pg-old"));
  ASSERT_TRUE(eventually([&] { return set_ready(ns.name(), "older", 1); }, 90s)) << op.log_tail();
  std::this_thread::sleep_for(1100ms);  // creationTimestamps have 1 s resolution
  apply_set(with_stream("newer", "pg-new"));
  ASSERT_TRUE(eventually([&] { return set_ready(ns.name(), "newer", 1); }, 90s)) << "different databases";

  // The newer set's Secret now points at the older set's database.
  put_secret(ns.name(), "pg-new", {{"url", "postgresql://electric:pw@db-a:5432/app"}});
  ASSERT_TRUE(eventually([&] {
    return shard_status(ns.name(), "newer", "0").value("reason", "") == "ReplicationStreamConflict";
  }, 30s)) << op.log_tail();
  EXPECT_TRUE(eventually([&] { return get_object(kube::kDeployments, ns.name(), "newer-shard-0").is_null(); }, 30s));
  EXPECT_TRUE(set_ready(ns.name(), "older", 1)) << "the older set keeps its stream";

  // And back: the newer set runs again.
  put_secret(ns.name(), "pg-new", {{"url", "postgresql://electric:pw@db-b:5432/app"}});
  EXPECT_TRUE(eventually([&] { return set_ready(ns.name(), "newer", 1); }, 90s)) << op.log_tail();
}

TEST_F(SecretsTest, AShardThatKeptItsStreamIDStillClaimsIt) {
  TestNamespace ns("keptid");
  put_secret(ns.name(), "pg-0", {{"url", "postgresql://electric:pw@shared-db:5432/app"}});
  OperatorProcess op({"--namespace", ns.name()});
  apply_set(shard_set(ns.name(), "older", 1));
  ASSERT_TRUE(eventually([&] { return set_ready(ns.name(), "older", 1); }, 90s)) << op.log_tail();
  const std::string running = shard_status(ns.name(), "older", "0").value("replicationStreamID", "");
  ASSERT_FALSE(running.empty());
  // An explicit ID that differs is refused: the shard's Electric keeps `running`.
  json changed = shard_set(ns.name(), "older", 1);
  changed["spec"]["shards"][0]["replicationStreamID"] = "asked_for";
  apply_set(changed);
  ASSERT_TRUE(eventually([&] {
    return shard_status(ns.name(), "older", "0").value("reason", "") == "StreamIDChangeNotSupported";
  }, 30s)) << op.log_tail();
  // A newer set asking for `running` on the same server must not start a second Electric on its slot.
  std::this_thread::sleep_for(1100ms);  // creationTimestamps have 1 s resolution
  json newer = shard_set(ns.name(), "newer", 1);
  newer["spec"]["shards"][0]["replicationStreamID"] = running;
  apply_set(newer);
  EXPECT_TRUE(eventually([&] {
    return shard_status(ns.name(), "newer", "0").value("reason", "") == "ReplicationStreamConflict";
  }, 30s)) << shard_status(ns.name(), "newer", "0").dump() << op.log_tail();
  EXPECT_TRUE(get_object(kube::kDeployments, ns.name(), "newer-shard-0").is_null());
}

TEST_F(SecretsTest, AnApiSecretMadeBySomeoneElseIsLabelledAndKeptAsItIs) {
  TestNamespace ns("apisecret");
  put_secret(ns.name(), "pg-0", {{"url", pg_url(0)}});
  put_secret(ns.name(), "own-api-secret", {{"secret", "made-by-hand"}});
  OperatorProcess op({"--namespace", ns.name()});
  apply_set(shard_set(ns.name(), "own", 1));
  ASSERT_TRUE(eventually([&] { return set_ready(ns.name(), "own", 1); }, 90s)) << op.log_tail();
  json api = get_object(kube::kSecrets, ns.name(), "own-api-secret");
  EXPECT_EQ(api["data"]["secret"], base64("made-by-hand"));
  EXPECT_EQ(api["metadata"]["labels"].value("app.kubernetes.io/managed-by", ""), "electric-operator");
  EXPECT_EQ(get_object(kube::kSecrets, ns.name(), "own-shard-0")["data"]["ELECTRIC_SECRET"], base64("made-by-hand"));
  // Once labelled it is in the operator's cache: no create-conflict-GET per reconcile.
  EXPECT_TRUE(reconciles_without_writing(op, ns.name(), "own"));
}

}  // namespace
}  // namespace itest

namespace itest {
namespace {

// A set applied right after its Secrets (one kubectl apply of both): its
// first reconcile must already read them. It once ran before the set's
// references were registered and reported SecretNotFound for every shard.
TEST_F(SecretsTest, ASetCreatedWithItsSecretsNeverReportsThemMissing) {
  TestNamespace ns("together");
  OperatorProcess op({"--namespace", ns.name()});
  constexpr int kShards = 100;  // the race needs a set this size to show here
  for (int i = 0; i < kShards; ++i) put_secret(ns.name(), "pg-" + std::to_string(i), {{"url", pg_url(i)}});
  apply_set(shard_set(ns.name(), "t", kShards));
  const std::string last = "t-shard-" + std::to_string(kShards - 1);
  ASSERT_TRUE(eventually([&] { return !get_object(kube::kDeployments, ns.name(), last).is_null(); }, 120s))
      << op.log_tail();
  std::this_thread::sleep_for(2s);  // Events are written after the reconcile's applies
  kube::ListOptions o;
  o.field_selector = "involvedObject.name=t,reason=SecretNotFound";
  auto list = client().list(kube::kEvents, ns.name(), o);
  ASSERT_TRUE(list.ok()) << list.error().describe();
  EXPECT_TRUE(list.value().items.empty()) << list.value().items.size() << " SecretNotFound Events";
}

}  // namespace
}  // namespace itest
