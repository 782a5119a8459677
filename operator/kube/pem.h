// PEM parsing shared by config loading (to reject bad files early, as values)
// and the cpprestsdk transport (to load them into each TLS context).
//
//   auto certs = kube::parse_certificates(cfg.ca_pem, "certificate-authority");
//   if (!certs.ok()) return certs.error();
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kube/result.h"

namespace kube {

// Every certificate in `pem`, in order; an Error naming `what` when there is
// none or one is malformed.
Result<std::vector<std::shared_ptr<X509>>> parse_certificates(const std::string& pem,
                                                              const std::string& what);
// The first private key in `pem` (PKCS#8, PKCS#1 RSA or SEC1 EC).
Result<std::shared_ptr<EVP_PKEY>> parse_private_key(const std::string& pem,
                                                    const std::string& what);

// Standard base64 (RFC 4648), whitespace ignored; an Error naming `what`
// on any other character.
Result<std::string> base64_decode(const std::string& text, const std::string& what);

}  // namespace kube
