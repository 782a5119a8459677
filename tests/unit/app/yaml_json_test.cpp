#include "app/yaml_json.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace app {
namespace {

using nlohmann::json;

TEST(YamlJson, TypesPlainScalarsAndKeepsQuotedOnesStrings) {
  auto docs = yaml_documents_to_json(R"(
a: 1
b: "1"
c: true
d: 'true'
e: ~
f: 1.5
g: hello
h: [x, "0"]
i: {}
)");
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs.value().size(), 1u);
  EXPECT_EQ(docs.value()[0],
            json::parse(R"({"a":1,"b":"1","c":true,"d":"true","e":null,"f":1.5,
                            "g":"hello","h":["x","0"],"i":{}})"));
}

TEST(YamlJson, ReadsEveryDocumentAndSkipsEmptyOnes) {
  auto docs = yaml_documents_to_json("a: 1\n---\n---\nb: 2\n");
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(docs.value().size(), 2u);
}

TEST(YamlJson, BadYamlIsAnErrorValue) {
  auto docs = yaml_documents_to_json("a: [1, 2\n");
  ASSERT_FALSE(docs.ok());
  EXPECT_NE(docs.error().message.find("not valid YAML"), std::string::npos);
}

TEST(YamlJson, ADuplicateKeyIsAnErrorNamingItAndItsLine) {
  auto docs = yaml_documents_to_json("spec:\n  paused: false\n  image: a\n  paused: true\n");
  ASSERT_FALSE(docs.ok());
  EXPECT_NE(docs.error().message.find("duplicate key \"paused\""), std::string::npos) << docs.error().message;
  EXPECT_NE(docs.error().message.find("line 4"), std::string::npos) << docs.error().message;
  EXPECT_TRUE(yaml_documents_to_json("a: {b: 1}\nc: {b: 2}\n").ok()) << "the same key in two maps is no duplicate";
}

TEST(YamlJson, NestingTooDeepOrAComplexKeyIsAnErrorNotACrash) {
  EXPECT_FALSE(yaml_documents_to_json(std::string(100000, '[')).ok());
  EXPECT_FALSE(yaml_documents_to_json("? [a, b]\n: c\n").ok());
}

TEST(YamlJson, RoundTripQuotesStringsThatLookLikeOtherTypes) {
  json value = json::parse(R"({"name":"0","on":"true","empty":"","n":3,"list":["1",2],
                               "obj":{"k":"v"},"none":null,"flag":false})");
  auto back = yaml_documents_to_json(json_to_yaml(value));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value().at(0), value);
}

// Strings that a YAML reader would type otherwise, or could not read plain.
const std::vector<std::string> kTricky = {
    "0", "1", "-1", "+1", "007", "0x1F", "0X1f", "0o7", "0b101", "1_000", "1e3", "1E-3", "1.5", ".5",
    "1.", ".inf", "-.inf", "+.INF", ".nan", ".NaN", "1:30", "2024-01-01", "2024-01-01T00:00:00Z",
    "yes", "No", "ON", "off", "y", "N", "true", "False", "NULL", "null", "~", "<<", "=", "",
    " lead", "trail ", "a: b", "a #b", "end:", "#x", "- x", "-", "?", ": x", "[x]", "{x}",
    "&a", "*a", "!tag", "|x", ">x", "'x", "\"x", "%x", "@x", "`x", "line\nbreak", "tab\tinside"};

TEST(YamlJson, TrickyStringsComeOutQuotedAsKeysAndValues) {
  for (const std::string& s : kTricky) {
    const std::string text = json_to_yaml(json{{s, s}});
    YAML::Node node = YAML::Load(text);
    ASSERT_TRUE(node.IsMap()) << text;
    ASSERT_EQ(node.size(), 1u) << text;
    for (const auto& kv : node) {
      EXPECT_EQ(kv.first.Tag(), "!") << "key not quoted: " << text;
      EXPECT_EQ(kv.first.Scalar(), s) << text;
      EXPECT_EQ(kv.second.Tag(), "!") << "value not quoted: " << text;
      EXPECT_EQ(kv.second.Scalar(), s) << text;
    }
    auto back = yaml_documents_to_json(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(back.value().at(0), (json{{s, s}})) << text;
  }
}

TEST(YamlJson, ConfigMapKeysThatLookNumericAreQuoted) {
  json cm = {{"data", {{"0", "http://a:3000"}, {"shards.json", "{}"}}}};
  EXPECT_EQ(json_to_yaml(cm), "data:\n  \"0\": http://a:3000\n  shards.json: \"{}\"\n");
}

TEST(YamlJson, OrdinaryStringsStayPlain) {
  for (const std::string s : {"hello", "10Gi", "electricsql/electric:1.7.12", "http://a.b.svc:3000",
                              "1.7.12", "-x", "a-b", "prod/myapp-shard-0", "key=value", "a:b"}) {
    EXPECT_EQ(json_to_yaml(json{{"k", s}}), "k: " + s + "\n");
  }
}

}  // namespace
}  // namespace app
