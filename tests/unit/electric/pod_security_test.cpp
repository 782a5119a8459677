#include "electric/pod_security.h"

#include <gtest/gtest.h>

#include "electric/render.h"
#include "fixtures.h"

namespace electric {
namespace {

using nlohmann::json;

// A pod template shaped as render_pod_template makes it, meeting restricted;
// each case changes one field.
json restricted_pod() {
  return json::parse(R"({
    "metadata": {"labels": {"app": "x"}},
    "spec": {
      "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
      "containers": [{"name": "electric", "ports": [{"name": "http", "containerPort": 3000}],
                      "securityContext": {"allowPrivilegeEscalation": false,
                                          "capabilities": {"drop": ["ALL"]}}}],
      "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "d"}}]}})");
}

json with(const json& patch) {
  json pod = restricted_pod();
  pod.merge_patch(patch);
  return pod;
}

json with_container(const json& patch) {
  json pod = restricted_pod();
  pod["spec"]["containers"][0].merge_patch(patch);
  return pod;
}

json with_container_sc(const json& patch) { return with_container({{"securityContext", patch}}); }

std::string violation_path(const json& pod, PodSecurityLevel level) {
  auto v = check_pod_security(pod, level);
  return v ? v->path : "";
}

TEST(PodSecurityLevel, ParsesAndPrintsTheThreeLevels) {
  for (auto level : {PodSecurityLevel::Privileged, PodSecurityLevel::Baseline, PodSecurityLevel::Restricted})
    EXPECT_EQ(parse_pod_security_level(to_string(level)), level);
  EXPECT_EQ(parse_pod_security_level("Baseline"), std::nullopt);
  EXPECT_EQ(parse_pod_security_level(""), std::nullopt);
  EXPECT_EQ(kDefaultMaxPodSecurityLevel, PodSecurityLevel::Baseline);
}

TEST(PodSecurity, TheReferencePodMeetsEveryLevel) {
  for (auto level : {PodSecurityLevel::Privileged, PodSecurityLevel::Baseline, PodSecurityLevel::Restricted})
    EXPECT_EQ(check_pod_security(restricted_pod(), level), std::nullopt) << to_string(level);
}

struct Case {
  const char* what;
  json pod;
  std::string path;  // where the violation is reported
};

// Every baseline control: refused under baseline and restricted, allowed
// under privileged.
TEST(PodSecurity, BaselineControlsRefused) {
  const std::vector<Case> cases = {
      {"hostNetwork", with({{"spec", {{"hostNetwork", true}}}}), "spec.hostNetwork"},
      {"hostPID", with({{"spec", {{"hostPID", true}}}}), "spec.hostPID"},
      {"hostIPC", with({{"spec", {{"hostIPC", true}}}}), "spec.hostIPC"},
      {"pod hostProcess", with(json::parse(R"({"spec": {"securityContext": {"windowsOptions": {"hostProcess": true}}}})")),
       "spec.securityContext.windowsOptions.hostProcess"},
      {"container hostProcess", with_container_sc({{"windowsOptions", {{"hostProcess", true}}}}),
       "spec.containers[0].securityContext.windowsOptions.hostProcess"},
      {"privileged", with_container_sc({{"privileged", true}}), "spec.containers[0].securityContext.privileged"},
      {"SYS_ADMIN", with_container_sc(json::parse(R"({"capabilities": {"drop": ["ALL"], "add": ["CHOWN", "SYS_ADMIN"]}})")),
       "spec.containers[0].securityContext.capabilities.add[1]"},
      {"NET_RAW", with_container_sc(json::parse(R"({"capabilities": {"add": ["NET_RAW"]}})")),
       "spec.containers[0].securityContext.capabilities.add[0]"},
      {"CAP_ prefix is not the baseline name", with_container_sc(json::parse(R"({"capabilities": {"add": ["CAP_CHOWN"]}})")),
       "spec.containers[0].securityContext.capabilities.add[0]"},
      {"hostPath", with(json::parse(R"({"spec": {"volumes": [{"name": "h", "hostPath": {"path": "/"}}]}})")),
       "spec.volumes[0].hostPath"},
      {"hostPort", with_container(json::parse(R"({"ports": [{"containerPort": 3000, "hostPort": 3000}]})")),
       "spec.containers[0].ports[0].hostPort"},
      {"pod AppArmor Unconfined", with(json::parse(R"({"spec": {"securityContext": {"appArmorProfile": {"type": "Unconfined"}}}})")),
       "spec.securityContext.appArmorProfile.type"},
      {"container AppArmor Unconfined", with_container_sc({{"appArmorProfile", {{"type", "Unconfined"}}}}),
       "spec.containers[0].securityContext.appArmorProfile.type"},
      {"AppArmor annotation unconfined",
       with(json::parse(R"({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/electric": "unconfined"}}})")),
       "metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/electric\"]"},
      {"SELinux type", with_container_sc({{"seLinuxOptions", {{"type", "spc_t"}}}}),
       "spec.containers[0].securityContext.seLinuxOptions.type"},
      {"pod SELinux type", with(json::parse(R"({"spec": {"securityContext": {"seLinuxOptions": {"type": "unconfined_t"}}}})")),
       "spec.securityContext.seLinuxOptions.type"},
      {"SELinux user", with_container_sc({{"seLinuxOptions", {{"user", "system_u"}}}}),
       "spec.containers[0].securityContext.seLinuxOptions.user"},
      {"SELinux role", with_container_sc({{"seLinuxOptions", {{"role", "system_r"}}}}),
       "spec.containers[0].securityContext.seLinuxOptions.role"},
      {"procMount", with_container_sc({{"procMount", "Unmasked"}}), "spec.containers[0].securityContext.procMount"},
      {"pod seccomp Unconfined", with(json::parse(R"({"spec": {"securityContext": {"seccompProfile": {"type": "Unconfined"}}}})")),
       "spec.securityContext.seccompProfile.type"},
      {"container seccomp Unconfined", with_container_sc({{"seccompProfile", {{"type", "Unconfined"}}}}),
       "spec.containers[0].securityContext.seccompProfile.type"},
      {"unsafe sysctl", with(json::parse(R"({"spec": {"securityContext": {"sysctls": [
           {"name": "net.ipv4.tcp_syncookies", "value": "1"}, {"name": "kernel.msgmax", "value": "1"}]}}})")),
       "spec.securityContext.sysctls[1].name"},
  };
  for (const auto& c : cases) {
    auto v = check_pod_security(c.pod, PodSecurityLevel::Baseline);
    ASSERT_TRUE(v) << c.what;
    EXPECT_EQ(v->path, c.path) << c.what;
    EXPECT_EQ(v->level, PodSecurityLevel::Baseline) << c.what;
    EXPECT_FALSE(v->message.empty()) << c.what;
    EXPECT_EQ(violation_path(c.pod, PodSecurityLevel::Restricted), c.path) << c.what << " (restricted)";
    EXPECT_EQ(check_pod_security(c.pod, PodSecurityLevel::Privileged), std::nullopt) << c.what << " (privileged)";
  }
}

// What baseline still allows: each stays within the profile.
TEST(PodSecurity, BaselineAllows) {
  const std::vector<std::pair<const char*, json>> cases = {
      {"host namespaces false", with(json::parse(R"({"spec": {"hostNetwork": false, "hostPID": false, "hostIPC": false}})"))},
      {"privileged false", with_container_sc({{"privileged", false}})},
      {"every baseline capability",
       with_container_sc(json::parse(R"({"capabilities": {"add": ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER",
           "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]}})"))},
      {"hostPort 0", with_container(json::parse(R"({"ports": [{"containerPort": 3000, "hostPort": 0}]})"))},
      {"AppArmor RuntimeDefault and Localhost",
       with(json::parse(R"({"spec": {"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}},
                            "metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/electric": "localhost/p",
                                                         "other.example/unconfined": "unconfined"}}})"))},
      {"container AppArmor Localhost", with_container_sc({{"appArmorProfile", {{"type", "Localhost"}, {"localhostProfile", "p"}}}})},
      {"SELinux container types and level",
       with_container_sc({{"seLinuxOptions", {{"type", "container_init_t"}, {"level", "s0:c123,c456"}}}})},
      {"procMount Default", with_container_sc({{"procMount", "Default"}})},
      {"seccomp Localhost", with_container_sc({{"seccompProfile", {{"type", "Localhost"}, {"localhostProfile", "p.json"}}}})},
      {"every safe sysctl", with(json::parse(R"({"spec": {"securityContext": {"sysctls": [
           {"name": "kernel.shm_rmid_forced"}, {"name": "net.ipv4.ip_local_port_range"},
           {"name": "net.ipv4.ip_unprivileged_port_start"}, {"name": "net.ipv4.tcp_syncookies"},
           {"name": "net.ipv4.ping_group_range"}, {"name": "net.ipv4.ip_local_reserved_ports"},
           {"name": "net.ipv4.tcp_keepalive_time"}, {"name": "net.ipv4.tcp_fin_timeout"},
           {"name": "net.ipv4.tcp_keepalive_intvl"}, {"name": "net.ipv4.tcp_keepalive_probes"}]}}})"))},
      // Restricted-only controls are not baseline's business.
      {"root", with(json::parse(R"({"spec": {"securityContext": {"runAsNonRoot": null, "runAsUser": 0}}})"))},
      {"escalation", with_container_sc({{"allowPrivilegeEscalation", true}})},
      {"no seccomp at all", with(json::parse(R"({"spec": {"securityContext": {"seccompProfile": null}}})"))},
      {"no drop", with_container_sc({{"capabilities", nullptr}})},
      {"emptyDir and configMap volumes",
       with(json::parse(R"({"spec": {"volumes": [{"name": "t", "emptyDir": {}}, {"name": "c", "configMap": {"name": "x"}}]}})"))},
  };
  for (const auto& [what, pod] : cases)
    EXPECT_EQ(violation_path(pod, PodSecurityLevel::Baseline), "") << what;
}

TEST(PodSecurity, RestrictedControlsRefused) {
  const std::vector<Case> cases = {
      {"nfs volume", with(json::parse(R"({"spec": {"volumes": [{"name": "n", "nfs": {"server": "s", "path": "/"}}]}})")),
       "spec.volumes[0].nfs"},
      {"escalation unset", with_container_sc({{"allowPrivilegeEscalation", nullptr}}),
       "spec.containers[0].securityContext.allowPrivilegeEscalation"},
      {"escalation true", with_container_sc({{"allowPrivilegeEscalation", true}}),
       "spec.containers[0].securityContext.allowPrivilegeEscalation"},
      {"runAsNonRoot unset", with(json::parse(R"({"spec": {"securityContext": {"runAsNonRoot": null}}})")),
       "spec.securityContext.runAsNonRoot"},
      {"runAsNonRoot false in the pod", with(json::parse(R"({"spec": {"securityContext": {"runAsNonRoot": false}}})")),
       "spec.securityContext.runAsNonRoot"},
      {"runAsNonRoot false in the container", with_container_sc({{"runAsNonRoot", false}}),
       "spec.containers[0].securityContext.runAsNonRoot"},
      {"pod runAsUser 0", with(json::parse(R"({"spec": {"securityContext": {"runAsUser": 0}}})")),
       "spec.securityContext.runAsUser"},
      {"container runAsUser 0", with_container_sc({{"runAsUser", 0}}), "spec.containers[0].securityContext.runAsUser"},
      {"no seccomp profile anywhere", with(json::parse(R"({"spec": {"securityContext": {"seccompProfile": null}}})")),
       "spec.containers[0].securityContext.seccompProfile.type"},
      {"no drop ALL", with_container_sc(json::parse(R"({"capabilities": {"drop": ["NET_RAW"]}})")),
       "spec.containers[0].securityContext.capabilities.drop"},
      {"a baseline capability added", with_container_sc(json::parse(R"({"capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}})")),
       "spec.containers[0].securityContext.capabilities.add[0]"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(violation_path(c.pod, PodSecurityLevel::Baseline), "") << c.what << " is within baseline";
    auto v = check_pod_security(c.pod, PodSecurityLevel::Restricted);
    ASSERT_TRUE(v) << c.what;
    EXPECT_EQ(v->path, c.path) << c.what;
    EXPECT_EQ(v->level, PodSecurityLevel::Restricted) << c.what;
  }
}

TEST(PodSecurity, RestrictedAllows) {
  const std::vector<std::pair<const char*, json>> cases = {
      {"runAsNonRoot in the container only",
       with(json::parse(R"({"spec": {"securityContext": {"runAsNonRoot": null},
                                     "containers": [{"name": "electric", "securityContext": {"runAsNonRoot": true,
                                        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}})"))},
      {"seccomp in the container only",
       with(json::parse(R"({"spec": {"securityContext": {"seccompProfile": null},
                                     "containers": [{"name": "electric", "securityContext": {"seccompProfile": {"type": "Localhost"},
                                        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}})"))},
      {"NET_BIND_SERVICE", with_container_sc(json::parse(R"({"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})"))},
      {"non-root uid", with(json::parse(R"({"spec": {"securityContext": {"runAsUser": 65534, "fsGroup": 65534}}})"))},
      {"every restricted volume type",
       with(json::parse(R"({"spec": {"volumes": [{"name": "a", "configMap": {}}, {"name": "b", "csi": {}},
           {"name": "c", "downwardAPI": {}}, {"name": "d", "emptyDir": {}}, {"name": "e", "ephemeral": {}},
           {"name": "f", "persistentVolumeClaim": {}}, {"name": "g", "projected": {}}, {"name": "h", "secret": {}}]}})"))},
  };
  for (const auto& [what, pod] : cases)
    EXPECT_EQ(violation_path(pod, PodSecurityLevel::Restricted), "") << what;
}

TEST(PodSecurity, InitAndEphemeralContainersAreCheckedToo) {
  json pod = restricted_pod();
  pod["spec"]["initContainers"] = json::parse(R"([{"name": "i", "securityContext": {"privileged": true}}])");
  EXPECT_EQ(violation_path(pod, PodSecurityLevel::Baseline), "spec.initContainers[0].securityContext.privileged");
  pod = restricted_pod();
  pod["spec"]["ephemeralContainers"] = json::parse(R"([{"name": "e", "securityContext": {"procMount": "Unmasked"}}])");
  EXPECT_EQ(violation_path(pod, PodSecurityLevel::Baseline), "spec.ephemeralContainers[0].securityContext.procMount");
}

TEST(PodSecurity, TheFirstViolationIsReported) {
  json pod = with_container_sc(json::parse(R"({"privileged": true, "capabilities": {"add": ["SYS_ADMIN"]}})"));
  pod["spec"]["hostNetwork"] = true;
  EXPECT_EQ(violation_path(pod, PodSecurityLevel::Baseline), "spec.hostNetwork");
  auto v = check_pod_security(pod, PodSecurityLevel::Baseline);
  EXPECT_EQ(v->describe(), "spec.hostNetwork: sharing the host's namespaces is not allowed");
}

// What the operator renders: the defaults meet baseline; restricted needs
// the README's non-root recipe.
TEST(PodSecurity, RenderedPodsMeetBaselineAndTheRecipeMeetsRestricted) {
  ShardSet set = electric_test::sample_set();
  const json pod = render_pod_template(set, set.spec.shards[0], "h");
  EXPECT_EQ(check_pod_security(pod, PodSecurityLevel::Baseline), std::nullopt);
  EXPECT_EQ(violation_path(pod, PodSecurityLevel::Restricted), "spec.securityContext.runAsNonRoot");

  set.spec.pod_template.pod_security_context = json::parse(
      R"({"runAsNonRoot": true, "runAsUser": 65534, "runAsGroup": 65534, "fsGroup": 65534,
          "fsGroupChangePolicy": "OnRootMismatch"})");
  EXPECT_EQ(check_pod_security(render_pod_template(set, set.spec.shards[0], "h"), PodSecurityLevel::Restricted),
            std::nullopt);
}

TEST(PodSecurity, OddShapesAreValuesNotExceptions) {
  for (const char* text : {R"(null)", R"([])", R"({"spec": []})", R"({"spec": {"containers": {}}})",
                           R"({"spec": {"containers": [1, "x", null]}})",
                           R"({"spec": {"securityContext": "x", "volumes": [1, {"name": 2}]}})",
                           R"({"spec": {"containers": [{"securityContext": {"capabilities": {"add": "SYS_ADMIN", "drop": 1}}}]}})",
                           R"({"spec": {"containers": [{"ports": [{"hostPort": "80"}]}]}, "metadata": {"annotations": []}})"}) {
    for (auto level : {PodSecurityLevel::Privileged, PodSecurityLevel::Baseline, PodSecurityLevel::Restricted})
      EXPECT_NO_THROW(check_pod_security(json::parse(text), level)) << text;
  }
  // A host port that is not the number 0 is a host port.
  EXPECT_EQ(violation_path(with_container(json::parse(R"({"ports": [{"hostPort": "80"}]})")), PodSecurityLevel::Baseline),
            "spec.containers[0].ports[0].hostPort");
}

TEST(SetFieldPath, NamesTheSetFieldAUserWrote) {
  EXPECT_EQ(set_field_path("spec.containers[0].securityContext.privileged"), "spec.template.securityContext.privileged");
  EXPECT_EQ(set_field_path("spec.containers[0].securityContext.capabilities.add[1]"),
            "spec.template.securityContext.capabilities.add[1]");
  EXPECT_EQ(set_field_path("spec.securityContext.sysctls[0].name"), "spec.template.podSecurityContext.sysctls[0].name");
  EXPECT_EQ(set_field_path("metadata.annotations[\"a/b\"]"), "spec.template.podAnnotations[\"a/b\"]");
  EXPECT_EQ(set_field_path("spec.hostNetwork"), "the pod's spec.hostNetwork");
  EXPECT_EQ(set_field_path("spec.securityContextual"), "the pod's spec.securityContextual");
}

}  // namespace
}  // namespace electric
