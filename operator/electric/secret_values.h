// Reading the values a shard's Secret S-shard-X is made of, from the Secrets
// the set references, with the outcome the API contract asks for when one
// is missing (shard Pending, reason SecretNotFound). The caller supplies a
// SecretReader over its cache; nothing here reads a cluster. This is the one
// place secret values are read: plan_reconcile and shard_identities
// (reconcile_plan.h) go through it.
//
//   electric::SecretReader read = [&](const electric::SecretKeyRef& ref) {
//     const json* secret = cache.find(ns, ref.name);
//     return secret ? electric::lookup_secret_key(*secret, ref.key) : electric::SecretLookup{};
//   };
//   auto api = electric::resolve_api_secret(set, read, generated_value);
//   auto values = electric::resolve_shard_secret_values(shard, read, api);
//   if (!values) facts.secret_problem = values.error();   // names only, never values
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/expected.h"
#include "electric/render.h"
#include "electric/shard_set.h"

namespace electric {

// One key of a Secret in the set's namespace, as the caller found it.
struct SecretLookup {
  enum class State { Found, SecretMissing, KeyMissing, NotBase64 };
  State state = State::SecretMissing;
  std::string value;  // plain (decoded) value, when Found

  static SecretLookup found(std::string v) { return {State::Found, std::move(v)}; }
};

// Reads one referenced key; a default-constructed SecretLookup means the
// Secret does not exist.
using SecretReader = std::function<SecretLookup(const SecretKeyRef&)>;

// Key `key` of a Secret object as the API server returns it (base64 `data`).
// A null or non-object `secret` counts as missing.
SecretLookup lookup_secret_key(const nlohmann::json& secret, const std::string& key);

// The value of `ref`, or a message naming the Secret and key only
// (secret_not_found_message, secret_key_missing_message or
// secret_not_base64_message, status.h). All three keep the contract's reason
// SecretNotFound; the message tells them apart.
base::Expected<std::string, std::string> read_secret_key(const SecretKeyRef& ref, const SecretReader& read);

// ELECTRIC_SECRET for every shard of the set: apiSecretRef's value when set;
// otherwise `generated` (S-api-secret's value, which the reconciler creates
// before planning), or a message saying it does not exist yet.
base::Expected<std::string, std::string> resolve_api_secret(const ShardSet& set, const SecretReader& read,
                                                      const std::optional<std::string>& generated);

// DATABASE_URL (databaseURLSecretRef), the pooled URL when the shard
// references one, and ELECTRIC_SECRET from `api_secret`. The first missing
// Secret or key, in that order, is the error.
base::Expected<ShardSecretValues, std::string> resolve_shard_secret_values(
    const Shard& shard, const SecretReader& read, const base::Expected<std::string, std::string>& api_secret);

}  // namespace electric
