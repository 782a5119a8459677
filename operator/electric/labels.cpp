#include "electric/labels.h"

#include "electric/constants.h"

namespace electric {

Labels set_labels(std::string_view set_name, std::string_view component) {
  return {
      {std::string(kLabelName), std::string(kLabelNameValue)},
      {std::string(kLabelManagedBy), std::string(kLabelManagedByValue)},
      {std::string(kLabelComponent), std::string(component)},
      {std::string(kLabelShardSet), std::string(set_name)},
  };
}

Labels shard_labels(std::string_view set_name, std::string_view shard_name) {
  Labels labels = set_labels(set_name, kComponentShard);
  labels.emplace(std::string(kLabelShard), std::string(shard_name));
  return labels;
}

Labels shard_selector(std::string_view set_name, std::string_view shard_name) {
  return {
      {std::string(kLabelShardSet), std::string(set_name)},
      {std::string(kLabelShard), std::string(shard_name)},
  };
}

std::string managed_children_selector() {
  return std::string(kLabelManagedBy) + "=" + std::string(kLabelManagedByValue);
}

std::string children_selector(std::string_view set_name) {
  return managed_children_selector() + "," + std::string(kLabelShardSet) + "=" +
         std::string(set_name);
}

}  // namespace electric
