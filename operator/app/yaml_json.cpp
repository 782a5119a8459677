#include "app/yaml_json.h"

#include <regex>

#include <yaml-cpp/yaml.h>

namespace app {
namespace {

using nlohmann::json;

const std::regex& int_pattern() {
  static const std::regex re("^[-+]?(0|[1-9][0-9]*)$");
  return re;
}
const std::regex& float_pattern() {
  static const std::regex re(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
  return re;
}
bool is_null_word(const std::string& s) { return s == "null" || s == "Null" || s == "NULL" || s == "~"; }
bool is_bool_word(const std::string& s, bool& value) {
  if (s == "true" || s == "True" || s == "TRUE") { value = true; return true; }
  if (s == "false" || s == "False" || s == "FALSE") { value = false; return true; }
  return false;
}

json scalar_to_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  // yaml-cpp tags quoted scalars "!" and plain ones "?".
  if (node.Tag() == "!" || (node.Tag() != "?" && !node.Tag().empty())) return text;
  bool b;
  if (is_null_word(text) || text.empty()) return nullptr;
  if (is_bool_word(text, b)) return b;
  if (std::regex_match(text, int_pattern())) {
    try { return std::stoll(text); } catch (...) { return text; }
  }
  if (std::regex_match(text, float_pattern())) {
    try { return std::stod(text); } catch (...) { return text; }
  }
  return text;
}

json node_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return nullptr;
    case YAML::NodeType::Scalar: return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(node_to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = node_to_json(kv.second);
      return out;
    }
    default: return nullptr;
  }
}

bool needs_quotes(const std::string& s) {
  bool b;
  return s.empty() || is_null_word(s) || is_bool_word(s, b) ||
         std::regex_match(s, int_pattern()) || std::regex_match(s, float_pattern()) ||
         s == "yes" || s == "no" || s == "on" || s == "off" || s == "y" || s == "n";
}

void emit(YAML::Emitter& out, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      if (value.empty()) { out << YAML::Flow << YAML::BeginMap << YAML::EndMap; break; }
      out << YAML::BeginMap;
      for (const auto& [k, v] : value.items()) {
        out << YAML::Key << k << YAML::Value;
        emit(out, v);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      if (value.empty()) { out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq; break; }
      out << YAML::BeginSeq;
      for (const auto& v : value) emit(out, v);
      out << YAML::EndSeq;
      break;
    case json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      if (needs_quotes(s)) out << YAML::DoubleQuoted << s;
      else out << s;
      break;
    }
    case json::value_t::boolean: out << (value.get<bool>() ? "true" : "false"); break;
    case json::value_t::null: out << YAML::Null; break;
    default: out << value.dump(); break;
  }
}

}  // namespace

kube::Result<std::vector<json>> yaml_documents_to_json(const std::string& text) {
  try {
    std::vector<json> docs;
    for (const auto& node : YAML::LoadAll(text)) {
      if (node.IsNull()) continue;
      docs.push_back(node_to_json(node));
    }
    return docs;
  } catch (const YAML::Exception& e) {
    return kube::Error{0, "InvalidYAML", std::string("not valid YAML: ") + e.what()};
  }
}

std::string json_to_yaml(const json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  emit(out, value);
  return std::string(out.c_str()) + "\n";
}

}  // namespace app
