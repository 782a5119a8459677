#include "runtime/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace runtime {
namespace {

// std::atomic<double> has no fetch_add before C++20.
void atomic_add(std::atomic<double>& target, double delta) {
  double current = target.load();
  while (!target.compare_exchange_weak(current, current + delta)) {
  }
}

bool valid_metric_name(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool valid_label_name(const std::string& name) {
  if (name.empty() || name.rfind("__", 0) == 0) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// name{a="x",b="y"} with an optional extra label (le) last; no braces when
// there are no labels at all.
void append_series_name(std::string& out, const std::string& name,
                        const std::vector<std::string>& label_names,
                        const LabelValues& values, const char* extra_name = nullptr,
                        const std::string& extra_value = {}) {
  out += name;
  if (label_names.empty() && extra_name == nullptr) return;
  out += '{';
  bool first = true;
  for (size_t i = 0; i < label_names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += label_names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (extra_name != nullptr) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += escape_label_value(extra_value);
    out += '"';
  }
  out += '}';
}

void append_header(std::string& out, const FamilyBase& family) {
  out += "# HELP ";
  out += family.name();
  out += ' ';
  out += escape_help(family.help());
  out += "\n# TYPE ";
  out += family.name();
  out += ' ';
  out += family.type();
  out += '\n';
}

void append_sample(std::string& out, const std::string& name,
                   const std::vector<std::string>& label_names, const LabelValues& values,
                   double value) {
  append_series_name(out, name, label_names, values);
  out += ' ';
  out += format_metric_value(value);
  out += '\n';
}

}  // namespace

// ---- values ----------------------------------------------------------------

void Counter::inc(double delta) {
  if (delta < 0) throw std::invalid_argument("counter increment must not be negative");
  atomic_add(value_, delta);
}

void Gauge::inc(double delta) { atomic_add(value_, delta); }

void Gauge::set_function(std::function<double()> fn) {
  auto shared = fn ? std::make_shared<const std::function<double()>>(std::move(fn)) : nullptr;
  std::lock_guard<std::mutex> guard(fn_mu_);
  fn_ = std::move(shared);
}

double Gauge::value() const {
  std::shared_ptr<const std::function<double()>> fn;
  {
    std::lock_guard<std::mutex> guard(fn_mu_);
    fn = fn_;
  }
  return fn ? (*fn)() : value_.load();
}

Histogram::Histogram(std::shared_ptr<const std::vector<double>> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(bounds_->size() + 1, 0) {}

void Histogram::observe(double v) {
  // First bound >= v (buckets are "less or equal"); NaN lands above every
  // bound, as in the Go client.
  size_t index = std::isnan(v) ? bounds_->size()
                               : static_cast<size_t>(std::lower_bound(bounds_->begin(),
                                                                      bounds_->end(), v) -
                                                     bounds_->begin());
  std::lock_guard<std::mutex> guard(mu_);
  ++buckets_[index];
  sum_ += v;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  std::lock_guard<std::mutex> guard(mu_);
  s.cumulative.reserve(buckets_.size());
  uint64_t running = 0;
  for (uint64_t b : buckets_) {
    running += b;
    s.cumulative.push_back(running);
  }
  s.sum = sum_;
  s.count = count_;
  return s;
}

// ---- families --------------------------------------------------------------

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void FamilyBase::check_arity(const LabelValues& values) const {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument(name_ + ": expected " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(values.size()));
  }
}

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : Family(std::move(name), std::move(help), std::move(label_names),
             [] { return std::make_shared<Counter>(); }) {}

void CounterFamily::render(std::string& out) const {
  auto series = snapshot_series();
  if (series.empty()) return;
  append_header(out, *this);
  for (const auto& [labels, counter] : series) {
    append_sample(out, name(), label_names(), labels, counter->value());
  }
}

GaugeFamily::GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
    : Family(std::move(name), std::move(help), std::move(label_names),
             [] { return std::make_shared<Gauge>(); }) {}

void GaugeFamily::set_collector(std::function<std::vector<GaugeSample>()> collector) {
  auto shared = collector
                    ? std::make_shared<const std::function<std::vector<GaugeSample>()>>(
                          std::move(collector))
                    : nullptr;
  std::lock_guard<std::mutex> guard(collector_mu_);
  collector_ = std::move(shared);
}

void GaugeFamily::render(std::string& out) const {
  std::map<LabelValues, double> values;
  for (const auto& [labels, gauge] : snapshot_series()) values[labels] = gauge->value();
  std::shared_ptr<const std::function<std::vector<GaugeSample>()>> collector;
  {
    std::lock_guard<std::mutex> guard(collector_mu_);
    collector = collector_;
  }
  if (collector) {
    for (GaugeSample& sample : (*collector)()) {
      check_arity(sample.labels);
      values[std::move(sample.labels)] = sample.value;
    }
  }
  if (values.empty()) return;
  append_header(out, *this);
  for (const auto& [labels, value] : values) {
    append_sample(out, name(), label_names(), labels, value);
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names,
                                 std::vector<double> upper_bounds)
    : HistogramFamily(std::move(name), std::move(help), std::move(label_names),
                      std::make_shared<const std::vector<double>>(std::move(upper_bounds))) {}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names,
                                 std::shared_ptr<const std::vector<double>> upper_bounds)
    : Family(std::move(name), std::move(help), std::move(label_names),
             [upper_bounds] { return std::make_shared<Histogram>(upper_bounds); }),
      bounds_(std::move(upper_bounds)) {}

void HistogramFamily::render(std::string& out) const {
  auto series = snapshot_series();
  if (series.empty()) return;
  append_header(out, *this);
  const std::string bucket_name = name() + "_bucket";
  const std::string sum_name = name() + "_sum";
  const std::string count_name = name() + "_count";
  for (const auto& [labels, histogram] : series) {
    Histogram::Snapshot s = histogram->snapshot();
    for (size_t i = 0; i <= bounds_->size(); ++i) {
      std::string le = i < bounds_->size() ? format_metric_value((*bounds_)[i]) : "+Inf";
      append_series_name(out, bucket_name, label_names(), labels, "le", le);
      out += ' ';
      out += std::to_string(s.cumulative[i]);
      out += '\n';
    }
    append_sample(out, sum_name, label_names(), labels, s.sum);
    append_series_name(out, count_name, label_names(), labels);
    out += ' ';
    out += std::to_string(s.count);
    out += '\n';
  }
}

// ---- registry --------------------------------------------------------------

template <class F, class... Args>
F& Registry::add(const std::string& name, const std::string& help,
                 std::vector<std::string> label_names, Args&&... args) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name: " + name);
  for (const std::string& label : label_names) {
    if (!valid_label_name(label)) {
      throw std::invalid_argument(name + ": invalid label name: " + label);
    }
  }
  for (size_t i = 0; i < label_names.size(); ++i) {
    for (size_t j = i + 1; j < label_names.size(); ++j) {
      if (label_names[i] == label_names[j]) {
        throw std::invalid_argument(name + ": duplicate label name: " + label_names[i]);
      }
    }
  }
  auto candidate = std::make_unique<F>(name, help, label_names, std::forward<Args>(args)...);
  std::lock_guard<std::mutex> guard(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = dynamic_cast<F*>(it->second.get());
    bool same = existing != nullptr && existing->label_names() == label_names;
    if constexpr (std::is_same_v<F, HistogramFamily>) {
      same = same && existing->upper_bounds() == candidate->upper_bounds();
    }
    if (!same) {
      throw std::invalid_argument("metric " + name + " already registered with another shape");
    }
    return *existing;
  }
  F& family = *candidate;
  // A family without labels has exactly one series, shown from the start.
  if (label_names.empty()) family.with({});
  families_.emplace(name, std::move(candidate));
  return family;
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names) {
  return add<CounterFamily>(name, help, std::move(label_names));
}

GaugeFamily& Registry::gauge(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names) {
  return add<GaugeFamily>(name, help, std::move(label_names));
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names,
                                     std::vector<double> upper_bounds) {
  for (const std::string& label : label_names) {
    if (label == "le") throw std::invalid_argument(name + ": a histogram cannot use label le");
  }
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    if (std::isnan(upper_bounds[i]) || (i > 0 && !(upper_bounds[i] > upper_bounds[i - 1]))) {
      throw std::invalid_argument(name + ": bucket bounds must increase strictly");
    }
  }
  // +Inf is implied; an explicit one would print twice.
  if (!upper_bounds.empty() && std::isinf(upper_bounds.back()) && upper_bounds.back() > 0) {
    upper_bounds.pop_back();
  }
  return add<HistogramFamily>(name, help, std::move(label_names), std::move(upper_bounds));
}

std::string Registry::render() const {
  // Family pointers stay valid (families are never unregistered); rendering
  // outside the registry lock lets gauge functions take their own locks.
  std::vector<const FamilyBase*> families;
  {
    std::lock_guard<std::mutex> guard(mu_);
    families.reserve(families_.size());
    for (const auto& [name, family] : families_) families.push_back(family.get());
  }
  std::string out;
  for (const FamilyBase* family : families) family->render(out);
  return out;
}

// ---- text format -----------------------------------------------------------

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Shortest round-trip digits; Go's 'g' then picks exponent notation when
  // the decimal exponent is < -4 or >= 6 (its rule for the shortest form),
  // which std::to_chars' own choice does not match.
  auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string text(buf, sci.ptr);
  size_t e = text.find('e');
  int exponent = std::stoi(text.substr(e + 1));
  if (exponent < -4 || exponent >= 6) return text;
  auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, fixed.ptr);
}

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_help(const std::string& help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  if (count < 1 || start <= 0 || factor <= 1) {
    throw std::invalid_argument("exponential_buckets needs count >= 1, start > 0, factor > 1");
  }
  std::vector<double> bounds;
  bounds.reserve(static_cast<size_t>(count));
  // Repeated multiplication, as the Go client does, so the printed bounds
  // match a Go operator's digit for digit.
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

std::vector<double> reconcile_time_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6,
          0.7,   0.8,  0.9,   1.0,  1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5,
          6,     7,    8,     9,    10,  15,  20,   25,  30,  40,  50,  60};
}

std::vector<double> workqueue_duration_buckets() { return exponential_buckets(10e-9, 10, 12); }

// ---- the operator's families -----------------------------------------------

OperatorMetrics::OperatorMetrics(Registry& r)
    : reconcile_total(r.counter("controller_runtime_reconcile_total",
                                "Total number of reconciliations per controller",
                                {"controller", "result"})),
      reconcile_errors_total(r.counter("controller_runtime_reconcile_errors_total",
                                       "Total number of reconciliation errors per controller",
                                       {"controller"})),
      terminal_reconcile_errors_total(
          r.counter("controller_runtime_terminal_reconcile_errors_total",
                    "Total number of terminal reconciliation errors per controller",
                    {"controller"})),
      reconcile_time_seconds(r.histogram("controller_runtime_reconcile_time_seconds",
                                         "Length of time per reconciliation per controller",
                                         {"controller"}, reconcile_time_buckets())),
      max_concurrent_reconciles(r.gauge("controller_runtime_max_concurrent_reconciles",
                                        "Maximum number of concurrent reconciles per controller",
                                        {"controller"})),
      active_workers(r.gauge("controller_runtime_active_workers",
                             "Number of currently used workers per controller", {"controller"})),
      workqueue_depth(r.gauge("workqueue_depth", "Current depth of workqueue",
                              {"name", "controller"})),
      workqueue_adds_total(r.counter("workqueue_adds_total",
                                     "Total number of adds handled by workqueue",
                                     {"name", "controller"})),
      workqueue_retries_total(r.counter("workqueue_retries_total",
                                        "Total number of retries handled by workqueue",
                                        {"name", "controller"})),
      workqueue_queue_duration_seconds(
          r.histogram("workqueue_queue_duration_seconds",
                      "How long in seconds an item stays in workqueue before being requested",
                      {"name", "controller"}, workqueue_duration_buckets())),
      workqueue_work_duration_seconds(
          r.histogram("workqueue_work_duration_seconds",
                      "How long in seconds processing an item from workqueue takes.",
                      {"name", "controller"}, workqueue_duration_buckets())),
      workqueue_unfinished_work_seconds(r.gauge(
          "workqueue_unfinished_work_seconds",
          "How many seconds of work has been done that is in progress and hasn't been observed "
          "by work_duration. Large values indicate stuck threads. One can deduce the number of "
          "stuck threads by observing the rate at which this increases.",
          {"name", "controller"})),
      workqueue_longest_running_processor_seconds(
          r.gauge("workqueue_longest_running_processor_seconds",
                  "How many seconds has the longest running processor for workqueue been "
                  "running.",
                  {"name", "controller"})),
      rest_client_requests_total(
          r.counter("rest_client_requests_total",
                    "Number of HTTP requests, partitioned by status code, method, and host.",
                    {"code", "method", "host"})),
      leader_election_master_status(r.gauge(
          "leader_election_master_status",
          "Gauge of if the reporting system is master of the relevant lease, 0 indicates "
          "backup, 1 indicates master. 'name' is the string used to identify the lease. Please "
          "make sure to group by name.",
          {"name"})) {}

void OperatorMetrics::init_controller(const std::string& controller,
                                      int max_concurrent_reconciles_value) {
  for (const char* result :
       {kReconcileSuccess, kReconcileError, kReconcileRequeue, kReconcileRequeueAfter}) {
    reconcile_total.with({controller, result});
  }
  reconcile_errors_total.with({controller});
  terminal_reconcile_errors_total.with({controller});
  active_workers.with({controller}).set(0);
  max_concurrent_reconciles.with({controller}).set(max_concurrent_reconciles_value);
}

WorkQueueMetrics OperatorMetrics::workqueue(const std::string& queue_name) {
  LabelValues labels{queue_name, queue_name};
  return WorkQueueMetrics{workqueue_depth.with(labels),
                          workqueue_adds_total.with(labels),
                          workqueue_retries_total.with(labels),
                          workqueue_queue_duration_seconds.with(labels),
                          workqueue_work_duration_seconds.with(labels),
                          workqueue_unfinished_work_seconds.with(labels),
                          workqueue_longest_running_processor_seconds.with(labels)};
}

}  // namespace runtime
