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
      for (const auto& kv : node) {
        const std::string key = kv.first.as<std::string>();
        // Refused as kubectl refuses it: which of the two was meant is
        // anyone's guess, and the one dropped may be the one that matters.
        if (out.contains(key)) throw YAML::ParserException(kv.first.Mark(), "duplicate key \"" + key + "\"");
        out[key] = node_to_json(kv.second);
      }
      return out;
    }
    default: return nullptr;
  }
}

// Written for every reader, not just this file's: kubectl and other YAML 1.1
// readers type more plain scalars than YAML 1.2's core schema does (007 as
// octal, yes/on as booleans, 1:30 as a number, 2024-01-01 as a timestamp).
// A string any of them would read as something else is quoted.
bool looks_like_another_type(const std::string& s) {
  static const std::regex word(R"(^(true|false|yes|no|on|off|y|n|null|~|<<|=)$)", std::regex::icase);
  static const std::regex number(
      R"(^[-+]?([0-9][0-9_]*|0x[0-9a-f_]+|0o[0-7_]+|0b[01_]+)$)"
      R"(|^[-+]?([0-9][0-9_]*)?\.[0-9_]*(e[-+]?[0-9]+)?$)"
      R"(|^[-+]?[0-9][0-9_]*(\.[0-9_]*)?e[-+]?[0-9]+$)"
      R"(|^[-+]?\.inf$|^\.nan$)"
      R"(|^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$)"
      R"(|^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([t ].*)?$)",
      std::regex::icase);
  return std::regex_match(s, word) || std::regex_match(s, number);
}

// What YAML's syntax forbids in a plain scalar: leading indicators, ": " and
// " #", surrounding blanks, control characters.
bool breaks_plain_syntax(const std::string& s) {
  const std::string always = ",[]{}#&*!|>'\"%@`";
  const char first = s.front();
  const bool blank_after_first = s.size() == 1 || s[1] == ' ' || s[1] == '\t';
  if (always.find(first) != std::string::npos) return true;
  if ((first == '-' || first == '?' || first == ':') && blank_after_first) return true;
  if (first == ' ' || first == '\t' || s.back() == ' ' || s.back() == '\t' || s.back() == ':') return true;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos ||
      s.find(":\t") != std::string::npos || s.find("\t#") != std::string::npos)
    return true;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

bool needs_quotes(const std::string& s) {
  return s.empty() || looks_like_another_type(s) || breaks_plain_syntax(s);
}

// Keys and values alike: a ConfigMap key "0" must stay the string "0".
void emit_string(YAML::Emitter& out, const std::string& s) {
  if (needs_quotes(s)) out << YAML::DoubleQuoted;
  out << s;
}

void emit(YAML::Emitter& out, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      if (value.empty()) { out << YAML::Flow << YAML::BeginMap << YAML::EndMap; break; }
      out << YAML::BeginMap;
      for (const auto& [k, v] : value.items()) {
        out << YAML::Key;
        emit_string(out, k);
        out << YAML::Value;
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
    case json::value_t::string: emit_string(out, value.get_ref<const std::string&>()); break;
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
