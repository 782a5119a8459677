#include "kube/result.h"

namespace kube {

std::string Error::describe() const {
  std::string text;
  if (http_code != 0) text = std::to_string(http_code) + " ";
  text += reason.empty() ? std::string("Error") : reason;
  if (!message.empty()) text += ": " + message;
  return text;
}

}  // namespace kube
