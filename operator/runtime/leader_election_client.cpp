// ClientLeaseStore lives apart from leader_election.cpp so that unit tests
// of the elector link without the Kubernetes client.
#include "kube/client.h"
#include "runtime/leader_election.h"

namespace runtime {
namespace {

kube::Result<ObservedLease> to_observed(kube::Result<nlohmann::json> answer) {
  if (!answer.ok()) return answer.error();
  return lease_from_json(answer.value());
}

}  // namespace

ClientLeaseStore::ClientLeaseStore(kube::Client& client, std::string ns, std::string name)
    : client_(client), ns_(std::move(ns)), name_(std::move(name)) {}

kube::Result<ObservedLease> ClientLeaseStore::get() {
  return to_observed(client_.get(kube::kLeases, ns_, name_));
}

kube::Result<ObservedLease> ClientLeaseStore::create(const LeaseRecord& record) {
  return to_observed(client_.create(kube::kLeases, ns_, lease_to_json(ns_, name_, record, "")));
}

kube::Result<ObservedLease> ClientLeaseStore::update(const LeaseRecord& record,
                                                     const std::string& resource_version) {
  // PUT with metadata.resourceVersion: the API server answers 409 when the
  // Lease changed since we read it.
  return to_observed(client_.replace(kube::kLeases, ns_, name_,
                                     lease_to_json(ns_, name_, record, resource_version)));
}

}  // namespace runtime
