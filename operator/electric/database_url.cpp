#include "electric/database_url.h"

#include <cctype>
#include <optional>
#include <vector>

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

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
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

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct HostPort {
  std::string host;
  int port = kDefaultPostgresPort;
};

const char* kPortError = "the port is not a number between 1 and 65535";

// One entry of the host list: "host", "host:port", "[v6]" or "[v6]:port".
std::optional<std::string> parse_host_port(std::string_view spec, HostPort& out) {
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
  } else if (std::size_t colon = spec.rfind(':'); colon != std::string_view::npos) {
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
  }
  if (!percent_decode(host, out.host)) return "the host has a malformed %-escape";
  if (!port.empty() && !parse_port(port, out.port)) return std::string(kPortError);
  return std::nullopt;
}

}  // namespace

DatabaseLocation DatabaseURL::location() const { return {lower(host), port, dbname}; }

Parsed parse_database_url(std::string_view url) {
  std::size_t sep = url.find("://");
  if (sep == std::string_view::npos)
    return fail("it must start with postgres:// or postgresql://");
  std::string_view scheme = url.substr(0, sep);
  if (scheme != "postgres" && scheme != "postgresql") {
    bool plain = !scheme.empty() && scheme.size() <= 16;
    for (char c : scheme) plain = plain && std::isalnum(static_cast<unsigned char>(c));
    // A short alphanumeric scheme ("mysql") is safe to quote and helps.
    return fail(plain ? "the scheme is \"" + std::string(scheme) +
                            "\"; it must be postgres:// or postgresql://"
                      : "it must start with postgres:// or postgresql://");
  }
  DatabaseURL out;
  out.scheme = std::string(scheme);
  std::string_view rest = url.substr(sep + 3);

  std::string_view query;
  if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view authority = rest, path;
  if (std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  // An '@' after the first '/' means a password with an unescaped '/' (or
  // '@'): parsing on would show part of it as a host or database name.
  if (path.find('@') != std::string_view::npos || query.find('@') != std::string_view::npos)
    return fail(
        "it has an unescaped '@' after the host; percent-encode special characters in the "
        "user name and password (@ as %40, / as %2F, ? as %3F)");

  std::string_view hosts = authority;
  bool has_password = false;
  if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    hosts = authority.substr(at + 1);
    std::string_view user = userinfo;
    if (std::size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
      user = userinfo.substr(0, colon);
      has_password = true;
      std::string ignored;
      if (!percent_decode(userinfo.substr(colon + 1), ignored))
        return fail("the password has a malformed %-escape");
    }
    if (!percent_decode(user, out.user)) return fail("the user name has a malformed %-escape");
  }

  std::vector<HostPort> host_list;
  if (!hosts.empty()) {
    std::size_t start = 0;
    while (true) {
      std::size_t comma = hosts.find(',', start);
      std::string_view one = hosts.substr(start, comma == std::string_view::npos ? hosts.npos : comma - start);
      HostPort hp;
      if (auto why = parse_host_port(one, hp)) return fail(*why);
      host_list.push_back(hp);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
  }

  std::string dbname;
  bool has_dbname = false;
  if (!path.empty()) {
    if (!percent_decode(path, dbname)) return fail("the database name has a malformed %-escape");
    has_dbname = true;
  }

  // libpq lets query parameters name or override the parts.
  std::size_t start = 0;
  while (!query.empty() && start <= query.size()) {
    std::size_t amp = query.find('&', start);
    std::string_view param = query.substr(start, amp == std::string_view::npos ? query.npos : amp - start);
    start = amp == std::string_view::npos ? query.size() + 1 : amp + 1;
    if (param.empty()) continue;
    std::size_t eq = param.find('=');
    if (eq == std::string_view::npos) return fail("a query parameter has no '='");
    std::string key, value;
    if (!percent_decode(param.substr(0, eq), key) || !percent_decode(param.substr(eq + 1), value))
      return fail("a query parameter has a malformed %-escape");
    if (key == "host") {
      host_list.clear();
      HostPort hp;
      hp.host = value;
      host_list.push_back(hp);
    } else if (key == "port") {
      int port = 0;
      if (!parse_port(value, port)) return fail(kPortError);
      for (auto& hp : host_list) hp.port = port;
      out.port = port;
    } else if (key == "dbname") {
      dbname = value;
      has_dbname = true;
    } else if (key == "user") {
      out.user = value;
    } else if (key == "password") {
      has_password = true;
    }
  }

  if (host_list.empty() || host_list[0].host.empty())
    return fail("it names no host (postgresql://user:password@host:5432/dbname)");
  for (const auto& hp : host_list)
    if (hp.host.empty()) return fail("one of its hosts is empty");

  std::string host_and_ports;
  for (std::size_t i = 0; i < host_list.size(); ++i) {
    const auto& hp = host_list[i];
    if (i > 0) {
      out.host += ",";
      host_and_ports += ",";
    }
    out.host += hp.host;
    bool v6 = hp.host.find(':') != std::string::npos;
    host_and_ports += (v6 ? "[" + hp.host + "]" : hp.host) + ":" + std::to_string(hp.port);
  }
  out.port = host_list[0].port;
  out.dbname = has_dbname && !dbname.empty() ? dbname : out.user;

  out.redacted = out.scheme + "://";
  if (!out.user.empty() || has_password) {
    out.redacted += out.user;
    if (has_password) out.redacted += ":***";
    out.redacted += "@";
  }
  out.redacted += host_and_ports;
  if (!out.dbname.empty()) out.redacted += "/" + out.dbname;
  return out;
}

std::string redact_database_url(std::string_view url) {
  auto parsed = parse_database_url(url);
  return parsed ? parsed->redacted : "<invalid database URL>";
}

}  // namespace electric
