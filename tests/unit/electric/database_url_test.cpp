// The URL rules are Electric's (Electric.Config.parse_postgresql_uri/1 at
// 1.7.12); the first two tables are the URLs of its own doctests, with the
// outcome each must have here.
#include "electric/database_url.h"

#include <gtest/gtest.h>

namespace electric {
namespace {

const std::string kPassword = "s3cr3t-P4ss";

DatabaseURL parse_ok(const std::string& url) {
  auto parsed = parse_database_url(url);
  EXPECT_TRUE(parsed.ok()) << url << ": " << (parsed ? "" : parsed.error());
  return parsed ? parsed.value() : DatabaseURL{};
}

TEST(DatabaseURL, AcceptsWhatElectricsOwnTestsAccept) {
  struct Case {
    std::string url, host;
    int port;
    std::string dbname, user, password, sslmode;
  };
  const std::vector<Case> cases = {
      {"postgresql://postgres:password@example.com/app-db", "example.com", 5432, "app-db", "postgres", "password", "prefer"},
      {"postgresql://electric@192.168.111.33:81/__shadow", "192.168.111.33", 81, "__shadow", "electric", "", "prefer"},
      {"postgresql://pg@[2001:db8::1234]:4321", "2001:db8::1234", 4321, "pg", "pg", "", "prefer"},
      {"postgresql://user@localhost:5433/", "localhost", 5433, "user", "user", "", "prefer"},
      {"postgresql://user%2Btesting%40gmail.com:weird%2Fpassword@localhost:5433/my%2Bdb%2Bname", "localhost", 5433,
       "my+db+name", "user+testing@gmail.com", "weird/password", "prefer"},
      {"postgres://super_user@localhost:7801/postgres?sslmode=disable", "localhost", 7801, "postgres", "super_user", "", "disable"},
      {"postgres://super_user@localhost:7801/postgres?sslmode=require", "localhost", 7801, "postgres", "super_user", "", "require"},
      {"postgresql://user@localhost:5433/mydb?opts=-c%20synchronous_commit%3Doff&foo=bar", "localhost", 5433, "mydb", "user", "", "prefer"},
      {"postgres://user:pass@localhost:5432/db?uselibpqcompat=true", "localhost", 5432, "db", "user", "pass", "prefer"},
      {"postgres://user:pass@localhost:5432/db?uselibpqcompat=true&sslmode=require", "localhost", 5432, "db", "user", "pass", "require"},
      // Beyond the doctests, from URI.parse's rules.
      {"POSTGRESQL://u:p@h/d", "h", 5432, "d", "u", "p", "prefer"},
      {"postgres://u:p@ss@h/d", "h", 5432, "d", "u", "p@ss", "prefer"},  // userinfo runs to the last '@'
      {"postgres://u:%zz@h/d", "h", 5432, "d", "u", "%zz", "prefer"},    // a malformed escape stays as written
      {"postgres://u:p@h/d#fragment", "h", 5432, "d", "u", "p", "prefer"},
      {"postgres://u:p@h/d?sslmode=allow&sslmode=disable", "h", 5432, "d", "u", "p", "disable"},  // the last wins
  };
  for (const auto& c : cases) {
    DatabaseURL url = parse_ok(c.url);
    EXPECT_EQ(url.host, c.host) << c.url;
    EXPECT_EQ(url.port, c.port) << c.url;
    EXPECT_EQ(url.dbname, c.dbname) << c.url;
    EXPECT_EQ(url.user, c.user) << c.url;
    EXPECT_EQ(url.password, c.password) << c.url;
    EXPECT_EQ(url.sslmode, c.sslmode) << c.url;
  }
}

TEST(DatabaseURL, RefusesWhatElectricsOwnTestsRefuse) {
  struct Case {
    std::string url, expected_words;
  };
  const std::vector<Case> cases = {
      {"postgres://super_user@localhost:7801/postgres?sslmode=yesplease", "sslmode is not one Electric accepts"},
      {"postgrex://localhost", "the scheme is \"postgrex\""},
      {"postgresql://localhost", "names no user name"},
      {"postgresql://:@localhost", "names no user name"},
      {"postgresql://:password@localhost", "names no user name"},
      {"postgresql://user:password", "names no user name"},
      {"postgresql://user:password@", "names no host"},
      {"postgresql://electric@localhost/db?replication=database", "\"replication\" query parameter"},
      {"postgresql://electric@localhost/db?replication=off", "\"replication\" query parameter"},
      {"postgresql://electric@localhost/db?sslmode=verify-full", "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE"},
      {"postgresql://electric@localhost/db?sslmode=verify-ca", "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE"},
      {"postgresql://electric@localhost/db?sslmode=REQUIRE", "sslmode is not one"},
      {"postgresql://electric@localhost/db?replication", "\"replication\" query parameter"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_database_url(c.url);
    ASSERT_FALSE(parsed.ok()) << c.url;
    EXPECT_NE(parsed.error().find(c.expected_words), std::string::npos) << c.url << ": " << parsed.error();
  }
}

TEST(DatabaseURL, QueryParametersElectricIgnoresChangeNothing) {
  // Electric reads only sslmode and replication; libpq would connect to
  // db.internal:7000 as bob, Electric to h:5432 as u. The checks follow Electric.
  DatabaseURL url = parse_ok("postgresql://u:p@h/d?host=db.internal&port=7000&dbname=real&user=bob&password=" + kPassword);
  EXPECT_EQ(url.host, "h");
  EXPECT_EQ(url.port, 5432);
  EXPECT_EQ(url.dbname, "d");
  EXPECT_EQ(url.user, "u");
  EXPECT_EQ(url.password, "p");
  EXPECT_EQ(url.redacted.find(kPassword), std::string::npos);
}

TEST(DatabaseURL, StricterThanElectricWhereElectricWouldMisreadIt) {
  // Electric reads "h:abc" as port 5432 and "h1,h2" as one host name.
  for (const std::string url : {"postgres://u:" + kPassword + "@h:abc/d", "postgres://u:" + kPassword + "@h:99999/d",
                                "postgres://u:" + kPassword + "@h:0/d"}) {
    auto parsed = parse_database_url(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_NE(parsed.error().find("port"), std::string::npos) << parsed.error();
  }
  for (const std::string url : {"postgres://u@h1,h2/d", "postgres://u@h1:5432,h2:5433/d"}) {
    auto parsed = parse_database_url(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_NE(parsed.error().find("several hosts"), std::string::npos) << parsed.error();
  }
}

// Found by tests/fuzz/fuzz_database_url.cpp: "[[2]" was taken as the host
// "[2" (Electric's URI.parse trims the brackets and connects to "2"), a
// name no resolver knows and that could not be written back unchanged.
TEST(DatabaseURL, ABracketThatEnclosesNoIPv6AddressIsRefused) {
  for (const std::string url : {"postgresql://u:p@[[2]:/.?s", "postgres://u@h]/d", "postgres://u@h[1]/d",
                                "postgres://u@[[::1]]:5432/d"}) {
    auto parsed = parse_database_url(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_NE(parsed.error().find("IPv6"), std::string::npos) << parsed.error();
  }
  EXPECT_EQ(parse_ok("postgres://u@[::1]:5433/d").host, "::1");
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
  EXPECT_EQ(parse_ok("postgres://u@[2001:db8::1]:5433/d").redacted, "postgres://u@[2001:db8::1]:5433/d");
  EXPECT_EQ(redact_database_url("postgres://u:" + kPassword + "@h/d"), "postgres://u:***@h:5432/d");
  EXPECT_EQ(redact_database_url("mysql://u:" + kPassword + "@h/d"), "<invalid database URL>");
}

TEST(DatabaseURL, ErrorsNeverShowThePassword) {
  const std::vector<std::string> urls = {
      "mysql://u:" + kPassword + "@h/d",       "host=db user=u password=" + kPassword,
      "postgres://u:" + kPassword + "@/d",     "postgres://u:" + kPassword + "@h:99999/d",
      "postgres://u:" + kPassword + "@[::1/d", "postgres://u:pa/ss" + kPassword + "@h/d",
      "postgres://u:" + kPassword + ":x@h/d",  "postgres://u:" + kPassword + "@h/d?sslmode=" + kPassword,
      kPassword + "-like$scheme://h/d",
  };
  for (const auto& url : urls) {
    auto parsed = parse_database_url(url);
    ASSERT_FALSE(parsed.ok()) << url;
    EXPECT_EQ(parsed.error().find(kPassword), std::string::npos) << parsed.error();
    EXPECT_EQ(parsed.error().find("pa/ss"), std::string::npos) << parsed.error();
    // The reason only: the caller names the URL and says it is not valid.
    EXPECT_EQ(parsed.error().find("invalid"), std::string::npos) << parsed.error();
  }
}

}  // namespace
}  // namespace electric
