#include "electric/database_url.h"

#include <array>
#include <cctype>
#include <map>
#include <optional>

namespace electric {
namespace {

using Parsed = base::Expected<DatabaseURL, std::string>;

// The reason alone: the caller says which URL it was and that it is not
// valid, so the message does not say it twice.
Parsed fail(std::string why) { return Parsed::failure(std::move(why)); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Elixir's URI.decode: "%XX" becomes its byte; a malformed escape stays as
// written. `plus_is_space` for the query (URI.decode_query, www-form).
std::string percent_decode(std::string_view in, bool plus_is_space = false) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
      i += 2;
    } else {
      out.push_back(plus_is_space && in[i] == '+' ? ' ' : in[i]);
    }
  }
  return out;
}

bool blank(std::string_view s) {
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool parse_port(std::string_view text, int& port) {
  if (text.empty() || text.size() > 5) return false;
  int value = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 65535) return false;
  port = value;
  return true;
}

// "host", "host:port", "[v6]" or "[v6]:port" into out.host and out.port.
std::optional<std::string> parse_host_port(std::string_view spec, DatabaseURL& out) {
  if (spec.find(',') != std::string_view::npos)
    return "it names several hosts; Electric connects to one host: give one";
  std::string_view host = spec, port;
  if (!spec.empty() && spec[0] == '[') {
    std::size_t close = spec.find(']');
    if (close == std::string_view::npos) return "an IPv6 host has no closing ']'";
    host = spec.substr(1, close - 1);
    std::string_view rest = spec.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return "unexpected characters after an IPv6 host";
      port = rest.substr(1);
    }
  } else if (std::size_t colon = spec.find(':'); colon != std::string_view::npos) {
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
  }
  if (blank(host)) return "it names no host (postgresql://user:password@host:5432/dbname)";
  // A bracket only encloses an IPv6 address: "[[2]" or "h]" names no host
  // Postgres could resolve, and could not be written back unchanged.
  if (host.find_first_of("[]") != std::string_view::npos)
    return "its host has a '[' or ']' that does not enclose an IPv6 address";
  out.host = std::string(host);  // Electric does not decode the host
  if (!port.empty() && !parse_port(port, out.port)) return "the port is not a number between 1 and 65535";
  return std::nullopt;
}

// The query as Electric reads it: the last value of each key, www-form decoded.
std::map<std::string, std::string> query_parameters(std::string_view query) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t amp = query.find('&', start);
    std::string_view param = query.substr(start, amp == std::string_view::npos ? query.npos : amp - start);
    start = amp == std::string_view::npos ? query.size() : amp + 1;
    if (param.empty()) continue;
    std::size_t eq = param.find('=');
    std::string key = percent_decode(param.substr(0, eq), true);
    out[key] = eq == std::string_view::npos ? "" : percent_decode(param.substr(eq + 1), true);
  }
  return out;
}

std::optional<std::string> apply_query(std::string_view query, DatabaseURL& out) {
  const auto params = query_parameters(query);
  if (params.count("replication"))
    return "it has a \"replication\" query parameter; Electric opens its replication and query connections "
           "itself: remove it";
  auto sslmode = params.find("sslmode");
  if (sslmode == params.end()) return std::nullopt;
  static const std::array<const char*, 4> accepted = {"disable", "allow", "prefer", "require"};
  for (const char* mode : accepted) {
    if (sslmode->second == mode) {
      out.sslmode = mode;
      return std::nullopt;
    }
  }
  if (sslmode->second == "verify-ca" || sslmode->second == "verify-full")
    return "Electric does not accept sslmode=" + sslmode->second +
           "; use sslmode=require and set ELECTRIC_DATABASE_CA_CERTIFICATE_FILE so Electric verifies the server";
  return std::string("its sslmode is not one Electric accepts (disable, allow, prefer, require)");
}

}  // namespace

DatabaseLocation DatabaseURL::location() const { return {lower(host), port, dbname}; }

Parsed parse_database_url(std::string_view url) {
  std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) return fail("it must start with postgres:// or postgresql://");
  std::string scheme = lower(std::string(url.substr(0, sep)));
  if (scheme != "postgres" && scheme != "postgresql") {
    bool plain = !scheme.empty() && scheme.size() <= 16;
    for (char c : scheme) plain = plain && std::isalnum(static_cast<unsigned char>(c));
    // A short alphanumeric scheme ("mysql") is safe to quote and helps.
    return fail(plain ? "the scheme is \"" + std::string(url.substr(0, sep)) + "\"; it must be postgres:// or postgresql://"
                      : "it must start with postgres:// or postgresql://");
  }
  DatabaseURL out;
  out.scheme = scheme;
  std::string_view rest = url.substr(sep + 3);
  // RFC 3986, as URI.parse splits: authority up to the first '/', '?' or
  // '#', the path up to '?' or '#', the query up to '#'; the fragment is dropped.
  rest = rest.substr(0, rest.find('#'));
  std::string_view query;
  if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);

  std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos) {
    // Without userinfo Electric says "invalid or missing username"; an '@'
    // further on is what a password with an unescaped '/' or '?' looks like.
    if (path.find('@') != std::string_view::npos || query.find('@') != std::string_view::npos)
      return fail(
          "it has an unescaped '@' after the host; percent-encode special characters in the "
          "user name and password (@ as %40, / as %2F, ? as %3F, : as %3A)");
    return fail("it names no user name (postgresql://user:password@host:5432/dbname)");
  }
  if (auto why = parse_host_port(authority.substr(at + 1), out)) return fail(*why);

  std::string_view userinfo = authority.substr(0, at);
  std::size_t colon = userinfo.find(':');
  std::string_view user = userinfo.substr(0, colon);
  if (colon != std::string_view::npos) {
    std::string_view password = userinfo.substr(colon + 1);
    if (password.find(':') != std::string_view::npos)
      return fail("its password has an unescaped ':'; percent-encode it as %3A");
    out.password = percent_decode(password);
  }
  if (blank(user)) return fail("it names no user name (postgresql://user:password@host:5432/dbname)");
  out.user = percent_decode(user);
  out.dbname = path.empty() ? out.user : percent_decode(path);

  if (auto why = apply_query(query, out)) return fail(*why);

  const bool v6 = out.host.find(':') != std::string::npos;
  out.redacted = out.scheme + "://" + out.user + (colon != std::string_view::npos ? ":***" : "") + "@" +
                 (v6 ? "[" + out.host + "]" : out.host) + ":" + std::to_string(out.port) + "/" + out.dbname;
  return out;
}

std::string DatabaseURL::server() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string redact_database_url(std::string_view url) {
  auto parsed = parse_database_url(url);
  return parsed ? parsed->redacted : "<invalid database URL>";
}

}  // namespace electric
