#include "app/render_command.h"

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "app/yaml_json.h"

namespace app {
namespace {

class RenderCommand : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    path_ = ::testing::TempDir() + "render-" + std::to_string(++counter_) + ".yaml";
    std::ofstream(path_) << text;
    return path_;
  }
  int render(const std::string& file, std::string ns = "",
             electric::PodSecurityLevel level = electric::kDefaultMaxPodSecurityLevel) {
    out_.str("");
    err_.str("");
    RenderOptions options;
    options.file = file;
    options.ns = std::move(ns);
    options.max_pod_security_level = level;
    return run_render(options, out_, err_);
  }
  std::string path_;
  int counter_ = 0;
  std::ostringstream out_, err_;
};

const char* kSet = R"(apiVersion: electric-operator.dev/v1alpha1
kind: ElectricShardSet
metadata: {name: myapp, namespace: prod}
spec:
  apiSecretRef: {name: api, key: secret}
  shards:
    - {name: "0", databaseURLSecretRef: {name: pg-0, key: url}}
    - {name: "1", databaseURLSecretRef: {name: pg-1, key: url},
       pooledDatabaseURLSecretRef: {name: pg-1, key: pooled}}
)";

TEST_F(RenderCommand, PrintsEveryChildWithSourcesInsteadOfSecretValues) {
  ASSERT_EQ(render(write(kSet)), 0) << err_.str();
  auto docs = yaml_documents_to_json(out_.str());
  ASSERT_TRUE(docs.ok());
  std::multiset<std::string> kinds;
  for (const auto& d : docs.value()) kinds.insert(d["kind"].get<std::string>());
  EXPECT_EQ(kinds.count("Secret"), 2u);
  EXPECT_EQ(kinds.count("PersistentVolumeClaim"), 2u);
  EXPECT_EQ(kinds.count("Deployment"), 2u);
  EXPECT_EQ(kinds.count("Service"), 2u);
  EXPECT_EQ(kinds.count("ConfigMap"), 1u);
  const auto& secret = docs.value()[0];
  EXPECT_FALSE(secret.contains("data"));
  EXPECT_EQ(secret["stringData"]["DATABASE_URL"], "<from Secret pg-0 key url>");
  EXPECT_EQ(secret["stringData"]["ELECTRIC_SECRET"], "<from Secret api key secret>");
  EXPECT_EQ(docs.value()[1]["stringData"]["ELECTRIC_POOLED_DATABASE_URL"], "<from Secret pg-1 key pooled>");
  EXPECT_EQ(out_.str().find("postgresql://"), std::string::npos) << "no value, not even a placeholder URL";
}

TEST_F(RenderCommand, SameInputSameBytes) {
  ASSERT_EQ(render(write(kSet)), 0);
  std::string first = out_.str();
  ASSERT_EQ(render(path_), 0);
  EXPECT_EQ(out_.str(), first);
}

// As the help says: the flag fills in the namespace when the file names none.
TEST_F(RenderCommand, NamespaceFlagNeverOverridesTheFile) {
  ASSERT_EQ(render(write(kSet), "staging"), 0) << err_.str();
  EXPECT_NE(out_.str().find("namespace: prod"), std::string::npos);
  EXPECT_EQ(out_.str().find("staging"), std::string::npos);
}

TEST_F(RenderCommand, NamespaceFlagFillsInWhenTheFileNamesNone) {
  std::string set = kSet;
  set.replace(set.find("metadata: {name: myapp, namespace: prod}"),
              std::string("metadata: {name: myapp, namespace: prod}").size(), "metadata: {name: myapp}");
  const std::string file = write(set);
  ASSERT_EQ(render(file, "staging"), 0) << err_.str();
  EXPECT_NE(out_.str().find("namespace: staging"), std::string::npos);
  EXPECT_NE(out_.str().find("myapp-shard-0.staging.svc"), std::string::npos);
  ASSERT_EQ(render(file), 0) << err_.str();
  EXPECT_NE(out_.str().find("namespace: default"), std::string::npos);
  EXPECT_EQ(out_.str().find("staging"), std::string::npos);
}

TEST_F(RenderCommand, APodBeyondTheAllowedLevelIsAnErrorNotASilentGap) {
  const std::string set = std::string(kSet) + "  template: {securityContext: {privileged: true}}\n";
  EXPECT_EQ(render(write(set)), 1);
  EXPECT_NE(err_.str().find("shard \"0\": spec.template.securityContext.privileged"), std::string::npos) << err_.str();
  EXPECT_EQ(out_.str().find("kind: Deployment"), std::string::npos);
  EXPECT_EQ(render(write(set), "", electric::PodSecurityLevel::Privileged), 0) << err_.str();
  EXPECT_NE(out_.str().find("privileged: true"), std::string::npos);
}

TEST_F(RenderCommand, BadInputGivesAClearErrorAndExitCode) {
  EXPECT_EQ(render("/nonexistent/set.yaml"), 2);
  EXPECT_NE(err_.str().find("cannot read"), std::string::npos);
  EXPECT_EQ(render(write("a: [1, 2\n")), 2);
  EXPECT_NE(err_.str().find("not valid YAML"), std::string::npos);
  EXPECT_EQ(render(write("apiVersion: v1\nkind: ConfigMap\n")), 2);
  EXPECT_NE(err_.str().find("holds no ElectricShardSet"), std::string::npos);
  EXPECT_EQ(render(write("apiVersion: electric-operator.dev/v1alpha1\nkind: ElectricShardSet\n"
                         "metadata: {name: 9bad}\nspec: {shards: []}\n")),
            1);
  EXPECT_NE(err_.str().find("invalid"), std::string::npos);
}

// For CI review: a typo fails the check, names the field, and prints no
// document a later step could mistake for the result.
TEST_F(RenderCommand, UnknownFieldIsNamedAndNothingIsPrinted) {
  std::string set = kSet;
  set.replace(set.find("  shards:"), std::string("  shards:").size(), "  shard:");
  EXPECT_EQ(render(write(set)), 1);
  EXPECT_EQ(out_.str(), "");
  EXPECT_NE(err_.str().find("spec.shard: unknown field (did you mean spec.shards?)"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("spec.shards: is required"), std::string::npos) << err_.str();
}

TEST_F(RenderCommand, UnknownShardFieldFailsTheRender) {
  std::string set = kSet;
  set.replace(set.find("pooledDatabaseURLSecretRef"), std::string("pooledDatabaseURLSecretRef").size(),
              "pooledDatabaseUrlSecretRef");
  EXPECT_EQ(render(write(set)), 1);
  EXPECT_EQ(out_.str(), "");
  EXPECT_NE(err_.str().find("spec.shards[1].pooledDatabaseUrlSecretRef: unknown field (did you mean "
                            "spec.shards[1].pooledDatabaseURLSecretRef?)"),
            std::string::npos)
      << err_.str();
}

TEST_F(RenderCommand, AnyInvalidSetOrShardPrintsNoDocument) {
  std::string bad_shard = kSet;
  bad_shard.replace(bad_shard.find("{name: \"1\""), std::string("{name: \"1\"").size(), "{name: \"Bad_1\"");
  EXPECT_EQ(render(write(bad_shard)), 1);
  EXPECT_EQ(out_.str(), "");
  EXPECT_NE(err_.str().find("spec.shards[1].name"), std::string::npos) << err_.str();

  std::string other = kSet;
  other.replace(other.find("name: myapp"), std::string("name: myapp").size(), "name: 9other");
  EXPECT_EQ(render(write(std::string(kSet) + "---\n" + other)), 1);
  EXPECT_EQ(out_.str(), "");
  EXPECT_NE(err_.str().find("ElectricShardSet 9other is invalid: metadata.name"), std::string::npos) << err_.str();
}

TEST_F(RenderCommand, RoutingKeysThatLookNumericAreQuoted) {
  ASSERT_EQ(render(write(kSet)), 0) << err_.str();
  EXPECT_NE(out_.str().find("\n  \"0\": http://myapp-shard-0.prod.svc.cluster.local:3000\n"), std::string::npos);
  auto docs = yaml_documents_to_json(out_.str());
  ASSERT_TRUE(docs.ok());
  for (const auto& d : docs.value())
    if (d["kind"] == "ConfigMap") {
      EXPECT_TRUE(d["data"].contains("1"));
    }
}

}  // namespace
}  // namespace app
