// The two API calls a Watcher needs, behind a small interface so the watch
// state machine is unit-tested against a scripted fake instead of a server.
//
//   runtime::ClientListWatcher children(client, kube::kConfigMaps, "",  // all ns
//       "app.kubernetes.io/managed-by=electric-operator");
//   runtime::Watcher watcher(children, sink, runtime::system_clock(), ...);
//
// ClientListWatcher lives in client_list_watcher.cpp, so tests that only use
// a fake ListWatcher do not link kube::Client.
#pragma once

#include <functional>
#include <string>

#include "kube/client.h"
#include "kube/resource.h"
#include "kube/result.h"
#include "kube/transport.h"

namespace runtime {

using WatchEventHandler = std::function<bool(const kube::WatchEvent&)>;

class ListWatcher {
 public:
  virtual ~ListWatcher() = default;

  // One page of the collection. Selectors are the ListWatcher's own; the
  // caller sets limit, continue_token and resource_version.
  virtual kube::Result<kube::ObjectList> list_page(const kube::ListOptions& options) = 0;

  // Streams events like kube::Client::watch: returns Done when the server
  // ends the stream, `cancel` fires or `on_event` returns false; Error when
  // the call fails (a 410 answer is Error{410}).
  virtual kube::Done watch(const kube::WatchOptions& options,
                           const WatchEventHandler& on_event,
                           kube::Cancellation& cancel) = 0;

  // "configmaps in all namespaces (app=x)", for logs.
  virtual std::string describe() const = 0;
};

// Lists and watches one resource through a kube::Client, which must outlive
// it. `ns` "" means all namespaces (or a cluster-scoped resource).
class ClientListWatcher final : public ListWatcher {
 public:
  ClientListWatcher(kube::Client& client, kube::Resource resource, std::string ns,
                    std::string label_selector = {}, std::string field_selector = {});

  kube::Result<kube::ObjectList> list_page(const kube::ListOptions& options) override;
  kube::Done watch(const kube::WatchOptions& options, const WatchEventHandler& on_event,
                   kube::Cancellation& cancel) override;
  std::string describe() const override;

 private:
  kube::Client& client_;
  kube::Resource resource_;
  std::string namespace_;
  std::string label_selector_;
  std::string field_selector_;
};

}  // namespace runtime
