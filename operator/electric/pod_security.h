// What a set may ask for: a rendered pod template checked against the
// Kubernetes Pod Security Standards (baseline, restricted), the same controls
// Pod Security admission enforces on a namespace. The operator runs pods on
// behalf of whoever may create a set; without this check that person could
// run privileged pods through it in any namespace it watches, whatever the
// cluster's admins granted them.
//
//   auto level = electric::parse_pod_security_level("baseline");   // the flag
//   if (auto v = electric::check_pod_security(render_pod_template(...), *level))
//     -> shard Failed, reason PodSecurityViolation, v->describe() in the message
//
// The rules live here once, as a table (pod_security.cpp); each control
// belongs to the lowest level that has it, and a level's check runs every
// control of that level and of the levels below it. Pure: JSON in, a value out.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace electric {

// Ordered from the most to the least permissive.
enum class PodSecurityLevel { Privileged, Baseline, Restricted };

const char* to_string(PodSecurityLevel level);
// "privileged", "baseline" or "restricted"; anything else is nullopt.
std::optional<PodSecurityLevel> parse_pod_security_level(std::string_view text);

// What the operator allows when no flag says otherwise: what Pod Security
// admission calls a minimally restrictive policy that still blocks known
// privilege escalations.
inline constexpr PodSecurityLevel kDefaultMaxPodSecurityLevel = PodSecurityLevel::Baseline;

struct PodSecurityViolation {
  // Where in the pod template, e.g. "spec.containers[0].securityContext.privileged".
  std::string path;
  std::string message;     // what is wrong and what is allowed, no values a user did not write
  PodSecurityLevel level;  // the profile whose control it breaks

  std::string describe() const { return path + ": " + message; }
};

// The first control of `required` (and of the levels below it) that
// `pod_template` ({metadata, spec}, as render_pod_template returns it)
// breaks; nullopt when it meets the level. Privileged checks nothing.
std::optional<PodSecurityViolation> check_pod_security(const nlohmann::json& pod_template,
                                                       PodSecurityLevel required);

}  // namespace electric
