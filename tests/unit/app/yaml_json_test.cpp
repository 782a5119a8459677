#include "app/yaml_json.h"

#include <gtest/gtest.h>

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

TEST(YamlJson, RoundTripQuotesStringsThatLookLikeOtherTypes) {
  json value = json::parse(R"({"name":"0","on":"true","empty":"","n":3,"list":["1",2],
                               "obj":{"k":"v"},"none":null,"flag":false})");
  auto back = yaml_documents_to_json(json_to_yaml(value));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value().at(0), value);
}

}  // namespace
}  // namespace app
