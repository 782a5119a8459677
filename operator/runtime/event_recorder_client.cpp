// ClientEventSink lives apart from event_recorder.cpp so that unit tests of
// the recorder link without the Kubernetes client.
#include "kube/client.h"
#include "runtime/event_recorder.h"

namespace runtime {

kube::Result<nlohmann::json> ClientEventSink::create(const std::string& ns,
                                                     const nlohmann::json& event) {
  return client_.create(kube::kEvents, ns, event);
}

kube::Result<nlohmann::json> ClientEventSink::patch(const std::string& ns,
                                                    const std::string& name,
                                                    const nlohmann::json& merge_patch) {
  return client_.merge_patch(kube::kEvents, ns, name, merge_patch);
}

}  // namespace runtime
