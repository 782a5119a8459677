// YAML <-> JSON for the CLI (`render` reads set files and prints children).
//
//   auto docs = app::yaml_documents_to_json(text);   // every document
//   std::cout << app::json_to_yaml(object);
//
// Plain scalars are typed as YAML 1.2's core schema types them (true/false,
// null/~, integers, floats); quoted scalars stay strings. On output, a string
// (key or value) that any YAML reader, 1.1 or 1.2, would take for another type
// or could not read as a plain scalar is double-quoted: `"0": url`, `"007"`,
// `"yes"`, `""`.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/result.h"

namespace app {

kube::Result<std::vector<nlohmann::json>> yaml_documents_to_json(const std::string& text);
std::string json_to_yaml(const nlohmann::json& value);

}  // namespace app
