#include "electric/pod_security.h"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <vector>

namespace electric {

using nlohmann::json;

namespace {

// The controls follow the Pod Security Standards
// (kubernetes.io/docs/concepts/security/pod-security-standards) as Pod
// Security admission checks them for Kubernetes 1.29 and later.

constexpr std::array<std::string_view, 13> kBaselineCapabilities = {
    "AUDIT_WRITE",      "CHOWN",   "DAC_OVERRIDE", "FOWNER",  "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID",       "SETPCAP", "SETUID", "SYS_CHROOT",
};
constexpr std::array<std::string_view, 10> kSafeSysctls = {
    "kernel.shm_rmid_forced",      "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",     "net.ipv4.ping_group_range",    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",     "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
};
constexpr std::array<std::string_view, 5> kBaselineSELinuxTypes = {
    "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t",
};
constexpr std::array<std::string_view, 8> kRestrictedVolumeTypes = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
};
constexpr std::string_view kAppArmorAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/";

template <std::size_t N>
bool one_of(const std::array<std::string_view, N>& allowed, std::string_view value) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

// The member at `keys` below `j`, or nullptr when any step is missing or null.
const json* at(const json& j, std::initializer_list<const char*> keys) {
  const json* v = &j;
  for (const char* key : keys) {
    if (!v->is_object()) return nullptr;
    auto it = v->find(key);
    if (it == v->end() || it->is_null()) return nullptr;
    v = &*it;
  }
  return v;
}

bool is_true(const json* v) { return v && v->is_boolean() && v->get<bool>(); }
std::string text(const json* v) { return v && v->is_string() ? v->get<std::string>() : std::string(); }
std::string quoted(const std::string& s) { return "\"" + s + "\""; }
std::string index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

struct Found {
  std::string path;
  std::string message;
};
using Result = std::optional<Found>;

struct Container {
  std::string path;  // "spec.containers[0]"
  const json& body;
  const json& security_context() const {
    static const json none = json::object();
    const json* sc = at(body, {"securityContext"});
    return sc ? *sc : none;
  }
};

struct Pod {
  const json& metadata;
  const json& spec;
  std::vector<Container> containers;  // init, regular and ephemeral alike

  const json& security_context() const {
    static const json none = json::object();
    const json* sc = at(spec, {"securityContext"});
    return sc ? *sc : none;
  }
};

Pod view(const json& pod_template) {
  static const json none = json::object();
  const json* metadata = at(pod_template, {"metadata"});
  const json* spec = at(pod_template, {"spec"});
  Pod pod{metadata ? *metadata : none, spec ? *spec : none, {}};
  for (const char* kind : {"initContainers", "containers", "ephemeralContainers"}) {
    const json* list = at(pod.spec, {kind});
    if (!list || !list->is_array()) continue;
    for (std::size_t i = 0; i < list->size(); ++i)
      pod.containers.push_back({index(std::string("spec.") + kind, i), (*list)[i]});
  }
  return pod;
}

// --- baseline ---------------------------------------------------------------

Result host_namespaces(const Pod& pod) {
  for (const char* field : {"hostNetwork", "hostPID", "hostIPC"})
    if (is_true(at(pod.spec, {field})))
      return Found{std::string("spec.") + field, "sharing the host's namespaces is not allowed"};
  return std::nullopt;
}

Result host_process(const Pod& pod) {
  if (is_true(at(pod.security_context(), {"windowsOptions", "hostProcess"})))
    return Found{"spec.securityContext.windowsOptions.hostProcess", "Windows host processes are not allowed"};
  for (const auto& c : pod.containers)
    if (is_true(at(c.security_context(), {"windowsOptions", "hostProcess"})))
      return Found{c.path + ".securityContext.windowsOptions.hostProcess", "Windows host processes are not allowed"};
  return std::nullopt;
}

Result privileged(const Pod& pod) {
  for (const auto& c : pod.containers)
    if (is_true(at(c.security_context(), {"privileged"})))
      return Found{c.path + ".securityContext.privileged", "privileged containers are not allowed"};
  return std::nullopt;
}

Result capabilities_baseline(const Pod& pod) {
  for (const auto& c : pod.containers) {
    const json* add = at(c.security_context(), {"capabilities", "add"});
    if (!add || !add->is_array()) continue;
    for (std::size_t i = 0; i < add->size(); ++i) {
      const std::string cap = text(&(*add)[i]);
      if (!one_of(kBaselineCapabilities, cap))
        return Found{index(c.path + ".securityContext.capabilities.add", i),
                     "capability " + quoted(cap) + " is beyond the baseline set (AUDIT_WRITE, CHOWN, "
                     "DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, "
                     "SETPCAP, SETUID, SYS_CHROOT)"};
    }
  }
  return std::nullopt;
}

Result host_path_volumes(const Pod& pod) {
  const json* volumes = at(pod.spec, {"volumes"});
  if (!volumes || !volumes->is_array()) return std::nullopt;
  for (std::size_t i = 0; i < volumes->size(); ++i)
    if (at((*volumes)[i], {"hostPath"}))
      return Found{index("spec.volumes", i) + ".hostPath", "hostPath volumes are not allowed"};
  return std::nullopt;
}

Result host_ports(const Pod& pod) {
  for (const auto& c : pod.containers) {
    const json* ports = at(c.body, {"ports"});
    if (!ports || !ports->is_array()) continue;
    for (std::size_t i = 0; i < ports->size(); ++i) {
      const json* port = at((*ports)[i], {"hostPort"});
      if (port && !(port->is_number_integer() && port->get<int64_t>() == 0))
        return Found{index(c.path + ".ports", i) + ".hostPort", "host ports are not allowed"};
    }
  }
  return std::nullopt;
}

Result apparmor_profile(const json& sc, const std::string& path) {
  const std::string type = text(at(sc, {"appArmorProfile", "type"}));
  if (!type.empty() && type != "RuntimeDefault" && type != "Localhost")
    return Found{path + ".appArmorProfile.type", "AppArmor profile " + quoted(type) +
                                                     " is not allowed (RuntimeDefault or Localhost)"};
  return std::nullopt;
}

Result apparmor(const Pod& pod) {
  if (auto found = apparmor_profile(pod.security_context(), "spec.securityContext")) return found;
  for (const auto& c : pod.containers)
    if (auto found = apparmor_profile(c.security_context(), c.path + ".securityContext")) return found;
  const json* annotations = at(pod.metadata, {"annotations"});
  if (!annotations || !annotations->is_object()) return std::nullopt;
  for (auto it = annotations->begin(); it != annotations->end(); ++it) {
    if (it.key().rfind(kAppArmorAnnotationPrefix, 0) != 0) continue;
    const std::string value = text(&it.value());
    if (value != "runtime/default" && value.rfind("localhost/", 0) != 0)
      return Found{"metadata.annotations[" + quoted(it.key()) + "]",
                   "AppArmor profile " + quoted(value) + " is not allowed (runtime/default or localhost/*)"};
  }
  return std::nullopt;
}

Result selinux_options(const json& sc, const std::string& path) {
  const json* options = at(sc, {"seLinuxOptions"});
  if (!options) return std::nullopt;
  const std::string type = text(at(*options, {"type"}));
  if (!one_of(kBaselineSELinuxTypes, type))
    return Found{path + ".seLinuxOptions.type",
                 "SELinux type " + quoted(type) +
                     " is not allowed (container_t, container_init_t, container_kvm_t, container_engine_t)"};
  for (const char* field : {"user", "role"})
    if (!text(at(*options, {field})).empty())
      return Found{path + ".seLinuxOptions." + field, std::string("setting the SELinux ") + field + " is not allowed"};
  return std::nullopt;
}

Result selinux(const Pod& pod) {
  if (auto found = selinux_options(pod.security_context(), "spec.securityContext")) return found;
  for (const auto& c : pod.containers)
    if (auto found = selinux_options(c.security_context(), c.path + ".securityContext")) return found;
  return std::nullopt;
}

Result proc_mount(const Pod& pod) {
  for (const auto& c : pod.containers) {
    const std::string mount = text(at(c.security_context(), {"procMount"}));
    if (!mount.empty() && mount != "Default")
      return Found{c.path + ".securityContext.procMount", "procMount " + quoted(mount) + " is not allowed (Default)"};
  }
  return std::nullopt;
}

// Seccomp annotations are not checked: kubelets since 1.27 ignore them, and
// the operator needs 1.29.
Result seccomp_baseline(const Pod& pod) {
  if (text(at(pod.security_context(), {"seccompProfile", "type"})) == "Unconfined")
    return Found{"spec.securityContext.seccompProfile.type", "seccomp profile \"Unconfined\" is not allowed"};
  for (const auto& c : pod.containers)
    if (text(at(c.security_context(), {"seccompProfile", "type"})) == "Unconfined")
      return Found{c.path + ".securityContext.seccompProfile.type", "seccomp profile \"Unconfined\" is not allowed"};
  return std::nullopt;
}

Result sysctls(const Pod& pod) {
  const json* list = at(pod.security_context(), {"sysctls"});
  if (!list || !list->is_array()) return std::nullopt;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string name = text(at((*list)[i], {"name"}));
    if (!one_of(kSafeSysctls, name))
      return Found{index("spec.securityContext.sysctls", i) + ".name",
                   "sysctl " + quoted(name) + " is not in the safe set"};
  }
  return std::nullopt;
}

// --- restricted -------------------------------------------------------------

Result volume_types(const Pod& pod) {
  const json* volumes = at(pod.spec, {"volumes"});
  if (!volumes || !volumes->is_array()) return std::nullopt;
  for (std::size_t i = 0; i < volumes->size(); ++i) {
    const json& volume = (*volumes)[i];
    if (!volume.is_object()) continue;
    for (auto it = volume.begin(); it != volume.end(); ++it)
      if (it.key() != "name" && !it->is_null() && !one_of(kRestrictedVolumeTypes, it.key()))
        return Found{index("spec.volumes", i) + "." + it.key(),
                     "volume type " + quoted(it.key()) + " is not allowed (configMap, csi, downwardAPI, "
                     "emptyDir, ephemeral, persistentVolumeClaim, projected, secret)"};
  }
  return std::nullopt;
}

Result privilege_escalation(const Pod& pod) {
  for (const auto& c : pod.containers) {
    const json* allow = at(c.security_context(), {"allowPrivilegeEscalation"});
    if (!allow || !allow->is_boolean() || allow->get<bool>())
      return Found{c.path + ".securityContext.allowPrivilegeEscalation", "must be false"};
  }
  return std::nullopt;
}

Result run_as_non_root(const Pod& pod) {
  const json* pod_level = at(pod.security_context(), {"runAsNonRoot"});
  if (pod_level && pod_level->is_boolean() && !pod_level->get<bool>())
    return Found{"spec.securityContext.runAsNonRoot", "must not be false"};
  for (const auto& c : pod.containers) {
    const json* own = at(c.security_context(), {"runAsNonRoot"});
    if (own && own->is_boolean() && !own->get<bool>())
      return Found{c.path + ".securityContext.runAsNonRoot", "must not be false"};
    if (!is_true(own) && !is_true(pod_level))
      return Found{"spec.securityContext.runAsNonRoot", "must be true (here or in every container)"};
  }
  return std::nullopt;
}

Result run_as_user(const Pod& pod) {
  auto root = [](const json& sc) {
    const json* uid = at(sc, {"runAsUser"});
    return uid && uid->is_number_integer() && uid->get<int64_t>() == 0;
  };
  if (root(pod.security_context())) return Found{"spec.securityContext.runAsUser", "must not be 0 (root)"};
  for (const auto& c : pod.containers)
    if (root(c.security_context())) return Found{c.path + ".securityContext.runAsUser", "must not be 0 (root)"};
  return std::nullopt;
}

Result seccomp_restricted(const Pod& pod) {
  auto allowed = [](const std::string& type) { return type == "RuntimeDefault" || type == "Localhost"; };
  const std::string pod_type = text(at(pod.security_context(), {"seccompProfile", "type"}));
  if (!pod_type.empty() && !allowed(pod_type))
    return Found{"spec.securityContext.seccompProfile.type", "must be RuntimeDefault or Localhost"};
  for (const auto& c : pod.containers) {
    const std::string type = text(at(c.security_context(), {"seccompProfile", "type"}));
    if (type.empty() ? pod_type.empty() : !allowed(type))
      return Found{c.path + ".securityContext.seccompProfile.type",
                   "must be RuntimeDefault or Localhost (here or in the pod's securityContext)"};
  }
  return std::nullopt;
}

Result capabilities_restricted(const Pod& pod) {
  for (const auto& c : pod.containers) {
    const json* drop = at(c.security_context(), {"capabilities", "drop"});
    const bool drops_all = drop && drop->is_array() && std::find(drop->begin(), drop->end(), "ALL") != drop->end();
    if (!drops_all) return Found{c.path + ".securityContext.capabilities.drop", "must include \"ALL\""};
    const json* add = at(c.security_context(), {"capabilities", "add"});
    if (!add || !add->is_array()) continue;
    for (std::size_t i = 0; i < add->size(); ++i)
      if (text(&(*add)[i]) != "NET_BIND_SERVICE")
        return Found{index(c.path + ".securityContext.capabilities.add", i),
                     "only NET_BIND_SERVICE may be added"};
  }
  return std::nullopt;
}

struct Control {
  PodSecurityLevel level;  // the lowest level that has this control
  Result (*check)(const Pod&);
};

// The one list of rules. Order decides which violation is reported first.
constexpr Control kControls[] = {
    {PodSecurityLevel::Baseline, host_process},
    {PodSecurityLevel::Baseline, host_namespaces},
    {PodSecurityLevel::Baseline, privileged},
    {PodSecurityLevel::Baseline, capabilities_baseline},
    {PodSecurityLevel::Baseline, host_path_volumes},
    {PodSecurityLevel::Baseline, host_ports},
    {PodSecurityLevel::Baseline, apparmor},
    {PodSecurityLevel::Baseline, selinux},
    {PodSecurityLevel::Baseline, proc_mount},
    {PodSecurityLevel::Baseline, seccomp_baseline},
    {PodSecurityLevel::Baseline, sysctls},
    {PodSecurityLevel::Restricted, volume_types},
    {PodSecurityLevel::Restricted, privilege_escalation},
    {PodSecurityLevel::Restricted, run_as_non_root},
    {PodSecurityLevel::Restricted, run_as_user},
    {PodSecurityLevel::Restricted, seccomp_restricted},
    {PodSecurityLevel::Restricted, capabilities_restricted},
};

}  // namespace

const char* to_string(PodSecurityLevel level) {
  switch (level) {
    case PodSecurityLevel::Privileged: return "privileged";
    case PodSecurityLevel::Baseline: return "baseline";
    case PodSecurityLevel::Restricted: return "restricted";
  }
  return "baseline";
}

std::optional<PodSecurityLevel> parse_pod_security_level(std::string_view text) {
  for (auto level : {PodSecurityLevel::Privileged, PodSecurityLevel::Baseline, PodSecurityLevel::Restricted})
    if (text == to_string(level)) return level;
  return std::nullopt;
}

std::optional<PodSecurityViolation> check_pod_security(const json& pod_template, PodSecurityLevel required) {
  const Pod pod = view(pod_template);
  for (const Control& control : kControls) {
    if (control.level > required) continue;
    if (auto found = control.check(pod))
      return PodSecurityViolation{std::move(found->path), std::move(found->message), control.level};
  }
  return std::nullopt;
}

}  // namespace electric
