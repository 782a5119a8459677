#include "kube/pem.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

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
  auto value_of = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned int buffer = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const int v = value_of(c);
    if (v < 0 || padding) return config_error(what + " is not valid base64");
    buffer = (buffer << 6) | static_cast<unsigned int>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  if (bits >= 6) return config_error(what + " is not valid base64");
  return out;
}

}  // namespace kube
