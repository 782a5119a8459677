// The CRD file against the C++ constants: one source of truth each, so
// these tests fail when the two drift apart.
#include <functional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "electric/constants.h"
#include "electric/shard_set.h"

namespace electric {
namespace {

std::string repo_root() { return EO_SOURCE_DIR; }

YAML::Node load_crd() { return YAML::LoadFile(repo_root() + "/crds/electric-operator.dev_electricshardsets.yaml"); }

YAML::Node schema() { return load_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]; }

YAML::Node spec_props() { return schema()["properties"]["spec"]["properties"]; }

TEST(Crd, NamesAndScope) {
  YAML::Node crd = load_crd();
  EXPECT_EQ(crd["metadata"]["name"].as<std::string>(), std::string(kPlural) + "." + std::string(kGroup));
  EXPECT_EQ(crd["spec"]["group"].as<std::string>(), kGroup);
  EXPECT_EQ(crd["spec"]["scope"].as<std::string>(), "Namespaced");
  YAML::Node names = crd["spec"]["names"];
  EXPECT_EQ(names["kind"].as<std::string>(), kKind);
  EXPECT_EQ(names["plural"].as<std::string>(), kPlural);
  EXPECT_EQ(names["singular"].as<std::string>(), kSingular);
  EXPECT_EQ(names["shortNames"][0].as<std::string>(), kShortName);
  EXPECT_EQ(names["categories"][0].as<std::string>(), kCategory);
  ASSERT_EQ(crd["spec"]["versions"].size(), 1u);
  YAML::Node v = crd["spec"]["versions"][0];
  EXPECT_EQ(v["name"].as<std::string>(), kVersion);
  EXPECT_TRUE(v["served"].as<bool>());
  EXPECT_TRUE(v["storage"].as<bool>());
  EXPECT_TRUE(v["subresources"]["status"].IsMap());
}

TEST(Crd, PrinterColumns) {
  YAML::Node cols = load_crd()["spec"]["versions"][0]["additionalPrinterColumns"];
  ASSERT_EQ(cols.size(), 7u);
  // The default view (priority 0) is exactly the contract's four columns.
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_TRUE(!cols[i]["priority"] || cols[i]["priority"].as<int>() == 0) << i;
  EXPECT_EQ(cols[0]["name"].as<std::string>(), "Shards");
  EXPECT_EQ(cols[0]["jsonPath"].as<std::string>(), ".status.shardCount");
  EXPECT_EQ(cols[1]["name"].as<std::string>(), "Ready");
  EXPECT_EQ(cols[1]["jsonPath"].as<std::string>(), ".status.readyShards");
  EXPECT_EQ(cols[2]["name"].as<std::string>(), "Status");
  EXPECT_EQ(cols[2]["jsonPath"].as<std::string>(), ".status.conditions[?(@.type==\"Ready\")].status");
  EXPECT_EQ(cols[3]["name"].as<std::string>(), "Age");
  // -o wide adds what the default view hides.
  for (std::size_t i = 4; i < 7; ++i) EXPECT_EQ(cols[i]["priority"].as<int>(), 1) << i;
  EXPECT_EQ(cols[4]["name"].as<std::string>(), "Degraded");
  EXPECT_EQ(cols[4]["jsonPath"].as<std::string>(), ".status.conditions[?(@.type==\"Degraded\")].status");
  EXPECT_EQ(cols[5]["name"].as<std::string>(), "Paused");
  EXPECT_EQ(cols[5]["jsonPath"].as<std::string>(), ".status.conditions[?(@.type==\"Paused\")].status");
  EXPECT_EQ(cols[6]["name"].as<std::string>(), "Reason");
  EXPECT_EQ(cols[6]["jsonPath"].as<std::string>(), ".status.conditions[?(@.type==\"Ready\")].reason");
}

// kubectl explain reads descriptions: every property must have one.
void expect_descriptions(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) return;
  if (path != "metadata" && path.find(".metadata") == std::string::npos) {
    EXPECT_TRUE(node["description"] && !node["description"].as<std::string>().empty()) << path;
  }
  if (node["properties"])
    for (const auto& p : node["properties"])
      expect_descriptions(p.second, path.empty() ? p.first.as<std::string>() : path + "." + p.first.as<std::string>());
  if (node["items"]) expect_descriptions(node["items"], path + "[]");
}

TEST(Crd, EveryFieldHasADescription) { expect_descriptions(schema(), ""); }

TEST(Crd, DefaultsMatchTheOperatorsConstants) {
  YAML::Node s = spec_props();
  EXPECT_EQ(s["image"]["default"].as<std::string>(), kDefaultImage);
  EXPECT_EQ(s["imagePullPolicy"]["default"].as<std::string>(), kDefaultImagePullPolicy);
  EXPECT_EQ(s["storage"]["properties"]["size"]["default"].as<std::string>(), kDefaultStorageSize);
  EXPECT_EQ(s["storage"]["properties"]["accessModes"]["default"][0].as<std::string>(), kDefaultAccessMode);
  EXPECT_EQ(s["service"]["properties"]["type"]["default"].as<std::string>(), kDefaultServiceType);
  EXPECT_EQ(s["service"]["properties"]["port"]["default"].as<int>(), kDefaultServicePort);
  EXPECT_EQ(s["persistentVolumeClaimRetentionPolicy"]["properties"]["whenDeleted"]["default"].as<std::string>(),
            kRetentionRetain);
  EXPECT_EQ(s["persistentVolumeClaimRetentionPolicy"]["properties"]["whenShardRemoved"]["default"].as<std::string>(),
            kRetentionRetain);
  for (const char* when : {"whenDeleted", "whenShardRemoved"})
    EXPECT_EQ(s["replicationSlotRetentionPolicy"]["properties"][when]["default"].as<std::string>(), kRetentionDelete);
  EXPECT_FALSE(s["paused"]["default"].as<bool>());
}

TEST(Crd, LimitsMatchTheOperatorsConstants) {
  YAML::Node shards = spec_props()["shards"];
  EXPECT_EQ(shards["minItems"].as<int>(), kMinShards);
  EXPECT_EQ(shards["maxItems"].as<int>(), kMaxShards);
  EXPECT_EQ(shards["x-kubernetes-list-type"].as<std::string>(), "map");
  EXPECT_EQ(shards["x-kubernetes-list-map-keys"][0].as<std::string>(), "name");
  YAML::Node shard = shards["items"]["properties"];
  EXPECT_EQ(shard["replicationStreamID"]["maxLength"].as<int>(), kMaxStreamIDLength);
  EXPECT_EQ(shard["name"]["maxLength"].as<int>(), kMaxSetPlusShardNameLength - 1);
  EXPECT_NE(schema()["x-kubernetes-validations"][1]["rule"].as<std::string>().find(
                "<= " + std::to_string(kMaxSetPlusShardNameLength)),
            std::string::npos);
}

// The set-name rules sit at the root (they read metadata.name) and name the
// field, so the API server's error starts "metadata.name: Invalid value:"
// instead of "<nil>:", and the length rule says the limit and the length.
TEST(Crd, SetNameRulesNameTheFieldAndTheLength) {
  YAML::Node rules = schema()["x-kubernetes-validations"];
  ASSERT_EQ(rules.size(), 2u);
  for (const auto& rule : rules) {
    EXPECT_EQ(rule["fieldPath"].as<std::string>(), ".metadata.name") << rule["rule"];
    EXPECT_EQ(rule["reason"].as<std::string>(), "FieldValueInvalid") << rule["rule"];
  }
  // fieldPath must point at a declared field.
  YAML::Node name = schema()["properties"]["metadata"]["properties"]["name"];
  EXPECT_EQ(name["maxLength"].as<int>(), 63);
  const std::string message = rules[1]["messageExpression"].as<std::string>();
  EXPECT_NE(message.find("at most " + std::to_string(kMaxSetPlusShardNameLength) + " characters"),
            std::string::npos);
  EXPECT_NE(message.find("got '"), std::string::npos);
  // The length is spelled as an optional '1' and two digits: enough while the
  // longest possible sum stays below 200.
  const int longest_shard = spec_props()["shards"]["items"]["properties"]["name"]["maxLength"].as<int>();
  EXPECT_LT(name["maxLength"].as<int>() + longest_shard, 200);
  EXPECT_NE(message.find(">= 100 ? '1' : ''"), std::string::npos);
}

std::set<std::string> quoted_names(const std::string& rule) {
  std::set<std::string> names;
  std::regex quoted("'([A-Z_]+)'");
  for (std::sregex_iterator it(rule.begin(), rule.end(), quoted), end; it != end; ++it) names.insert((*it)[1]);
  return names;
}

TEST(Crd, EnvRulesListExactlyTheManagedNames) {
  std::set<std::string> managed(kManagedEnvNames.begin(), kManagedEnvNames.end());
  YAML::Node s = spec_props();
  for (YAML::Node env : {s["template"]["properties"]["env"], s["shards"]["items"]["properties"]["env"]}) {
    // The rule sits on each item, so the error names the entry and the cost
    // stays linear (a list-level messageExpression exceeded the CRD budget).
    YAML::Node rule = env["items"]["x-kubernetes-validations"][0];
    EXPECT_EQ(quoted_names(rule["rule"].as<std::string>()), managed);
    for (const char* text : {"message", "messageExpression"})
      for (const auto& name : managed)
        EXPECT_NE(rule[text].as<std::string>().find(name), std::string::npos) << text << " " << name;
    EXPECT_EQ(env["items"]["required"][0].as<std::string>(), "name");
  }
}

TEST(Crd, EveryCelRuleHasAMessage) {
  std::function<void(const YAML::Node&)> walk = [&](const YAML::Node& n) {
    if (n.IsMap()) {
      if (n["x-kubernetes-validations"]) {
        for (const auto& v : n["x-kubernetes-validations"]) {
          EXPECT_TRUE(v["message"] && !v["message"].as<std::string>().empty()) << v["rule"].as<std::string>();
        }
      }
      // Cost: every string a rule reads needs a maxLength, every list a maxItems.
      if (n["type"] && n["type"].IsScalar() && n["type"].as<std::string>() == "string" &&
          n["x-kubernetes-validations"]) {
        EXPECT_TRUE(n["maxLength"]) << n["description"].as<std::string>();
      }
      for (const auto& kv : n) walk(kv.second);
    } else if (n.IsSequence()) {
      for (const auto& item : n) walk(item);
    }
  };
  walk(schema());
}

// A value for every property the schema defines, recursively; objects the
// schema leaves open (x-kubernetes-preserve-unknown-fields) stay empty.
// `levels` collects the path of every object with a closed property list.
nlohmann::json sample_from_schema(const YAML::Node& node, const std::string& path,
                                  std::vector<std::string>& levels) {
  const std::string type = node["type"] ? node["type"].as<std::string>() : "object";
  if (type == "array") {
    nlohmann::json items = nlohmann::json::array();
    if (node["items"]) items.push_back(sample_from_schema(node["items"], path + "[]", levels));
    return items;
  }
  if (type == "string") return node["enum"] ? node["enum"][0].as<std::string>() : "x";
  if (type == "integer") return 1;
  if (type == "boolean") return false;
  nlohmann::json object = nlohmann::json::object();
  if (!node["properties"] || node["x-kubernetes-preserve-unknown-fields"]) return object;
  levels.push_back(path);
  for (const auto& p : node["properties"]) {
    const std::string name = p.first.as<std::string>();
    object[name] = sample_from_schema(p.second, path + "." + name, levels);
  }
  return object;
}

nlohmann::json object_with_spec(const nlohmann::json& spec) {
  return {{"apiVersion", std::string(kGroup) + "/" + std::string(kVersion)},
          {"kind", kKind},
          {"metadata", {{"name", "s"}}},
          {"spec", spec}};
}

// corev1 lists the operator copies into the pod unchanged: the API server
// checks their items, the parser does not look inside.
const std::set<std::string> kPassThroughLevels = {"spec.imagePullSecrets[]", "spec.template.env[]",
                                                  "spec.shards[].env[]", "spec.shards[].env[].valueFrom"};

// The CRD is the authority on field names: the parser knows every field it
// defines, and reports a field it does not define at every closed level.
TEST(Crd, ParserKnowsEverySchemaFieldAndReportsOthers) {
  std::vector<std::string> levels;
  const nlohmann::json spec = sample_from_schema(schema()["properties"]["spec"], "spec", levels);
  ParsedShardSet full = parse_shard_set(object_with_spec(spec));
  EXPECT_TRUE(full.unknown_fields.empty()) << describe_errors(full.unknown_fields);

  ASSERT_GT(levels.size(), 8u);
  for (const std::string& level : levels) {
    if (kPassThroughLevels.count(level)) continue;
    std::string reported = level, pointer = "/";
    for (std::size_t at; (at = reported.find("[]")) != std::string::npos;) reported.replace(at, 2, "[0]");
    for (char c : reported)
      if (c != ']') pointer += (c == '.' || c == '[') ? '/' : c;
    nlohmann::json object = object_with_spec(spec);
    object[nlohmann::json::json_pointer(pointer)]["notAField"] = "x";
    ParsedShardSet parsed = parse_shard_set(object);
    ASSERT_EQ(parsed.unknown_fields.size(), 1u) << level << ": " << describe_errors(parsed.unknown_fields);
    EXPECT_EQ(parsed.unknown_fields[0].path, reported + ".notAField");
  }
}

}  // namespace
}  // namespace electric
