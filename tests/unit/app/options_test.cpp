#include "app/options.h"

#include <regex>
#include <sstream>

#include <gtest/gtest.h>

namespace app {
namespace {

Command parse(std::vector<std::string> args) {
  args.insert(args.begin(), "electric-operator");
  return parse_command_line(args);
}

TEST(Options, RunDefaultsFollowControllerRuntime) {
  auto cmd = parse({"run"});
  ASSERT_TRUE(std::holds_alternative<RunOptions>(cmd));
  const auto& o = std::get<RunOptions>(cmd);
  EXPECT_TRUE(o.namespaces.empty());
  EXPECT_EQ(o.concurrency, 4);
  EXPECT_EQ(o.cluster_domain, "cluster.local");
  EXPECT_EQ(o.log_format, LogFormat::Json);
  EXPECT_EQ(o.metrics_bind_address, ":8080");
  EXPECT_EQ(o.health_probe_bind_address, ":8081");
  EXPECT_EQ(o.shutdown_grace_period, std::chrono::seconds(30));
  EXPECT_EQ(o.watch_idle_timeout, std::chrono::seconds(90));
  EXPECT_FALSE(o.leader_elect);
  EXPECT_EQ(o.max_pod_security_level, electric::PodSecurityLevel::Baseline);
}

TEST(Options, MaxPodSecurityLevel) {
  EXPECT_EQ(std::get<RunOptions>(parse({"run", "--max-pod-security-level=restricted"})).max_pod_security_level,
            electric::PodSecurityLevel::Restricted);
  EXPECT_EQ(std::get<RunOptions>(parse({"run", "--max-pod-security-level", "privileged"})).max_pod_security_level,
            electric::PodSecurityLevel::Privileged);
  EXPECT_EQ(std::get<RenderOptions>(parse({"render", "-f", "s.yaml", "--max-pod-security-level=restricted"}))
                .max_pod_security_level,
            electric::PodSecurityLevel::Restricted);
  EXPECT_EQ(std::get<RenderOptions>(parse({"render", "-f", "s.yaml"})).max_pod_security_level,
            electric::PodSecurityLevel::Baseline);
}

TEST(Options, RunFlagsInBothSpellings) {
  auto cmd = parse({"run", "--namespace", "a", "--namespace=b", "--concurrency=8",
                    "--log-format", "text", "--log-level=debug", "--leader-elect",
                    "--leader-election-id=x", "--shutdown-grace-period=1m30s", "--watch-idle-timeout=2m",
                    "--kubeconfig", "/k", "--cluster-domain=example.org"});
  ASSERT_TRUE(std::holds_alternative<RunOptions>(cmd));
  const auto& o = std::get<RunOptions>(cmd);
  EXPECT_EQ(o.namespaces, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o.concurrency, 8);
  EXPECT_EQ(o.log_format, LogFormat::Text);
  EXPECT_EQ(o.log_level, spdlog::level::debug);
  EXPECT_TRUE(o.leader_elect);
  EXPECT_EQ(o.leader_election_id, "x");
  EXPECT_EQ(o.shutdown_grace_period, std::chrono::seconds(90));
  EXPECT_EQ(o.watch_idle_timeout, std::chrono::seconds(120));
  EXPECT_EQ(o.kubeconfig, "/k");
  EXPECT_EQ(o.cluster_domain, "example.org");
}

TEST(Options, DatabaseCheckIntervalDefaultsToAMinuteAndZeroTurnsThemOff) {
  EXPECT_EQ(std::get<RunOptions>(parse({"run"})).database_check_interval, std::chrono::seconds(60));
  EXPECT_EQ(std::get<RunOptions>(parse({"run", "--database-check-interval=5s"})).database_check_interval,
            std::chrono::seconds(5));
  EXPECT_EQ(std::get<RunOptions>(parse({"run", "--database-check-interval", "0"})).database_check_interval.count(), 0);
}

TEST(Options, LeaderElectAcceptsExplicitFalse) {
  auto o = std::get<RunOptions>(parse({"run", "--leader-elect=false"}));
  EXPECT_FALSE(o.leader_elect);
  EXPECT_TRUE(std::holds_alternative<UsageError>(parse({"run", "--leader-elect=maybe"})));
}

TEST(Options, BadInputIsAUsageErrorWithAClearMessage) {
  struct Case { std::vector<std::string> args; std::string needle; };
  for (const auto& c : std::vector<Case>{
           {{"run", "--concurrency=0"}, "--concurrency must be a positive integer"},
           {{"run", "--concurrency", "abc"}, "--concurrency must be a positive integer"},
           {{"run", "--log-format=xml"}, "--log-format must be json or text"},
           {{"run", "--log-level=loud"}, "--log-level must be"},
           {{"run", "--frobnicate"}, "unknown flag for run: --frobnicate"},
           {{"run", "--namespace"}, "--namespace needs a value"},
           {{"run", "--shutdown-grace-period=soon"}, "must be a duration"},
           {{"run", "--database-check-interval=often"}, "--database-check-interval must be a duration"},
           {{"run", "--watch-idle-timeout=0"}, "--watch-idle-timeout must be a duration of at least 1s"},
           {{"run", "--watch-idle-timeout=idle"}, "--watch-idle-timeout must be a duration"},
           {{"run", "--max-pod-security-level=none"}, "--max-pod-security-level must be privileged, baseline or restricted, got \"none\""},
           {{"render", "-f", "s.yaml", "--max-pod-security-level=Baseline"}, "--max-pod-security-level must be"},
           {{"render"}, "render needs -f FILE"},
           {{"render", "-f"}, "-f needs a value"},
           {{"render", "-x", "y"}, "unknown flag for render"},
           {{"explode"}, "unknown command \"explode\""},
           {{}, "missing command"},
       }) {
    auto cmd = parse(c.args);
    ASSERT_TRUE(std::holds_alternative<UsageError>(cmd)) << c.needle;
    EXPECT_NE(std::get<UsageError>(cmd).message.find(c.needle), std::string::npos)
        << std::get<UsageError>(cmd).message;
  }
}

TEST(Options, RenderHelpAndVersion) {
  auto r = std::get<RenderOptions>(parse({"render", "-f", "set.yaml", "--namespace=prod"}));
  EXPECT_EQ(r.file, "set.yaml");
  EXPECT_EQ(r.ns, "prod");
  EXPECT_TRUE(std::holds_alternative<ShowHelp>(parse({"--help"})));
  EXPECT_TRUE(std::holds_alternative<ShowHelp>(parse({"run", "--help"})));
  EXPECT_TRUE(std::holds_alternative<ShowVersion>(parse({"--version"})));
}

std::string help_of(std::vector<std::string> args) {
  Command cmd = parse(std::move(args));
  if (!std::holds_alternative<ShowHelp>(cmd)) {
    ADD_FAILURE() << "not help";
    return {};
  }
  return std::get<ShowHelp>(cmd).text;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The lines of `text` that describe a flag.
std::vector<std::string> flag_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("  -", 0) == 0) out.push_back(line);
  return out;
}

TEST(Options, EachCommandHasItsOwnHelp) {
  for (const char* flag : {"--help", "-h"}) {
    EXPECT_EQ(help_of({"run", flag}), run_usage());
    EXPECT_EQ(help_of({"render", flag}), render_usage());
  }
  EXPECT_EQ(help_of({"help", "run"}), run_usage());
  EXPECT_EQ(help_of({"help", "render"}), render_usage());
  EXPECT_EQ(help_of({"--help"}), usage());
  EXPECT_EQ(help_of({"help"}), usage());

  const std::string run = run_usage(), render = render_usage();
  EXPECT_EQ(run.rfind("Usage:\n  electric-operator run [flags]\n", 0), 0u) << run;
  EXPECT_TRUE(has(run, "--leader-elect"));
  EXPECT_FALSE(has(run, "--filename"));
  EXPECT_EQ(render.rfind("Usage:\n  electric-operator render -f FILE [flags]\n", 0), 0u) << render;
  EXPECT_TRUE(has(render, "--filename"));
  EXPECT_TRUE(has(render, "namespace when the file names none (default \"default\")"));
  EXPECT_FALSE(has(render, "--leader-elect"));
}

// The overview lists every command's flags, from the same text, so a flag
// added to one command's help shows in both.
TEST(Options, OverviewListsEveryCommandsFlagsVerbatim) {
  const std::string overview = usage();
  for (const std::string& help : {run_usage(), render_usage()}) {
    ASSERT_FALSE(flag_lines(help).empty());
    for (const std::string& line : flag_lines(help)) EXPECT_TRUE(has(overview, line + "\n")) << line;
  }
  EXPECT_EQ(flag_lines(overview).size(), flag_lines(run_usage()).size() + flag_lines(render_usage()).size());
}

// Every flag a help lists is one its parser knows.
TEST(Options, EveryListedFlagIsKnown) {
  const std::regex flag_re("--[a-z][a-z-]*");
  for (const char* command : {"run", "render"}) {
    const std::string help = command == std::string("run") ? run_usage() : render_usage();
    for (const std::string& line : flag_lines(help)) {
      for (std::sregex_iterator it(line.begin(), line.end(), flag_re), end; it != end; ++it) {
        Command cmd = parse({command, it->str() + "=x"});
        if (auto* e = std::get_if<UsageError>(&cmd)) {
          EXPECT_FALSE(has(e->message, "unknown flag")) << command << " " << it->str();
        }
      }
    }
  }
}

TEST(Options, Durations) {
  EXPECT_EQ(parse_duration("30s"), std::chrono::milliseconds(30000));
  EXPECT_EQ(parse_duration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(parse_duration("2m"), std::chrono::milliseconds(120000));
  EXPECT_EQ(parse_duration("1h"), std::chrono::milliseconds(3600000));
  EXPECT_EQ(parse_duration("45"), std::chrono::milliseconds(45000));
  EXPECT_FALSE(parse_duration("").has_value());
  EXPECT_FALSE(parse_duration("s").has_value());
  EXPECT_FALSE(parse_duration("10x").has_value());
  EXPECT_FALSE(parse_duration("99999999999s").has_value());
}

}  // namespace
}  // namespace app
