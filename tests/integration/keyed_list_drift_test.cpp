// Issue 12 item 1: another manager changes the key of an entry in a keyed
// list the operator writes. Server-side apply then keeps that manager's
// entry beside ours; the operator removes what apply cannot undo (a second
// port named "http", which the API server refuses with 422 forever; a copy
// of our container under another name) and nothing else. One case per keyed
// list the operator writes, against the real API server.
#include <algorithm>
#include <functional>

#include <gtest/gtest.h>

#include "support.h"

namespace itest {
namespace {

constexpr const char* kChild = "k-shard-0";

class KeyedListDriftTest : public OperatorSuite {};

// Another manager's change of `resource` kChild: a JSON patch (RFC 6902)
// when `ops` is an array, else a merge patch, as `kubectl patch` sends.
void foreign_change(const kube::Resource& resource, const std::string& ns, const char* ops) {
  const json patch = json::parse(ops);
  auto changed = patch.is_array() ? client().json_patch(resource, ns, kChild, patch)
                                  : client().merge_patch(resource, ns, kChild, patch);
  ASSERT_TRUE(changed.ok()) << ops << ": " << changed.error().describe();
}

// `field` of each entry of the list at `pointer`, sorted: the order of a
// list two managers write is neither's to keep.
std::vector<std::string> names_at(const json& object, const char* pointer, const char* field = "name") {
  std::vector<std::string> out;
  const json::json_pointer ptr(pointer);
  if (object.contains(ptr))
    for (const json& entry : object[ptr]) out.push_back(entry.contains(field) ? entry[field].dump() : "-");
  std::sort(out.begin(), out.end());
  return out;
}

struct Case {
  const char* what;
  const kube::Resource* resource;
  const char* change;
  // Does the live object show the operator's state again (and the other
  // manager's own entries, which stay)?
  std::function<bool(const json& live, const json& before)> restored;
};

TEST_F(KeyedListDriftTest, EveryKeyedListIsRestoredAndOtherManagersOwnEntriesStay) {
  TestNamespace ns("keyed");
  put_secret(ns.name(), "pg-0", {{"url", pg_url(0)}});
  OperatorProcess op({"--namespace", ns.name()});
  apply_set(shard_set(ns.name(), "k", 1, "  imagePullSecrets: [{name: regcred}]\n"));
  ASSERT_TRUE(eventually([&] { return set_ready(ns.name(), "k", 1); }, 90s)) << op.log_tail();

  auto same_at = [](const char* pointer, const char* field = "name") {
    return [=](const json& live, const json& before) {
      return names_at(live, pointer, field) == names_at(before, pointer, field);
    };
  };
  const std::vector<Case> cases = {
      {"Service port number, by the issue's merge patch", &kube::kServices,
       R"({"spec":{"ports":[{"name":"http","port":4000,"targetPort":"http"}]}})", same_at("/spec/ports", "port")},
      {"Service port protocol", &kube::kServices, R"([{"op":"replace","path":"/spec/ports/0/protocol","value":"UDP"}])",
       same_at("/spec/ports", "protocol")},
      {"Service port moved while another manager adds its own", &kube::kServices,
       R"([{"op":"replace","path":"/spec/ports/0/port","value":4001},
           {"op":"add","path":"/spec/ports/-","value":{"name":"debug","port":9000,"targetPort":9000}}])",
       [](const json& live, const json& before) {
         std::vector<std::string> want = names_at(before, "/spec/ports", "port");
         want.push_back("9000");
         std::sort(want.begin(), want.end());
         return names_at(live, "/spec/ports", "port") == want;
       }},
      {"container port", &kube::kDeployments,
       R"([{"op":"replace","path":"/spec/template/spec/containers/0/ports/0/containerPort","value":4000}])",
       same_at("/spec/template/spec/containers/0/ports", "containerPort")},
      {"container name", &kube::kDeployments,
       R"([{"op":"replace","path":"/spec/template/spec/containers/0/name","value":"electric-renamed"}])",
       same_at("/spec/template/spec/containers")},
      {"volume mount path", &kube::kDeployments,
       R"([{"op":"replace","path":"/spec/template/spec/containers/0/volumeMounts/0/mountPath","value":"/elsewhere"}])",
       same_at("/spec/template/spec/containers/0/volumeMounts", "mountPath")},
      {"volume name (and its mount, or the API server refuses the change)", &kube::kDeployments,
       R"([{"op":"replace","path":"/spec/template/spec/volumes/0/name","value":"data2"},
           {"op":"replace","path":"/spec/template/spec/containers/0/volumeMounts/0/name","value":"data2"}])",
       [&](const json& live, const json& before) {
         return same_at("/spec/template/spec/volumes")(live, before) &&
                same_at("/spec/template/spec/containers/0/volumeMounts")(live, before);
       }},
      // A renamed env var or pull secret may be the other manager's own
      // (values repeat): ours comes back, theirs stays.
      {"env var name", &kube::kDeployments,
       R"([{"op":"replace","path":"/spec/template/spec/containers/0/env/0/name","value":"RENAMED_BY_HAND"}])",
       [&](const json& live, const json& before) {
         std::vector<std::string> want = names_at(before, "/spec/template/spec/containers/0/env");
         want.push_back("\"RENAMED_BY_HAND\"");
         std::sort(want.begin(), want.end());
         return names_at(live, "/spec/template/spec/containers/0/env") == want;
       }},
      {"image pull secret name", &kube::kDeployments,
       R"([{"op":"replace","path":"/spec/template/spec/imagePullSecrets/0/name","value":"other"}])",
       [](const json& live, const json&) {
         return names_at(live, "/spec/template/spec/imagePullSecrets") ==
                std::vector<std::string>{"\"other\"", "\"regcred\""};
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const json before = get_object(*c.resource, ns.name(), kChild);
    foreign_change(*c.resource, ns.name(), c.change);
    json live;
    EXPECT_TRUE(eventually([&] {
      live = get_object(*c.resource, ns.name(), kChild);
      return c.restored(live, before);
    }, 30s)) << live.dump() << "\n" << op.log_tail();
  }
  ASSERT_TRUE(eventually([&] { return set_ready(ns.name(), "k", 1); }, 60s)) << op.log_tail();
  // Restored, not fought over: the next reconcile writes nothing.
  EXPECT_TRUE(reconciles_without_writing(op, ns.name(), "k"));
  EXPECT_EQ(op.log_tail().find("Duplicate value"), std::string::npos) << op.log_tail();
}

// A child the API server refuses (here: over the namespace's quota of
// Services) must not hold back the set's other children nor its status.
TEST_F(KeyedListDriftTest, ARefusedChildHoldsBackNeitherTheOtherChildrenNorTheStatus) {
  TestNamespace ns("refused");
  for (int i = 0; i < 2; ++i) put_secret(ns.name(), "pg-" + std::to_string(i), {{"url", pg_url(i)}});
  const kube::Resource quotas{"v1", "resourcequotas", "ResourceQuota", true};
  auto quota = client().create(quotas, ns.name(),
                               json::parse(R"({"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"one-service"},
                                               "spec":{"hard":{"services":"1"}}})"));
  ASSERT_TRUE(quota.ok()) << quota.error().describe();
  // Until the quota controller has counted, the API server refuses every
  // Service in the namespace.
  ASSERT_TRUE(eventually([&] {
    return get_object(quotas, ns.name(), "one-service").contains(json::json_pointer("/status/hard/services"));
  }, 30s));
  OperatorProcess op({"--namespace", ns.name()});
  apply_set(shard_set(ns.name(), "q", 2));
  ASSERT_TRUE(eventually([&] {
    return count_objects(kube::kDeployments, ns.name(), "electric-operator.dev/shard-set=q") == 2 &&
           count_objects(kube::kServices, ns.name(), "electric-operator.dev/shard-set=q") == 1 &&
           get_object(shard_sets(), ns.name(), "q").value(json::json_pointer("/status/shards"), json::array()).size() == 2;
  }, 60s)) << op.log_tail();
  ASSERT_TRUE(client().remove(quotas, ns.name(), "one-service").ok());
  EXPECT_TRUE(eventually([&] { return set_ready(ns.name(), "q", 2); }, 90s)) << op.log_tail();
}

}  // namespace
}  // namespace itest
