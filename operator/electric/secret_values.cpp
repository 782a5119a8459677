#include "electric/secret_values.h"

#include "electric/digest.h"
#include "electric/naming.h"
#include "electric/status.h"

namespace electric {

SecretLookup lookup_secret_key(const nlohmann::json& secret, const std::string& key) {
  if (!secret.is_object()) return {};
  SecretLookup missing_key{SecretLookup::State::KeyMissing, {}};
  auto data = secret.find("data");
  if (data == secret.end() || !data->is_object()) return missing_key;
  auto value = data->find(key);
  if (value == data->end() || !value->is_string()) return missing_key;
  auto decoded = base64_decode(value->get<std::string>());
  if (!decoded) return {SecretLookup::State::NotBase64, {}};
  return SecretLookup::found(std::move(*decoded));
}

base::Expected<std::string, std::string> read_secret_key(const SecretKeyRef& ref, const SecretReader& read) {
  using Out = base::Expected<std::string, std::string>;
  SecretLookup got = read(ref);
  switch (got.state) {
    case SecretLookup::State::Found: return std::move(got.value);
    case SecretLookup::State::KeyMissing: return Out::failure(secret_key_missing_message(ref));
    case SecretLookup::State::NotBase64: return Out::failure(secret_not_base64_message(ref));
    case SecretLookup::State::SecretMissing: break;
  }
  return Out::failure(secret_not_found_message(ref));
}

base::Expected<std::string, std::string> resolve_api_secret(const ShardSet& set, const SecretReader& read,
                                                      const std::optional<std::string>& generated) {
  using Out = base::Expected<std::string, std::string>;
  if (set.spec.api_secret_ref) return read_secret_key(*set.spec.api_secret_ref, read);
  if (generated) return *generated;
  return Out::failure("Secret \"" + api_secret_name(set.name) +
                      "\" (the generated API secret, used when spec.apiSecretRef is not set) "
                      "does not exist yet; the operator creates it");
}

base::Expected<ShardSecretValues, std::string> resolve_shard_secret_values(
    const Shard& shard, const SecretReader& read, const base::Expected<std::string, std::string>& api_secret) {
  using Out = base::Expected<ShardSecretValues, std::string>;
  ShardSecretValues values;
  auto url = read_secret_key(shard.database_url_secret_ref, read);
  if (!url) return Out::failure(url.error());
  values.database_url = std::move(url).value();
  if (shard.pooled_database_url_secret_ref) {
    auto pooled = read_secret_key(*shard.pooled_database_url_secret_ref, read);
    if (!pooled) return Out::failure(pooled.error());
    values.pooled_database_url = std::move(pooled).value();
  }
  if (!api_secret) return Out::failure(api_secret.error());
  values.electric_secret = *api_secret;
  return values;
}

}  // namespace electric
