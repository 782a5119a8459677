// A small thread-safe Prometheus registry: counter, gauge and histogram
// families with labels, rendered in the text exposition format 0.0.4.
//
//   runtime::Registry registry;
//   runtime::OperatorMetrics metrics(registry);        // every family we expose
//   metrics.init_controller("electricshardset", 4);
//   metrics.reconcile_total.with({"electricshardset", runtime::kReconcileSuccess}).inc();
//   metrics.reconcile_time_seconds.with({"electricshardset"}).observe(0.042);
//   metrics.workqueue("electricshardset").depth.set_function([&] { return queue.size(); });
//   metrics.shards.remove({"prod", "myapp", "Ready"});   // a set was deleted
//   std::string body = registry.render();               // GET /metrics
//
// Semantics follow the Go client (client_golang) so that scrapes look the same
// as a controller-runtime operator's: families sorted by name; a family with
// labels and no series is left out; a family without labels always has its
// one series; numbers are printed like Go's strconv 'g' shortest form
// ("0.005", "1e-08", "1.234567e+06").
//
// Lifetimes: families live as long as the Registry. A reference returned by
// with() stays valid until remove() or reset() drops that series; code that
// may drop series should call with() each time rather than keep references.
// Misuse (wrong label count, a name registered twice with another shape, a
// negative counter increment) is a programmer error and throws
// std::invalid_argument.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace runtime {

using LabelValues = std::vector<std::string>;

class Counter {
 public:
  // Throws std::invalid_argument when delta < 0 (counters only go up).
  void inc(double delta = 1.0);
  double value() const { return value_.load(); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v); }
  void inc(double delta = 1.0);
  void dec(double delta = 1.0) { inc(-delta); }
  // The value is computed at scrape time (queue depth, cache size); set/inc
  // are ignored while a function is installed. The function runs on the
  // scraping thread with no registry lock held, so it may take its own locks.
  void set_function(std::function<double()> fn);
  double value() const;

 private:
  std::atomic<double> value_{0.0};
  mutable std::mutex fn_mu_;
  std::shared_ptr<const std::function<double()>> fn_;
};

class Histogram {
 public:
  // `upper_bounds` strictly increasing, without +Inf (always implied).
  explicit Histogram(std::shared_ptr<const std::vector<double>> upper_bounds);
  void observe(double v);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per upper bound, then +Inf (== count)
    double sum = 0.0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> buckets_;  // non-cumulative; last = above every bound
  double sum_ = 0.0;
  uint64_t count_ = 0;
};

// What every family type shares: identity, label names, rendering.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  virtual const char* type() const = 0;
  // Appends # HELP, # TYPE and the samples; nothing when there is no series.
  virtual void render(std::string& out) const = 0;

 protected:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names);
  void check_arity(const LabelValues& values) const;

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

// The series of one metric name, one per distinct label value list.
template <class Metric>
class Family : public FamilyBase {
 public:
  // The series for these label values (in label_names() order), created at
  // zero on first use.
  Metric& with(const LabelValues& values) {
    check_arity(values);
    std::lock_guard<std::mutex> guard(mu_);
    auto it = series_.find(values);
    if (it == series_.end()) it = series_.emplace(values, make_()).first;
    return *it->second;
  }
  // Drops one series (a deleted object's); unknown values are ignored.
  void remove(const LabelValues& values) {
    std::lock_guard<std::mutex> guard(mu_);
    series_.erase(values);
  }
  // Drops every series.
  void reset() {
    std::lock_guard<std::mutex> guard(mu_);
    series_.clear();
  }
  size_t size() const {
    std::lock_guard<std::mutex> guard(mu_);
    return series_.size();
  }

 protected:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::shared_ptr<Metric>()> make)
      : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
        make_(std::move(make)) {}

  // Copies the series list so values are read (and gauge functions run)
  // without the family lock.
  std::vector<std::pair<LabelValues, std::shared_ptr<Metric>>> snapshot_series() const {
    std::lock_guard<std::mutex> guard(mu_);
    return {series_.begin(), series_.end()};
  }

 private:
  std::function<std::shared_ptr<Metric>()> make_;
  mutable std::mutex mu_;
  std::map<LabelValues, std::shared_ptr<Metric>> series_;
};

class CounterFamily final : public Family<Counter> {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);
  const char* type() const override { return "counter"; }
  void render(std::string& out) const override;
};

struct GaugeSample {
  LabelValues labels;
  double value = 0.0;
};

class GaugeFamily final : public Family<Gauge> {
 public:
  GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names);
  const char* type() const override { return "gauge"; }
  void render(std::string& out) const override;
  // Series computed at scrape time, rendered together with the stored ones
  // (a computed series replaces a stored one with the same labels). Suits
  // series whose set changes with the cluster (shards per set and phase):
  // nothing goes stale when an object disappears.
  void set_collector(std::function<std::vector<GaugeSample>()> collector);

 private:
  mutable std::mutex collector_mu_;
  std::shared_ptr<const std::function<std::vector<GaugeSample>()>> collector_;
};

class HistogramFamily final : public Family<Histogram> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> upper_bounds);
  const char* type() const override { return "histogram"; }
  void render(std::string& out) const override;
  const std::vector<double>& upper_bounds() const { return *bounds_; }

 private:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::shared_ptr<const std::vector<double>> upper_bounds);
  std::shared_ptr<const std::vector<double>> bounds_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registers a family, or returns the existing one when the name is already
  // registered with the same type, labels (and buckets). Names must match
  // [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* without a
  // leading "__" (and not "le" on a histogram).
  CounterFamily& counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names = {});
  HistogramFamily& histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names,
                             std::vector<double> upper_bounds);

  // The text exposition format 0.0.4, families sorted by name.
  std::string render() const;

 private:
  template <class F, class... Args>
  F& add(const std::string& name, const std::string& help,
         std::vector<std::string> label_names, Args&&... args);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;
};

// The Content-Type of render()'s output.
inline constexpr const char* kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Prometheus' text rules, exposed for tests.
std::string format_metric_value(double v);           // Go's 'g' shortest
std::string escape_label_value(const std::string& v);  // \\ \" \n
std::string escape_help(const std::string& help);      // \\ \n

// prometheus.ExponentialBuckets: start, start*factor, ... (`count` bounds).
std::vector<double> exponential_buckets(double start, double factor, int count);
// controller-runtime's buckets for controller_runtime_reconcile_time_seconds
// (5 ms .. 60 s).
std::vector<double> reconcile_time_buckets();
// controller-runtime's workqueue duration buckets:
// ExponentialBuckets(10e-9, 10, 12), i.e. 10 ns .. 1000 s.
std::vector<double> workqueue_duration_buckets();

// controller_runtime_reconcile_total's result label values.
inline constexpr const char* kReconcileSuccess = "success";
inline constexpr const char* kReconcileError = "error";
inline constexpr const char* kReconcileRequeue = "requeue";
inline constexpr const char* kReconcileRequeueAfter = "requeue_after";

// One work queue's series (labels name=controller=queue name, as
// controller-runtime's workqueue metrics provider sets them).
struct WorkQueueMetrics {
  Gauge& depth;
  Counter& adds;
  Counter& retries;
  Histogram& queue_duration;  // seconds from add to get
  Histogram& work_duration;   // seconds from get to done
  Gauge& unfinished_work_seconds;
  Gauge& longest_running_processor_seconds;
};

// Every family the operator exposes, with controller-runtime's and
// client-go's names, help texts and labels, so existing dashboards work.
struct OperatorMetrics {
  explicit OperatorMetrics(Registry& registry);

  // controller-runtime, labels {controller} unless noted.
  CounterFamily& reconcile_total;                  // {controller, result}
  CounterFamily& reconcile_errors_total;
  CounterFamily& terminal_reconcile_errors_total;
  HistogramFamily& reconcile_time_seconds;
  GaugeFamily& max_concurrent_reconciles;
  GaugeFamily& active_workers;
  // controller-runtime's workqueue provider, labels {name, controller}.
  GaugeFamily& workqueue_depth;
  CounterFamily& workqueue_adds_total;
  CounterFamily& workqueue_retries_total;
  HistogramFamily& workqueue_queue_duration_seconds;
  HistogramFamily& workqueue_work_duration_seconds;
  GaugeFamily& workqueue_unfinished_work_seconds;
  GaugeFamily& workqueue_longest_running_processor_seconds;
  // client-go.
  CounterFamily& rest_client_requests_total;       // {code, method, host}
  GaugeFamily& leader_election_master_status;      // {name}

  // Creates, at zero, the series controller-runtime creates when a
  // controller starts (every reconcile result, errors, active workers) and
  // sets max_concurrent_reconciles, so rate() works from the first scrape.
  void init_controller(const std::string& controller, int max_concurrent_reconciles);
  // The series of one work queue (creating them).
  WorkQueueMetrics workqueue(const std::string& queue_name);
};

}  // namespace runtime
