#include "runtime/list_watch.h"

#include <utility>

namespace runtime {

ClientListWatcher::ClientListWatcher(kube::Client& client, kube::Resource resource,
                                     std::string ns, std::string label_selector,
                                     std::string field_selector)
    : client_(client),
      resource_(std::move(resource)),
      namespace_(std::move(ns)),
      label_selector_(std::move(label_selector)),
      field_selector_(std::move(field_selector)) {}

kube::Result<kube::ObjectList> ClientListWatcher::list_page(
    const kube::ListOptions& options) {
  kube::ListOptions selected = options;
  selected.label_selector = label_selector_;
  selected.field_selector = field_selector_;
  return client_.list(resource_, namespace_, selected);
}

kube::Done ClientListWatcher::watch(const kube::WatchOptions& options,
                                    const WatchEventHandler& on_event,
                                    kube::Cancellation& cancel) {
  kube::WatchOptions selected = options;
  selected.label_selector = label_selector_;
  selected.field_selector = field_selector_;
  return client_.watch(resource_, namespace_, selected, on_event, cancel);
}

std::string ClientListWatcher::describe() const {
  std::string text = resource_.plural;
  text += namespace_.empty() ? " in all namespaces" : " in namespace " + namespace_;
  if (!label_selector_.empty() || !field_selector_.empty()) {
    text += " (";
    text += label_selector_;
    if (!label_selector_.empty() && !field_selector_.empty()) text += ", ";
    text += field_selector_;
    text += ")";
  }
  return text;
}

}  // namespace runtime
