#include "runtime/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace runtime {
namespace {

TEST(MetricsFormat, ValuesPrintLikeGoShortestG) {
  EXPECT_EQ(format_metric_value(0), "0");
  EXPECT_EQ(format_metric_value(1), "1");
  EXPECT_EQ(format_metric_value(42), "42");
  EXPECT_EQ(format_metric_value(-1.5), "-1.5");
  EXPECT_EQ(format_metric_value(0.005), "0.005");
  EXPECT_EQ(format_metric_value(0.0001), "0.0001");
  EXPECT_EQ(format_metric_value(0.00001), "1e-05");
  EXPECT_EQ(format_metric_value(1e-8), "1e-08");
  EXPECT_EQ(format_metric_value(123456), "123456");
  EXPECT_EQ(format_metric_value(1234567), "1.234567e+06");
  EXPECT_EQ(format_metric_value(1e21), "1e+21");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_metric_value(std::nan("")), "NaN");
}

TEST(MetricsFormat, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  // HELP keeps quotes as they are.
  EXPECT_EQ(escape_help("a\\b\"c\nd"), "a\\\\b\"c\\nd");
}

TEST(MetricsFormat, BucketHelpersMatchControllerRuntime) {
  std::vector<double> reconcile = reconcile_time_buckets();
  ASSERT_EQ(reconcile.size(), 40u);
  EXPECT_EQ(reconcile.front(), 0.005);
  EXPECT_EQ(reconcile.back(), 60);

  // ExponentialBuckets(10e-9, 10, 12) by repeated multiplication, printed as
  // a Go operator prints them (two bounds carry the float rounding).
  std::vector<std::string> printed;
  for (double b : workqueue_duration_buckets()) printed.push_back(format_metric_value(b));
  EXPECT_EQ(printed, (std::vector<std::string>{"1e-08", "1e-07", "1e-06", "9.999999999999999e-06",
                                               "9.999999999999999e-05", "0.001", "0.01", "0.1",
                                               "1", "10", "100", "1000"}));
}

TEST(Registry, RendersExactTextFormat) {
  Registry registry;
  auto& requests =
      registry.counter("test_requests_total", "Requests.\nSecond \\ line", {"code", "path"});
  requests.with({"500", "say \"hi\"\n\\"}).inc(2.5);
  requests.with({"200", "/a"}).inc();
  registry.gauge("test_temperature", "A gauge").with({}).set(-1.5);
  auto& latency = registry.histogram("test_latency_seconds", "Latency", {"op"}, {0.25, 1, 10});
  for (double v : {0.125, 0.25, 5.0, 100.0}) latency.with({"get"}).observe(v);
  registry.gauge("test_unused", "No series, so not shown", {"x"});

  EXPECT_EQ(registry.render(),
            "# HELP test_latency_seconds Latency\n"
            "# TYPE test_latency_seconds histogram\n"
            "test_latency_seconds_bucket{op=\"get\",le=\"0.25\"} 2\n"
            "test_latency_seconds_bucket{op=\"get\",le=\"1\"} 2\n"
            "test_latency_seconds_bucket{op=\"get\",le=\"10\"} 3\n"
            "test_latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
            "test_latency_seconds_sum{op=\"get\"} 105.375\n"
            "test_latency_seconds_count{op=\"get\"} 4\n"
            "# HELP test_requests_total Requests.\\nSecond \\\\ line\n"
            "# TYPE test_requests_total counter\n"
            "test_requests_total{code=\"200\",path=\"/a\"} 1\n"
            "test_requests_total{code=\"500\",path=\"say \\\"hi\\\"\\n\\\\\"} 2.5\n"
            "# HELP test_temperature A gauge\n"
            "# TYPE test_temperature gauge\n"
            "test_temperature -1.5\n");
}

TEST(Registry, HistogramBucketsAreCumulativeAndInclusive) {
  Registry registry;
  auto& h = registry.histogram("h", "h", {}, {1, 2, 3});
  for (double v : {0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 1e9}) h.with({}).observe(v);
  Histogram::Snapshot s = h.with({}).snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 4, 6, 8}));
  EXPECT_EQ(s.count, 8u);
  EXPECT_DOUBLE_EQ(s.sum, 0.5 + 1 + 1.5 + 2 + 2.5 + 3 + 3.5 + 1e9);
}

TEST(Registry, ExplicitInfBoundIsNotDoubled) {
  Registry registry;
  auto& h = registry.histogram("h", "h", {}, {1, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(h.upper_bounds(), std::vector<double>{1});
}

TEST(Registry, GaugeOperationsAndFunctions) {
  Registry registry;
  auto& family = registry.gauge("g", "g", {"k"});
  Gauge& g = family.with({"a"});
  g.set(3);
  g.inc();
  g.dec(0.5);
  EXPECT_EQ(g.value(), 3.5);
  int depth = 7;
  family.with({"b"}).set_function([&] { return static_cast<double>(depth); });
  depth = 9;
  EXPECT_EQ(registry.render(),
            "# HELP g g\n# TYPE g gauge\ng{k=\"a\"} 3.5\ng{k=\"b\"} 9\n");
}

TEST(Registry, RemoveAndResetDropSeries) {
  Registry registry;
  auto& shards = registry.gauge("shards", "s", {"namespace", "shard_set", "phase"});
  shards.with({"prod", "a", "Ready"}).set(2);
  shards.with({"prod", "b", "Ready"}).set(1);
  shards.remove({"prod", "a", "Ready"});
  shards.remove({"prod", "nope", "Ready"});  // unknown: ignored
  EXPECT_EQ(registry.render(),
            "# HELP shards s\n# TYPE shards gauge\n"
            "shards{namespace=\"prod\",shard_set=\"b\",phase=\"Ready\"} 1\n");
  shards.reset();
  EXPECT_EQ(registry.render(), "");
}

TEST(Registry, GaugeCollectorSeriesComputedAtScrape) {
  Registry registry;
  auto& shards = registry.gauge("shards", "s", {"phase"});
  shards.with({"Ready"}).set(1);
  std::vector<GaugeSample> live = {{{"Ready"}, 5}, {{"Failed"}, 1}};
  shards.set_collector([&] { return live; });
  EXPECT_EQ(registry.render(),
            "# HELP shards s\n# TYPE shards gauge\n"
            "shards{phase=\"Failed\"} 1\nshards{phase=\"Ready\"} 5\n");
  live.clear();
  shards.reset();
  EXPECT_EQ(registry.render(), "");
}

TEST(Registry, FamiliesWithoutLabelsShowZeroAtOnce) {
  Registry registry;
  registry.gauge("sets", "s");
  registry.counter("c_total", "c");
  EXPECT_EQ(registry.render(),
            "# HELP c_total c\n# TYPE c_total counter\nc_total 0\n"
            "# HELP sets s\n# TYPE sets gauge\nsets 0\n");
}

TEST(Registry, SameShapeReturnsTheSameFamilyOtherShapeThrows) {
  Registry registry;
  auto& a = registry.counter("x_total", "x", {"a"});
  EXPECT_EQ(&registry.counter("x_total", "x", {"a"}), &a);
  EXPECT_THROW(registry.counter("x_total", "x", {"b"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("x_total", "x", {"a"}), std::invalid_argument);
  registry.histogram("h", "h", {}, {1, 2});
  EXPECT_THROW(registry.histogram("h", "h", {}, {1, 3}), std::invalid_argument);
}

TEST(Registry, RejectsMisuse) {
  Registry registry;
  EXPECT_THROW(registry.counter("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("9lives", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok2", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h", "h", {"le"}, {1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h2", "h", {}, {2, 1}), std::invalid_argument);
  auto& c = registry.counter("c_total", "c", {"a", "b"});
  EXPECT_THROW(c.with({"only-one"}), std::invalid_argument);
  EXPECT_THROW(c.with({"x", "y"}).inc(-1), std::invalid_argument);
}

TEST(Registry, ConcurrentUpdatesAreNotLost) {
  Registry registry;
  auto& c = registry.counter("c_total", "c", {"worker"});
  auto& h = registry.histogram("h", "h", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.with({"w"}).inc();
        h.with({}).observe(0.5);
        if (i % 1000 == 0) registry.render();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.with({"w"}).value(), 40000);
  EXPECT_EQ(h.with({}).snapshot().count, 40000u);
}

TEST(OperatorMetrics, InitControllerCreatesControllerRuntimeSeries) {
  Registry registry;
  OperatorMetrics metrics(registry);
  metrics.init_controller("electricshardset", 4);
  std::string text = registry.render();
  for (const char* line : {
           "controller_runtime_reconcile_total{controller=\"electricshardset\",result=\"error\"} 0\n",
           "controller_runtime_reconcile_total{controller=\"electricshardset\",result=\"requeue\"} 0\n",
           "controller_runtime_reconcile_total{controller=\"electricshardset\",result=\"requeue_after\"} 0\n",
           "controller_runtime_reconcile_total{controller=\"electricshardset\",result=\"success\"} 0\n",
           "controller_runtime_reconcile_errors_total{controller=\"electricshardset\"} 0\n",
           "controller_runtime_max_concurrent_reconciles{controller=\"electricshardset\"} 4\n",
           "controller_runtime_active_workers{controller=\"electricshardset\"} 0\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
}

TEST(OperatorMetrics, WorkqueueSeriesCarryNameAndController) {
  Registry registry;
  OperatorMetrics metrics(registry);
  WorkQueueMetrics q = metrics.workqueue("electricshardset");
  q.adds.inc();
  q.depth.set(3);
  q.queue_duration.observe(0.002);
  std::string text = registry.render();
  EXPECT_NE(text.find("workqueue_adds_total{name=\"electricshardset\",controller=\"electricshardset\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("workqueue_depth{name=\"electricshardset\",controller=\"electricshardset\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("workqueue_queue_duration_seconds_bucket{name=\"electricshardset\","
                      "controller=\"electricshardset\",le=\"0.01\"} 1\n"),
            std::string::npos);
}

// Fills every family the operator exposes with at least one series.
std::string render_full_operator_set() {
  Registry registry;
  OperatorMetrics m(registry);
  m.init_controller("electricshardset", 2);
  m.reconcile_total.with({"electricshardset", kReconcileSuccess}).inc(3);
  m.reconcile_errors_total.with({"electricshardset"}).inc();
  m.reconcile_time_seconds.with({"electricshardset"}).observe(0.2);
  m.reconcile_time_seconds.with({"electricshardset"}).observe(75);
  WorkQueueMetrics q = m.workqueue("electricshardset");
  q.depth.set(1);
  q.adds.inc(4);
  q.retries.inc();
  q.queue_duration.observe(1e-6);
  q.work_duration.observe(0.3);
  q.unfinished_work_seconds.set(0.5);
  q.longest_running_processor_seconds.set(0.5);
  m.rest_client_requests_total.with({"200", "GET", "10.0.0.1:6443"}).inc(17);
  m.rest_client_requests_total.with({"<error>", "PATCH", "10.0.0.1:6443"}).inc();
  m.leader_election_master_status.with({"electric-operator-leader"}).set(1);
  // A family of the application's own, with label values that need escaping.
  GaugeFamily& objects = registry.gauge("example_objects", "Objects by phase", {"namespace", "name", "phase"});
  objects.with({"prod", "my\"app\\", "Ready"}).set(2);
  objects.with({"prod", "line\nbreak", "Failed"}).set(1);
  return registry.render();
}

bool python_parser_available(std::string* why) {
  if (std::system("python3 -c 'import prometheus_client' >/dev/null 2>&1") != 0) {
    *why = "python3 with prometheus_client is not installed (pip install prometheus_client)";
    return false;
  }
  return true;
}

std::string script_path() {
  return std::string(EO_SOURCE_DIR) + "/tests/unit/runtime/check_metrics.py";
}

// Runs check_metrics.py on `text`; returns its exit status.
int run_checker(const std::string& text, const std::string& args) {
  char path[] = "/tmp/eo_metrics_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  ::close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  std::string cmd = "python3 '" + script_path() + "' " + args + " < '" + path + "'";
  int status = std::system(cmd.c_str());
  std::remove(path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(OperatorMetrics, FullSetParsesWithPrometheusClient) {
  std::string why;
  if (!python_parser_available(&why)) GTEST_SKIP() << why;
  std::string text = render_full_operator_set();
  std::string expected =
      "controller_runtime_reconcile_total controller_runtime_reconcile_errors_total "
      "controller_runtime_reconcile_time_seconds controller_runtime_max_concurrent_reconciles "
      "controller_runtime_active_workers workqueue_depth workqueue_adds_total "
      "workqueue_retries_total workqueue_queue_duration_seconds workqueue_work_duration_seconds "
      "rest_client_requests_total leader_election_master_status example_objects";
  EXPECT_EQ(run_checker(text, expected), 0) << text;
}

TEST(OperatorMetrics, CheckerRejectsBrokenText) {
  std::string why;
  if (!python_parser_available(&why)) GTEST_SKIP() << why;
  // Guards against a checker that accepts anything.
  EXPECT_NE(run_checker("# TYPE x counter\nx{a=\"unterminated} 1\n", ""), 0);
  EXPECT_NE(run_checker("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                        "h_sum 1\nh_count 1\n",
                        ""),
            0);
}

}  // namespace
}  // namespace runtime
