// electric::parse_database_url on any bytes (the value of a user's Secret).
//
// Invariants, beyond not crashing:
// - an accepted URL has a user, a host, a port in 1..65535, one of the four
//   sslmodes, and a redacted form that is its parts with "***" for the
//   password;
// - no error message holds the password: a mistyped URL may have it anywhere;
// - the URL rebuilt from the parts (percent-encoded) parses to the same parts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "electric/database_url.h"
#include "fuzz_check.h"

namespace {

std::string encode(const std::string& raw) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : raw) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto url = electric::parse_database_url(input);
  if (!url) {
    // The password is what sits between the first ':' after "://" and the
    // last '@'. A password with a byte no reason text has (non-ASCII, a
    // control byte, one of !$^*{}|<>`~) must not appear in the reason:
    // only a short alphanumeric scheme is ever quoted.
    const size_t sep = input.find("://");
    if (sep != std::string_view::npos) {
      const std::string after(input.substr(sep + 3));
      const size_t colon = after.find(':');
      const size_t at = after.rfind('@');
      if (colon != std::string::npos && at != std::string::npos && at >= colon + 7) {
        const std::string password = after.substr(colon + 1, at - colon - 1);
        bool distinctive = false;
        for (unsigned char c : password) {
          distinctive = distinctive || c >= 0x80 || c < 0x20 || std::string_view("!$^*{}|<>`~").find(static_cast<char>(c)) != std::string_view::npos;
        }
        if (distinctive) {
          FUZZ_CHECK(!contains(url.error(), password), "an error message quotes the password");
        }
      }
    }
    return 0;
  }
  FUZZ_CHECK(!url->user.empty(), "an accepted URL has no user");
  FUZZ_CHECK(!url->host.empty(), "an accepted URL has no host");
  FUZZ_CHECK(url->port >= 1 && url->port <= 65535, "an accepted URL's port is out of range");
  FUZZ_CHECK(url->scheme == "postgres" || url->scheme == "postgresql", "an unexpected scheme");
  FUZZ_CHECK(url->sslmode == "disable" || url->sslmode == "allow" || url->sslmode == "prefer" ||
                 url->sslmode == "require",
             "an sslmode Electric does not accept");
  FUZZ_CHECK(url->redacted.rfind(url->scheme + "://", 0) == 0, "the redacted form lost its scheme");
  // The redacted form is made of the parts but the password, which a
  // fixed "***" stands for (a substring test would also flag a password
  // that happens to equal, say, "@" + host).
  const bool v6_host = url->host.find(':') != std::string::npos;
  const std::string after_user = "@" + (v6_host ? "[" + url->host + "]" : url->host) + ":" +
                                 std::to_string(url->port) + "/" + url->dbname;
  FUZZ_CHECK(url->redacted == url->scheme + "://" + url->user + after_user ||
                 url->redacted == url->scheme + "://" + url->user + ":***" + after_user,
             "the redacted form is not the URL's parts without the password");
  if (!url->password.empty()) {
    FUZZ_CHECK(url->redacted == url->scheme + "://" + url->user + ":***" + after_user,
               "a password is not shown as ***");
  }
  FUZZ_CHECK(electric::redact_database_url(input) == url->redacted,
             "redact_database_url disagrees with the parse");

  const bool v6 = url->host.find(':') != std::string::npos;
  const std::string rebuilt = url->scheme + "://" + encode(url->user) +
                              (url->password.empty() ? "" : ":" + encode(url->password)) + "@" +
                              (v6 ? "[" + url->host + "]" : url->host) + ":" +
                              std::to_string(url->port) + "/" + encode(url->dbname) +
                              "?sslmode=" + url->sslmode;
  auto again = electric::parse_database_url(rebuilt);
  FUZZ_CHECK(again.ok(), "the URL rebuilt from an accepted URL's parts is refused");
  FUZZ_CHECK(again->user == url->user, "the rebuilt URL's user differs");
  FUZZ_CHECK(again->password == url->password, "the rebuilt URL's password differs");
  FUZZ_CHECK(again->host == url->host, "the rebuilt URL's host differs");
  FUZZ_CHECK(again->port == url->port, "the rebuilt URL's port differs");
  FUZZ_CHECK(again->dbname == url->dbname, "the rebuilt URL's database differs");
  FUZZ_CHECK(again->sslmode == url->sslmode, "the rebuilt URL's sslmode differs");
  FUZZ_CHECK(again->location() == url->location(), "the rebuilt URL's location differs");
  return 0;
}
