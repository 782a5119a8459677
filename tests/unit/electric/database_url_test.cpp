#include "electric/database_url.h"

#include <gtest/gtest.h>

namespace electric {
namespace {

const std::string kPassword = "s3cr3t-P4ss";

DatabaseURL parse_ok(const std::string& url) {
  auto parsed = parse_database_url(url);
  EXPECT_TRUE(parsed.ok()) << (parsed ? "" : parsed.error());
  return parsed ? parsed.value() : DatabaseURL{};
}

TEST(DatabaseURL, ParsesBothSchemes) {
  DatabaseURL a = parse_ok("postgresql://electric:" + kPassword + "@db.prod.svc:6432/app?sslmode=require");
  EXPECT_EQ(a.scheme, "postgresql");
  EXPECT_EQ(a.user, "electric");
  EXPECT_EQ(a.host, "db.prod.svc");
  EXPECT_EQ(a.port, 6432);
  EXPECT_EQ(a.dbname, "app");
  DatabaseURL b = parse_ok("postgres://u@h/d");
  EXPECT_EQ(b.scheme, "postgres");
  EXPECT_EQ(b.port, 5432);
}

TEST(DatabaseURL, DbnameDefaultsToUserLikePostgres) {
  EXPECT_EQ(parse_ok("postgres://alice:" + kPassword + "@h").dbname, "alice");
  EXPECT_EQ(parse_ok("postgres://alice@h/").dbname, "alice");
  EXPECT_EQ(parse_ok("postgres://h:5433").dbname, "");
}

TEST(DatabaseURL, PercentDecodingAndQueryOverrides) {
  DatabaseURL a = parse_ok("postgres://my%40user:p%40ss@h/my%2Fdb");
  EXPECT_EQ(a.user, "my@user");
  EXPECT_EQ(a.dbname, "my/db");
  DatabaseURL b = parse_ok("postgresql:///ignored?host=db.internal&port=7000&dbname=real&user=bob&password=" + kPassword);
  EXPECT_EQ(b.host, "db.internal");
  EXPECT_EQ(b.port, 7000);
  EXPECT_EQ(b.dbname, "real");
  EXPECT_EQ(b.user, "bob");
  EXPECT_EQ(b.redacted.find(kPassword), std::string::npos);
}

TEST(DatabaseURL, IPv6AndMultipleHosts) {
  DatabaseURL a = parse_ok("postgres://u@[2001:db8::1]:5433/d");
  EXPECT_EQ(a.host, "2001:db8::1");
  EXPECT_EQ(a.port, 5433);
  EXPECT_EQ(a.redacted, "postgres://u@[2001:db8::1]:5433/d");
  DatabaseURL b = parse_ok("postgres://u@h1:5432,h2:5433/d");
  EXPECT_EQ(b.host, "h1,h2");
  EXPECT_EQ(b.port, 5432);
  EXPECT_EQ(b.redacted, "postgres://u@h1:5432,h2:5433/d");
}

TEST(DatabaseURL, LocationIsCaseInsensitiveOnHost) {
  EXPECT_EQ(parse_ok("postgres://a@DB.Example.com/x").location(), parse_ok("postgresql://b@db.example.com:5432/x").location());
  EXPECT_FALSE(parse_ok("postgres://a@db/x").location() == parse_ok("postgres://a@db/y").location());
  EXPECT_FALSE(parse_ok("postgres://a@db/x").location() == parse_ok("postgres://a@db:5433/x").location());
}

TEST(DatabaseURL, RedactedFormNeverShowsThePasswordOrItsLength) {
  DatabaseURL a = parse_ok("postgresql://electric:" + kPassword + "@db:5432/app?password=" + kPassword);
  EXPECT_EQ(a.redacted, "postgresql://electric:***@db:5432/app");
  DatabaseURL b = parse_ok("postgresql://electric:x@db:5432/app");
  EXPECT_EQ(b.redacted, "postgresql://electric:***@db:5432/app");  // same for any length
  EXPECT_EQ(redact_database_url("postgres://u:" + kPassword + "@h/d"), "postgres://u:***@h:5432/d");
  EXPECT_EQ(redact_database_url("mysql://u:" + kPassword + "@h/d"), "<invalid database URL>");
}

TEST(DatabaseURL, RejectsOtherSchemesAndMalformedURIs) {
  struct Case {
    std::string url;
    std::string expected_words;
  };
  std::vector<Case> cases = {
      {"mysql://u:" + kPassword + "@h/d", "the scheme is \"mysql\""},
      {"host=db user=u password=" + kPassword, "must start with postgres://"},
      {"", "must start with postgres://"},
      {"postgres://u:" + kPassword + "@/d", "names no host"},
      {"postgres://u:" + kPassword + "@h:99999/d", "port"},
      {"postgres://u:" + kPassword + "@h:abc/d", "port"},
      {"postgres://u:" + kPassword + "@[::1/d", "IPv6"},
      {"postgres://u:" + kPassword + "@h/d%zz", "%-escape"},
      {"postgres://u:pa/ss" + kPassword + "@h/d", "unescaped '@'"},
      {"postgres://u:" + kPassword + "@h/d?sslmode", "query parameter"},
      {"Postgres://u:" + kPassword + "@h/d", "the scheme is \"Postgres\""},
      {"postgres://u:" + kPassword + "@h1,/d", "hosts is empty"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_database_url(c.url);
    ASSERT_FALSE(parsed.ok()) << c.url;
    EXPECT_NE(parsed.error().find(c.expected_words), std::string::npos) << parsed.error();
    EXPECT_EQ(parsed.error().find(kPassword), std::string::npos) << parsed.error();
    EXPECT_EQ(parsed.error().find("pa/ss"), std::string::npos) << parsed.error();
    // The reason only: the caller names the URL and says it is not valid.
    EXPECT_EQ(parsed.error().find("invalid"), std::string::npos) << parsed.error();
  }
}

TEST(DatabaseURL, ErrorsNeverQuoteAWeirdScheme) {
  auto parsed = parse_database_url(kPassword + "-like$scheme://h/d");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().find(kPassword), std::string::npos);
}

}  // namespace
}  // namespace electric
