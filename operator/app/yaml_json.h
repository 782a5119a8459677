// YAML <-> JSON for the CLI (`render` reads set files and prints children).
//
//   auto docs = app::yaml_documents_to_json(text);   // every document
//   std::cout << app::json_to_yaml(object);
//
// Plain scalars are typed as YAML 1.2's core schema types them (true/false,
// null/~, integers, floats); quoted scalars stay strings. Strings that would
// read back as another type are quoted on output.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/result.h"

namespace app {

kube::Result<std::vector<nlohmann::json>> yaml_documents_to_json(const std::string& text);
std::string json_to_yaml(const nlohmann::json& value);

}  // namespace app
