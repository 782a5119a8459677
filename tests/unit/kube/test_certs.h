// Throwaway PKI for tests: a CA and certificates it signs, as PEM text, made
// in-process with OpenSSL (EC P-256, so it takes milliseconds).
//
//   auto ca = kube_test::make_ca("test-ca");
//   auto server = kube_test::make_leaf(ca, "apiserver", {"IP:127.0.0.1"}, true);
#pragma once

#include <string>
#include <vector>

namespace kube_test {

struct Pem {
  std::string cert;
  std::string key;
};

Pem make_ca(const std::string& common_name);
// `sans` in OpenSSL's syntax ("IP:127.0.0.1", "DNS:kubernetes"); `server`
// picks serverAuth, else clientAuth.
Pem make_leaf(const Pem& ca, const std::string& common_name,
              const std::vector<std::string>& sans, bool server);

// A temporary folder removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `content` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

std::string base64(const std::string& bytes);

}  // namespace kube_test
