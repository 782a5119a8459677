// The API contract (docs/api.md, a checked copy of the design's api.md) read as
// data: every managed env name, reason, label and child name it promises must
// exist in the code. The other tests compare the code with its own constants,
// so only this one notices a name the contract requires and the code lacks.
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "electric/constants.h"
#include "electric/labels.h"
#include "electric/naming.h"
#include "electric/render.h"
#include "electric/status.h"
#include "fixtures.h"

namespace {

using namespace electric;

std::string contract() {
  std::ifstream in(std::string(EO_SOURCE_DIR) + "/docs/api.md");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The text from the first `from` to the next `to` after it (to the end when
// `to` is empty); fails the test when either is missing, so a reworded
// contract cannot silently empty a check.
std::string between(const std::string& text, const std::string& from, const std::string& to) {
  size_t start = text.find(from);
  EXPECT_NE(start, std::string::npos) << "contract has no \"" << from << "\"";
  if (start == std::string::npos) return "";
  if (to.empty()) return text.substr(start);
  size_t end = text.find(to, start + from.size());
  EXPECT_NE(end, std::string::npos) << "contract has no \"" << to << "\" after \"" << from << "\"";
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// Every `code span` in `text` that matches `pattern` whole.
std::set<std::string> code_spans(const std::string& text, const std::regex& pattern) {
  std::set<std::string> found;
  static const std::regex span("`([^`]+)`");
  for (std::sregex_iterator it(text.begin(), text.end(), span), end; it != end; ++it) {
    std::string inner = (*it)[1];
    if (std::regex_match(inner, pattern)) found.insert(inner);
  }
  return found;
}

const std::regex kEnvName("[A-Z][A-Z0-9_]+");
const std::regex kReason("[A-Z][A-Za-z]*[a-z][A-Za-z]*");  // CamelCase

TEST(Contract, EveryManagedEnvNameItListsIsRefused) {
  auto listed = code_spans(between(contract(), "names a managed variable", "\n- a `storage.size`"),
                           kEnvName);
  ASSERT_GE(listed.size(), 8u);
  for (const auto& name : listed) {
    EXPECT_TRUE(is_managed_env_name(name)) << "api.md lists " << name << " as managed; the code does not";
  }
}

TEST(Contract, EveryReasonItNamesHasOneInTheCode) {
  const std::map<std::string, std::string_view> in_code = {
      {"SecretNotFound", kReasonSecretNotFound},
      {"InvalidDatabaseURL", kReasonInvalidDatabaseURL},
      {"InvalidAPISecret", kReasonInvalidAPISecret},
      {"StreamIDChangeNotSupported", kReasonStreamIDChangeNotSupported},
      {"ReplicationStreamConflict", kReasonReplicationStreamConflict},
      {"StorageShrinkNotSupported", kReasonStorageShrinkNotSupported},
      {"DatabaseUnreachable", kReasonDatabaseUnreachable},
      {"AuthenticationFailed", kReasonAuthenticationFailed},
      {"WalLevelNotLogical", kReasonWalLevelNotLogical},
      {"MissingReplicationPrivilege", kReasonMissingReplicationPrivilege},
      {"NoFreeReplicationSlots", kReasonNoFreeReplicationSlots},
      {"WALRetentionHigh", kReasonWALRetentionHigh},
      {"ShardsNotReady", kReasonShardsNotReady},
      {"RollingOut", kReasonRollingOut},
      {"AsExpected", kReasonAsExpected},
      {"Reconciling", kReasonReconciling},
  };
  std::string text = contract();
  std::set<std::string> named = code_spans(between(text, "## Database checks", "## Replication slots"), kReason);
  for (const auto& part : {between(text, "## Status", "## Bad input"), between(text, "## Bad input", "")}) {
    auto more = code_spans(part, kReason);
    named.insert(more.begin(), more.end());
  }
  // Reasons of the status example's conditions are written `reason: X`, not in code spans.
  static const std::regex example_reason("reason: ([A-Za-z]+)");
  std::string status = between(text, "## Status", "## Bad input");
  for (std::sregex_iterator it(status.begin(), status.end(), example_reason), end; it != end; ++it)
    named.insert((*it)[1]);
  for (std::string phase : {"Pending", "Progressing", "Ready", "Failed"}) named.erase(phase);
  ASSERT_GE(named.size(), 16u);
  for (const auto& reason : named) {
    auto it = in_code.find(reason);
    if (it == in_code.end()) {
      ADD_FAILURE() << "api.md names reason " << reason << "; no constant in the code spells it";
    } else {
      EXPECT_EQ(it->second, reason);
    }
  }
}

TEST(Contract, EveryChildCarriesTheLabelsItLists) {
  std::string paragraph = between(contract(), "Labels on every child:", "Children never copy");
  static const std::regex pair("`([a-z0-9.\\-/]+): ([a-z\\-]+|S|X)`");
  Labels shard = shard_labels("S", "X");
  int checked = 0;
  for (std::sregex_iterator it(paragraph.begin(), paragraph.end(), pair), end; it != end; ++it) {
    std::string key = (*it)[1], value = (*it)[2];
    ASSERT_TRUE(shard.count(key)) << "a shard child lacks label " << key;
    EXPECT_EQ(shard.at(key), value) << key;
    ++checked;
  }
  EXPECT_EQ(checked, 5);
  EXPECT_EQ(set_labels("S", kComponentRouting).at(std::string(kLabelComponent)), "routing");
  EXPECT_EQ(shard.count(std::string(kLabelInstanceForbidden)), 0u);
}

TEST(Contract, ChildNamesAreTheOnesItTabulates) {
  std::string table = between(contract(), "For each shard X", "Every child carries");
  auto names = code_spans(table, std::regex("S-[a-zA-Z\\-]+"));
  const std::set<std::string> in_code = {shard_child_name("S", "X"), shard_pvc_name("S", "X"),
                                         default_routing_config_map_name("S"), api_secret_name("S")};
  EXPECT_EQ(names, in_code);
}

TEST(Contract, TheContainerGetsEveryEnvNameItDescribes) {
  std::string section = between(contract(), "The Electric container", "## Routing ConfigMap");
  auto described = code_spans(section, kEnvName);
  ASSERT_GE(described.size(), 7u);
  auto set = electric_test::sample_set();
  std::set<std::string> rendered;
  for (const auto& env : render_env(set, set.spec.shards[1])) rendered.insert(env["name"].get<std::string>());
  for (const auto& name : described) EXPECT_TRUE(rendered.count(name)) << "the container lacks " << name;
}

}  // namespace
