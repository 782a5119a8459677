#include "kube/pem.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "base/base64.h"

namespace kube {
namespace {

Error config_error(std::string message) {
  return Error{0, "ConfigError", std::move(message)};
}

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

std::unique_ptr<BIO, BioFree> memory_bio(const std::string& data) {
  return std::unique_ptr<BIO, BioFree>(
      BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

}  // namespace

Result<std::vector<std::shared_ptr<X509>>> parse_certificates(const std::string& pem,
                                                              const std::string& what) {
  auto bio = memory_bio(pem);
  std::vector<std::shared_ptr<X509>> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert, X509_free);
  }
  // The loop ends on "no more PEM blocks", which OpenSSL queues as an error;
  // clear it so it does not surface in an unrelated later call.
  const unsigned long last = ERR_peek_last_error();
  ERR_clear_error();
  if (certs.empty()) {
    return config_error(what + " holds no PEM certificate");
  }
  if (last != 0 && ERR_GET_REASON(last) != PEM_R_NO_START_LINE) {
    return config_error(what + " holds a malformed PEM certificate");
  }
  return certs;
}

Result<std::shared_ptr<EVP_PKEY>> parse_private_key(const std::string& pem,
                                                    const std::string& what) {
  auto bio = memory_bio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  if (key == nullptr) {
    return config_error(what + " holds no PEM private key (or it is encrypted)");
  }
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

Result<std::string> base64_decode(const std::string& text, const std::string& what) {
  std::string compact;
  for (char c : text)
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') compact.push_back(c);
  // Hand-written kubeconfigs sometimes drop the padding.
  if (compact.size() % 4 != 0) compact.append(4 - compact.size() % 4, '=');
  std::optional<std::string> decoded = base::base64_decode(compact);
  if (!decoded) return config_error(what + " is not valid base64");
  return *decoded;
}

}  // namespace kube
