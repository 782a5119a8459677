// Labels and selectors of the children (api.md "Labels on every child").
// Children never copy the set's labels or annotations and never carry
// app.kubernetes.io/instance.
//
//   obj["metadata"]["labels"] = electric::shard_labels("myapp", "0");
//   client.list(kDeployments, ns, {.label_selector = electric::children_selector("myapp")});
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace electric {

using Labels = std::map<std::string, std::string>;

// Per-shard children (Secret, PVC, Deployment, Service and the pod):
// name, managed-by, component=shard, shard-set=S, shard=X.
Labels shard_labels(std::string_view set_name, std::string_view shard_name);
// Per-set children: name, managed-by, component (shard for S-api-secret,
// routing for the ConfigMap), shard-set=S.
Labels set_labels(std::string_view set_name, std::string_view component);
// What Deployment and Service select on: shard-set=S, shard=X.
Labels shard_selector(std::string_view set_name, std::string_view shard_name);

// "app.kubernetes.io/managed-by=electric-operator": every child of every set,
// for the operator's watches.
std::string managed_children_selector();
// managed-by plus shard-set=S: the children of one set.
std::string children_selector(std::string_view set_name);

}  // namespace electric
