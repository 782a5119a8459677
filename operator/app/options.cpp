#include "app/options.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>

namespace app {

namespace {

// Each command's synopsis, summary and flags are written once, here: its own
// --help prints them, and the overview is built from the same pieces, so the
// two never drift apart.
struct CommandHelp {
  const char* synopsis;  // after "electric-operator "
  const char* summary;   // one line, for the overview
  const char* details;   // a paragraph, for the command's own --help
  std::string flags;     // one flag a line, indented two spaces
};

const CommandHelp& run_help() {
  static const CommandHelp help{
      "run [flags]", "reconcile ElectricShardSets",
      "Watches ElectricShardSets and their children and applies what differs,\n"
      "until SIGTERM or SIGINT.\n",
      R"(  --kubeconfig PATH                  kubeconfig to use (default: $KUBECONFIG,
                                     in-cluster service account, ~/.kube/config)
  --namespace NS                     watch only NS; repeatable (default: all)
  --concurrency N                    reconciles in parallel, and applies of
                                     one kind within a reconcile (default 4)
  --cluster-domain DOMAIN            for shard URLs (default cluster.local)
  --max-pod-security-level LEVEL     privileged|baseline|restricted: the Pod
                                     Security profile every Electric pod must
                                     meet; a set asking for more is refused
                                     (default baseline)
  --log-level debug|info|warn|error  (default info)
  --log-format json|text             (default json)
  --leader-elect[=true|false]        elect a leader on a Lease (default false)
  --leader-election-namespace NS     the Lease's namespace (default: own namespace)
  --leader-election-id NAME          the Lease's name (default electric-operator-leader)
  --metrics-bind-address ADDR        /metrics (default :8080, 0 disables)
  --health-probe-bind-address ADDR   /healthz and /readyz (default :8081, 0 disables)
  --shutdown-grace-period DURATION   time for in-flight reconciles (default 30s)
  --watch-idle-timeout DURATION      a watch silent this long (no event, no
                                     bookmark) is dropped and resumed, so a
                                     half-open connection is noticed (default 90s)
  --database-check-interval DURATION how often each shard's database is checked
                                     (default 60s; new shards and edited URLs at
                                     once); 0 turns the checks off for every set,
                                     and with them replication slot drops
)"};
  return help;
}

const CommandHelp& render_help() {
  static const CommandHelp help{
      "render -f FILE [flags]", "print the children of a set as YAML",
      "Prints every object the operator would create for each ElectricShardSet in\n"
      "FILE, without a cluster: Secret values appear as their sources. An invalid\n"
      "set or a field the schema does not define prints nothing and exits 1; an\n"
      "unreadable FILE or bad YAML exits 2.\n",
      std::string(R"(  -f, --filename FILE                the ElectricShardSet YAML (- for stdin)
  --namespace NS                     namespace when the file names none (default ")") +
          kDefaultRenderNamespace + R"(")
  --cluster-domain DOMAIN            for shard URLs (default cluster.local)
  --max-pod-security-level LEVEL     as for run (default baseline)
)"};
  return help;
}

std::string command_usage(const CommandHelp& help) {
  return std::string("Usage:\n  electric-operator ") + help.synopsis + "\n\n" + help.details +
         "\nFlags:\n" + help.flags;
}

}  // namespace

std::string usage() {
  std::string out = "electric-operator runs ElectricSQL on sharded PostgreSQL.\n\nUsage:\n";
  for (const CommandHelp* help : {&run_help(), &render_help()}) {
    std::string line = std::string("  electric-operator ") + help->synopsis;
    // Summaries start in one column, one space past the longest synopsis.
    constexpr std::size_t kSummaryColumn = 43;
    line.resize(std::max(line.size() + 1, kSummaryColumn), ' ');
    out += line + help->summary + "\n";
  }
  out += "  electric-operator --version\n"
         "  electric-operator --help | COMMAND --help\n"
         "\nFlags of run:\n" + run_help().flags +
         "\nFlags of render:\n" + render_help().flags;
  return out;
}

std::string run_usage() { return command_usage(run_help()); }
std::string render_usage() { return command_usage(render_help()); }

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  bool all_digits = true;
  for (char c : text) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
  if (all_digits) {
    if (text.size() > 9) return std::nullopt;
    return std::chrono::seconds(std::stoll(text));
  }
  std::chrono::milliseconds total{0};
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i - start > 9) return std::nullopt;
    long long n = std::stoll(text.substr(start, i - start));
    if (text.compare(i, 2, "ms") == 0) { total += std::chrono::milliseconds(n); i += 2; }
    else if (text.compare(i, 1, "s") == 0) { total += std::chrono::seconds(n); i += 1; }
    else if (text.compare(i, 1, "m") == 0) { total += std::chrono::minutes(n); i += 1; }
    else if (text.compare(i, 1, "h") == 0) { total += std::chrono::hours(n); i += 1; }
    else return std::nullopt;
  }
  return total;
}

namespace {

// Splits "--flag=value" and "--flag value"; `next` consumes the following arg.
struct FlagReader {
  FlagReader(const std::vector<std::string>& all, size_t first) : args(all), i(first) {}
  const std::vector<std::string>& args;
  size_t i;  // the argument being read
  std::string name, inline_value;
  bool has_inline = false;

  bool done() const { return i >= args.size(); }
  const std::string& current() const { return args[i]; }
  void split() {
    const std::string& a = args[i];
    auto eq = a.find('=');
    has_inline = eq != std::string::npos;
    name = has_inline ? a.substr(0, eq) : a;
    inline_value = has_inline ? a.substr(eq + 1) : "";
  }
  std::optional<std::string> value() {
    if (has_inline) return inline_value;
    if (i + 1 >= args.size()) return std::nullopt;
    return args[++i];
  }
};

std::optional<int> parse_positive_int(const std::string& s) {
  if (s.empty() || s.size() > 6) return std::nullopt;
  for (char c : s) if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  int n = std::stoi(s);
  return n > 0 ? std::optional<int>(n) : std::nullopt;
}

// Sets `level` from a --max-pod-security-level value; the usage error when
// the value names no level. Shared by run and render.
std::optional<std::string> read_pod_security_level(const std::string& v, electric::PodSecurityLevel& level) {
  auto parsed = electric::parse_pod_security_level(v);
  if (!parsed) return "--max-pod-security-level must be privileged, baseline or restricted, got \"" + v + "\"";
  level = *parsed;
  return std::nullopt;
}

std::optional<bool> parse_bool(const std::string& s) {
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  return std::nullopt;
}

Command parse_run(FlagReader& r) {
  RunOptions o;
  using Setter = std::function<std::optional<std::string>(const std::string&)>;
  auto need = [](bool ok, const std::string& msg) -> std::optional<std::string> {
    return ok ? std::nullopt : std::optional<std::string>(msg);
  };
  const std::map<std::string, Setter> setters = {
      {"--kubeconfig", [&](const std::string& v) { o.kubeconfig = v; return need(!v.empty(), "--kubeconfig needs a path"); }},
      {"--namespace", [&](const std::string& v) { o.namespaces.push_back(v); return need(!v.empty(), "--namespace needs a name"); }},
      {"--concurrency", [&](const std::string& v) {
         auto n = parse_positive_int(v);
         if (n) o.concurrency = *n;
         return need(n.has_value(), "--concurrency must be a positive integer, got \"" + v + "\"");
       }},
      {"--cluster-domain", [&](const std::string& v) { o.cluster_domain = v; return need(!v.empty(), "--cluster-domain needs a domain"); }},
      {"--max-pod-security-level",
       [&](const std::string& v) { return read_pod_security_level(v, o.max_pod_security_level); }},
      {"--log-level", [&](const std::string& v) {
         auto l = parse_log_level(v);
         if (l) o.log_level = *l;
         return need(l.has_value(), "--log-level must be debug, info, warn or error, got \"" + v + "\"");
       }},
      {"--log-format", [&](const std::string& v) {
         auto f = parse_log_format(v);
         if (f) o.log_format = *f;
         return need(f.has_value(), "--log-format must be json or text, got \"" + v + "\"");
       }},
      {"--leader-election-namespace", [&](const std::string& v) { o.leader_election_namespace = v; return need(!v.empty(), "--leader-election-namespace needs a name"); }},
      {"--leader-election-id", [&](const std::string& v) { o.leader_election_id = v; return need(!v.empty(), "--leader-election-id needs a name"); }},
      {"--metrics-bind-address", [&](const std::string& v) { o.metrics_bind_address = v; return need(!v.empty(), "--metrics-bind-address needs an address"); }},
      {"--health-probe-bind-address", [&](const std::string& v) { o.health_probe_bind_address = v; return need(!v.empty(), "--health-probe-bind-address needs an address"); }},
      {"--shutdown-grace-period", [&](const std::string& v) {
         auto d = parse_duration(v);
         if (d) o.shutdown_grace_period = std::chrono::duration_cast<std::chrono::seconds>(*d);
         return need(d.has_value(), "--shutdown-grace-period must be a duration such as 30s, got \"" + v + "\"");
       }},
      {"--watch-idle-timeout", [&](const std::string& v) {
         auto d = parse_duration(v);
         if (d) o.watch_idle_timeout = std::chrono::duration_cast<std::chrono::seconds>(*d);
         return need(d && o.watch_idle_timeout.count() >= 1,
                     "--watch-idle-timeout must be a duration of at least 1s such as 90s, got \"" + v + "\"");
       }},
      {"--database-check-interval", [&](const std::string& v) {
         auto d = v == "0" ? std::optional<std::chrono::milliseconds>(0) : parse_duration(v);
         if (d) o.database_check_interval = *d;
         return need(d.has_value(), "--database-check-interval must be a duration such as 60s (0: no checks), got \"" + v + "\"");
       }},
  };
  for (; !r.done(); ++r.i) {
    r.split();
    if (r.name == "--help" || r.name == "-h") return ShowHelp{run_usage()};
    if (r.name == "--leader-elect") {
      if (!r.has_inline) { o.leader_elect = true; continue; }
      auto b = parse_bool(r.inline_value);
      if (!b) return UsageError{"--leader-elect must be true or false, got \"" + r.inline_value + "\""};
      o.leader_elect = *b;
      continue;
    }
    auto it = setters.find(r.name);
    if (it == setters.end()) return UsageError{"unknown flag for run: " + r.name};
    auto v = r.value();
    if (!v) return UsageError{r.name + " needs a value"};
    if (auto err = it->second(*v)) return UsageError{*err};
  }
  return o;
}

Command parse_render(FlagReader& r) {
  RenderOptions o;
  for (; !r.done(); ++r.i) {
    r.split();
    if (r.name == "--help" || r.name == "-h") return ShowHelp{render_usage()};
    if (r.name != "-f" && r.name != "--filename" && r.name != "--namespace" &&
        r.name != "--cluster-domain" && r.name != "--max-pod-security-level") {
      return UsageError{"unknown flag for render: " + r.name};
    }
    auto v = r.value();
    if (!v || v->empty()) return UsageError{r.name + " needs a value"};
    if (r.name == "--namespace") o.ns = *v;
    else if (r.name == "--cluster-domain") o.cluster_domain = *v;
    else if (r.name == "--max-pod-security-level") {
      if (auto err = read_pod_security_level(*v, o.max_pod_security_level)) return UsageError{*err};
    }
    else o.file = *v;
  }
  if (o.file.empty()) return UsageError{"render needs -f FILE (the ElectricShardSet YAML, - for stdin)"};
  return o;
}

}  // namespace

Command parse_command_line(const std::vector<std::string>& args) {
  if (args.size() < 2) return UsageError{"missing command: run or render (see --help)"};
  const std::string& cmd = args[1];
  if (cmd == "help" && args.size() > 2) {
    if (args[2] == "run") return ShowHelp{run_usage()};
    if (args[2] == "render") return ShowHelp{render_usage()};
  }
  if (cmd == "--help" || cmd == "-h" || cmd == "help") return ShowHelp{usage()};
  if (cmd == "--version" || cmd == "version") return ShowVersion{};
  FlagReader reader(args, 2);
  if (cmd == "run") return parse_run(reader);
  if (cmd == "render") return parse_render(reader);
  return UsageError{"unknown command \"" + cmd + "\": use run or render (see --help)"};
}

}  // namespace app
