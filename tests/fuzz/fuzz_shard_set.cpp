// An ElectricShardSet from JSON through what a reconcile does with it:
// electric::parse_shard_set (parse, defaults, validate), then
// electric::plan_reconcile (render every child, status, routing ConfigMap).
// The object is the input as JSON; bytes that are not JSON stop early.
//
// Every referenced Secret key is found: a key that starts with "postgres" is
// its own value (so the fuzzer can write database URLs into key names), any
// other key reads a valid URL whose database is the key.
//
// Invariants, beyond not crashing:
// - parse and plan are deterministic (the same bytes give the same errors,
//   children and status);
// - the status is a fixed point: planned again with its own status as the
//   live one, the status is unchanged;
// - a set with set-wide errors gets no child; every child is an object with
//   apiVersion, kind and a metadata.name that is a lowercase DNS name of at
//   most 253 characters, in the set's namespace;
// - everything planned serializes as strict UTF-8 JSON (what the client sends);
// - a set is a valid transition from itself.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "electric/reconcile_plan.h"
#include "electric/shard_set.h"
#include "fuzz_check.h"

namespace {

using nlohmann::json;

electric::Observed observed_for_fuzzing() {
  electric::Observed observed;
  observed.now = "2026-01-01T00:00:00Z";
  observed.generated_api_secret = "generated-api-secret";
  observed.read_secret = [](const electric::SecretKeyRef& ref) {
    if (ref.key.rfind("postgres", 0) == 0) return electric::SecretLookup::found(ref.key);
    return electric::SecretLookup::found("postgresql://app:pw@db.example:5432/" + ref.key);
  };
  return observed;
}

bool dns_name(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return true;
}

// Strict serialization, as the API client sends a body: throws on bad UTF-8.
bool serializes(const json& j, std::string& out) {
  try {
    out = j.dump();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

std::string plan_text(const electric::Plan& plan) {
  std::string text, part;
  for (const json& child : plan.apply) {
    FUZZ_CHECK(serializes(child, part), "a child does not serialize as UTF-8 JSON");
    text += part + "\n";
  }
  for (const electric::Removal& removal : plan.remove) text += removal.kind + "/" + removal.name + "\n";
  FUZZ_CHECK(serializes(plan.status, part), "the status does not serialize as UTF-8 JSON");
  return text + part;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  json object = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return 0;

  const electric::ParsedShardSet parsed = electric::parse_shard_set(object);
  const electric::ParsedShardSet again = electric::parse_shard_set(object);
  FUZZ_CHECK(electric::describe_errors(parsed.errors) == electric::describe_errors(again.errors),
             "parsing the same object twice gives different errors");
  FUZZ_CHECK(parsed.render_keys == again.render_keys, "parsing the same object twice gives different render keys");
  std::string message;
  FUZZ_CHECK(serializes(json(electric::describe_errors(parsed.errors)), message),
             "an error message is not UTF-8");
  FUZZ_CHECK(electric::validate_transition(parsed.set, parsed.set).empty(),
             "a set is not a valid transition from itself");

  const electric::Observed observed = observed_for_fuzzing();
  const electric::Plan plan = electric::plan_reconcile(parsed, observed, json());
  const std::string text = plan_text(plan);
  FUZZ_CHECK(plan_text(electric::plan_reconcile(again, observed, json())) == text,
             "planning the same object twice gives different plans");
  FUZZ_CHECK(plan.status.is_object(), "the status is not an object");

  const electric::Plan replanned = electric::plan_reconcile(parsed, observed, plan.status);
  FUZZ_CHECK(replanned.status == plan.status, "the status is not a fixed point of the plan");

  if (parsed.has_set_wide_errors()) {
    FUZZ_CHECK(plan.apply.empty(), "a set with set-wide errors gets children");
  }
  for (const json& child : plan.apply) {
    FUZZ_CHECK(child.is_object(), "a child is not an object");
    FUZZ_CHECK(child.contains("apiVersion") && child["apiVersion"].is_string(), "a child has no apiVersion");
    FUZZ_CHECK(child.contains("kind") && child["kind"].is_string(), "a child has no kind");
    const json* metadata = child.contains("metadata") ? &child["metadata"] : nullptr;
    FUZZ_CHECK(metadata != nullptr && metadata->is_object(), "a child has no metadata");
    FUZZ_CHECK(metadata->contains("name") && (*metadata)["name"].is_string() &&
                   dns_name((*metadata)["name"].get<std::string>()),
               "a child's name is not a DNS name");
    FUZZ_CHECK(metadata->value("namespace", std::string()) == parsed.set.namespace_name,
               "a child is outside the set's namespace");
  }
  return 0;
}
