#include "app/logging.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace app {
namespace {

TEST(Logging, JsonLineCarriesTheStandardKeysInOrder) {
  LogFields fields{"electricshardset", "prod", "myapp", "r-1"};
  auto line = format_json_line("2026-01-01T00:00:00.000Z", "info", "applied \"x\"", &fields);
  EXPECT_EQ(line,
            R"({"ts":"2026-01-01T00:00:00.000Z","level":"info","msg":"applied \"x\"",)"
            R"("controller":"electricshardset","namespace":"prod","name":"myapp","reconcileID":"r-1"})");
}

TEST(Logging, JsonLineWithoutContextAndWithBadUtf8NeverThrows) {
  std::string line;
  ASSERT_NO_THROW(line = format_json_line("t", "warn", std::string("bad \xff byte"), nullptr));
  auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["level"], "warn");
  EXPECT_FALSE(parsed.contains("controller"));
}

TEST(Logging, ParsesFormatsAndLevels) {
  EXPECT_EQ(parse_log_format("json"), LogFormat::Json);
  EXPECT_EQ(parse_log_format("text"), LogFormat::Text);
  EXPECT_FALSE(parse_log_format("xml").has_value());
  EXPECT_EQ(parse_log_level("warn"), spdlog::level::warn);
  EXPECT_FALSE(parse_log_level("verbose").has_value());
}

}  // namespace
}  // namespace app
