// The only file that knows cpprestsdk (and, through it, Boost.Asio): every
// exception it throws is caught here and becomes an Error value.
//
// cpprestsdk defines a macro named U, which breaks fmt (and so spdlog) if
// included after it: keep logging out of this file or include it first.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>
#include <pplx/pplxinterface.h>
#include <pplx/threadpool.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "kube/config.h"
#include "kube/pem.h"
#include "kube/token_source.h"

namespace kube {
namespace {

// Large enough that a busy watch is read in few calls, small enough to stay
// out of the way of memory accounting.
constexpr size_t kReadChunk = 64 * 1024;

// What cpprestsdk still has going on, for wait_for_cpprest_idle. Held by
// shared_ptr from everything that counts, since the library's threads and its
// static destructors may run after ours.
struct Activity {
  std::atomic<long> clients{0};  // http_clients whose library state still exists
  std::atomic<long> tasks{0};    // tasks queued on the thread pool or running
};

const std::shared_ptr<Activity>& activity() {
  static const auto shared = std::make_shared<Activity>();
  return shared;
}

// Lives as long as cpprestsdk's state for one http_client: it rides in the
// client config's TLS callback, and every internal copy of that config (the
// client, its connection pool, a request still completing after its caller
// gave up) holds it.
class ClientLifetime {
 public:
  ClientLifetime() : activity_(activity()) { ++activity_->clients; }
  ~ClientLifetime() { --activity_->clients; }
  ClientLifetime(const ClientLifetime&) = delete;
  ClientLifetime& operator=(const ClientLifetime&) = delete;

 private:
  std::shared_ptr<Activity> activity_;
};

// pplx's default scheduler posts each task to cpprestsdk's thread pool as a
// raw handle that only running the task frees. At exit the pool stops
// without running what is queued, so a response still completing then (a
// watch cut by SIGTERM) leaks. This scheduler posts the same way and counts
// what is queued, so the process can wait for the queue to empty first.
class CountingScheduler final : public pplx::scheduler_interface {
 public:
  void schedule(pplx::TaskProc_t proc, void* param) override {
    ++activity_->tasks;
    crossplat::threadpool::shared_instance().service().post([activity = activity_, proc, param] {
      struct Ran {
        Activity& activity;
        ~Ran() { --activity.tasks; }
      } ran{*activity};
      proc(param);
    });
  }

 private:
  const std::shared_ptr<Activity> activity_ = activity();
};

// Before the first task exists: pplx takes the ambient scheduler once.
void install_counting_scheduler() {
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      pplx::set_ambient_scheduler(std::make_shared<CountingScheduler>());
    } catch (const std::exception&) {
      // A task was made before any transport (not by this program today):
      // its scheduler stays, and wait_for_cpprest_idle sees only the clients.
    }
  });
}

// Why the last TLS handshake failed, in OpenSSL's terms: cpprestsdk only
// says "Error in SSL handshake". Handshakes with one server fail for one
// reason at a time, so one slot per transport is enough.
struct TlsFailure {
  bool we_refused = false;  // false: the server sent the fatal alert
  long verify_result = X509_V_OK;
  int alert = 0;
};

class TlsDiagnostics {
 public:
  void record(TlsFailure failure) {
    std::lock_guard<std::mutex> lock(mu_);
    last_ = failure;
  }
  std::optional<TlsFailure> take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(last_, std::nullopt);
  }

 private:
  std::mutex mu_;
  std::optional<TlsFailure> last_;
};

// What every new TLS connection of one transport loads. Owned by the
// ssl_context_callback (so by the http_client and its connections).
struct TlsMaterial {
  std::vector<std::shared_ptr<X509>> ca;
  std::vector<std::shared_ptr<X509>> client_chain;
  std::shared_ptr<EVP_PKEY> client_key;
  TlsDiagnostics diagnostics;
};

int diagnostics_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

void record_tls_alert(const SSL* ssl, int where, int ret) {
  constexpr int kFatal = 2;
  if ((where & SSL_CB_ALERT) == 0 || ((ret >> 8) & 0xFF) != kFatal) return;
  auto* diagnostics = static_cast<TlsDiagnostics*>(
      SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), diagnostics_index()));
  if (diagnostics == nullptr) return;
  diagnostics->record(
      TlsFailure{(where & SSL_CB_WRITE) != 0, SSL_get_verify_result(ssl), ret & 0xFF});
}

// "certificate verify failed: <why> (<what to check>)" and the like.
std::string explain(const TlsFailure& failure, const std::string& tls_host) {
  if (failure.we_refused) {
    if (failure.verify_result == X509_V_ERR_UNSPECIFIED || failure.verify_result == X509_V_OK) {
      // OpenSSL accepted the chain; the host name check (rfc2818) refused it.
      return "certificate verify failed: the server certificate is not valid for " + tls_host +
             " (is the server address, or tls-server-name, right?)";
    }
    return std::string("certificate verify failed: ") +
           X509_verify_cert_error_string(failure.verify_result) + " (is the cluster CA right?)";
  }
  constexpr int kBadCertificate = 42, kUnknownCa = 48, kCertificateRequired = 116;
  if (failure.alert == kCertificateRequired) {
    return "the API server requires a client certificate and got none it accepts (is the "
           "client certificate right?)";
  }
  if ((failure.alert >= kBadCertificate && failure.alert <= 46) || failure.alert == kUnknownCa) {
    return std::string("the API server refused the client certificate (") +
           SSL_alert_desc_string_long(failure.alert) +
           "; is the client certificate right?)";
  }
  return "the API server ended the handshake with TLS alert " + std::to_string(failure.alert);
}

void configure_tls(const std::shared_ptr<TlsMaterial>& material, boost::asio::ssl::context& ctx) {
  SSL_CTX* native = ctx.native_handle();
  if (!material->ca.empty()) {
    // The cluster CA replaces the system roots (as in client-go): a public CA
    // must not vouch for an API server.
    X509_STORE* store = X509_STORE_new();
    for (const auto& cert : material->ca) X509_STORE_add_cert(store, cert.get());
    SSL_CTX_set_cert_store(native, store);  // takes ownership
  }
  if (!material->client_chain.empty()) {
    SSL_CTX_use_certificate(native, material->client_chain.front().get());
    for (size_t i = 1; i < material->client_chain.size(); ++i) {
      SSL_CTX_add1_chain_cert(native, material->client_chain[i].get());
    }
    SSL_CTX_use_PrivateKey(native, material->client_key.get());
  }
  SSL_CTX_set_ex_data(native, diagnostics_index(), &material->diagnostics);
  SSL_CTX_set_info_callback(native, record_tls_alert);
}

std::string strip_brackets(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(strip_brackets(host), ec);
  return !ec;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string path_only(const std::string& path_and_query) {
  return path_and_query.substr(0, path_and_query.find('?'));
}

class CpprestTransport final : public Transport {
 public:
  CpprestTransport(const ClusterConfig& config, TransportUse use,
                   std::chrono::seconds timeout)
      : server_(config.server),
        tls_server_name_(config.tls_server_name),
        use_(use),
        timeout_(timeout.count() > 0              ? timeout
                 : use == TransportUse::Watches ? kDefaultWatchIdleTimeout
                                                : kDefaultRequestTimeout),
        tokens_(config.bearer_token, config.bearer_token_file),
        material_(std::make_shared<TlsMaterial>()) {
    // OpenSSL frees each thread's state at thread exit only until its own
    // atexit cleanup has run. Initialising it before cpprestsdk creates its
    // (function-static) thread pool orders that cleanup after the pool's
    // threads are joined at exit; otherwise their state is leaked and
    // LeakSanitizer says so.
    OPENSSL_init_ssl(0, nullptr);
    install_counting_scheduler();
    web::uri base;
    try {
      base = web::uri(utility::conversions::to_string_t(config.server));
    } catch (const std::exception& e) {
      throw std::invalid_argument("API server address \"" + config.server +
                                  "\" is not a URL: " + e.what());
    }
    host_ = base.host() + ":" + std::to_string(base.port());

    if (!config.ca_pem.empty()) material_->ca = must(parse_certificates(config.ca_pem, "CA"));
    if (!config.client_cert_pem.empty()) {
      material_->client_chain =
          must(parse_certificates(config.client_cert_pem, "client certificate"));
      material_->client_key = must(parse_private_key(config.client_key_pem, "client key"));
    }

    web::http::client::http_client_config http_config;
    http_config.set_timeout(timeout_);
    // Verification stays on unless the kubeconfig itself asked otherwise
    // (config loading already warned about it).
    http_config.set_validate_certificates(!config.insecure_skip_tls_verify);
    // cpprestsdk verifies (and names in SNI) the Host header's value when
    // one is set, else the URL's host. SNI must not carry an IP address
    // (RFC 6066), so it is only sent for names.
    tls_host_ = tls_server_name_.empty() ? base.host() : tls_server_name_;
    http_config.set_tlsext_sni_enabled(!is_ip_literal(tls_host_));
    auto material = material_;
    auto lifetime = std::make_shared<ClientLifetime>();
    http_config.set_ssl_context_callback([material, lifetime](boost::asio::ssl::context& ctx) {
      configure_tls(material, ctx);
    });
    client_ = std::make_unique<web::http::client::http_client>(base, http_config);
  }

  Result<HttpResponse> send(const HttpRequest& request) override {
    try {
      web::http::http_request outgoing = to_cpprest(request);
      web::http::http_response response = client_->request(outgoing).get();
      HttpResponse answer = from_cpprest(response);
      const std::vector<unsigned char> body = response.extract_vector().get();
      answer.body.assign(body.begin(), body.end());
      return answer;
    } catch (...) {
      return failure(std::current_exception(), request);
    }
  }

  Result<HttpResponse> stream_lines(const HttpRequest& request,
                                    const std::function<bool(std::string_view line)>& on_line,
                                    Cancellation& cancel) override {
    // Cancelling the token makes cpprestsdk close the socket, which ends a
    // read blocked anywhere: connecting, waiting for headers or for a line.
    pplx::cancellation_token_source abort;
    const auto registration = cancel.on_cancel([abort] { abort.cancel(); });
    struct Unregister {
      Cancellation& cancel;
      Cancellation::CallbackId id;
      ~Unregister() { cancel.remove_on_cancel(id); }
    } unregister{cancel, registration};

    try {
      web::http::http_request outgoing = to_cpprest(request);
      web::http::http_response response = client_->request(outgoing, abort.get_token()).get();
      HttpResponse answer = from_cpprest(response);
      if (answer.status != 200) {
        const std::vector<unsigned char> body = response.extract_vector().get();
        answer.body.assign(body.begin(), body.end());
        return answer;
      }

      // The body arrives in a producer/consumer buffer that cpprestsdk fills
      // as chunks come in. getn() waits for the whole count, so ask for what
      // is there, or for one byte when nothing is.
      auto body = response.body().streambuf();
      LineFramer framer;
      std::vector<uint8_t> chunk(kReadChunk);
      bool stopped = false;
      while (!stopped && !cancel.cancelled()) {
        const size_t available = body.in_avail();
        const size_t want = available == 0 ? 1 : std::min(available, chunk.size());
        const size_t got = body.getn(chunk.data(), want).get();
        if (got == 0) break;  // the server ended the body
        stopped = !framer.feed(
            std::string_view(reinterpret_cast<const char*>(chunk.data()), got), on_line);
      }
      if (stopped || cancel.cancelled()) {
        abort.cancel();  // the rest of the stream is unwanted: drop the connection
      } else {
        framer.finish(on_line);
      }
      return answer;
    } catch (...) {
      if (cancel.cancelled()) return Error{0, "Cancelled", "the watch was cancelled"};
      return failure(std::current_exception(), request);
    }
  }

  std::string host() const override { return host_; }

 private:
  template <class T>
  static T must(Result<T> parsed) {
    // Config loading validated the PEM already; failing here is a programmer
    // error (a ClusterConfig built by hand), so an exception is right.
    if (!parsed.ok()) throw std::invalid_argument(parsed.error().message);
    return std::move(parsed).value();
  }

  web::http::http_request to_cpprest(const HttpRequest& request) {
    web::http::http_request outgoing(utility::conversions::to_string_t(request.method));
    outgoing.set_request_uri(web::uri(utility::conversions::to_string_t(request.path_and_query)));
    for (const auto& [name, value] : request.headers) outgoing.headers().add(name, value);
    outgoing.headers().add("User-Agent", "electric-operator");
    if (!tls_server_name_.empty()) outgoing.headers().add("Host", tls_server_name_);
    const std::string token = tokens_.token();
    if (!token.empty()) outgoing.headers().add("Authorization", "Bearer " + token);
    if (!request.body.empty()) {
      // A byte vector, not a std::string: cpprestsdk reads a string body
      // through a char/uint8_t type pun that UBSan rightly rejects. The
      // Content-Type header set above is kept.
      outgoing.set_body(std::vector<unsigned char>(request.body.begin(), request.body.end()));
    }
    return outgoing;
  }

  static HttpResponse from_cpprest(const web::http::http_response& response) {
    HttpResponse answer;
    answer.status = response.status_code();
    for (const auto& [name, value] : response.headers()) {
      answer.headers[lower(name)] = value;
    }
    return answer;
  }

  Error failure(std::exception_ptr thrown, const HttpRequest& request) {
    std::string what;
    std::error_code code;
    try {
      std::rethrow_exception(thrown);
    } catch (const web::http::http_exception& e) {
      what = e.what();
      code = e.error_code();
    } catch (const pplx::task_canceled&) {
      what = "cancelled";
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      what = "unknown error";
    }
    const std::optional<TlsFailure> tls_failure = material_->diagnostics.take();
    const std::string target = request.method + " " + server_ + path_only(request.path_and_query);
    std::string message;
    if (tls_failure) {
      message = "TLS handshake with " + server_ + " failed: " + explain(*tls_failure, tls_host_);
    } else if (what.find("SSL handshake") != std::string::npos) {
      message = "TLS handshake with " + server_ + " failed: " + what +
                " (is the cluster CA right?)";
    } else if (what.find("Error resolving address") != std::string::npos &&
               host_.front() == '[') {
      message = target + " failed: cpprestsdk cannot connect to an IPv6 address literal; "
                         "give the API server a host name instead";
    } else if (what.find("Failed to connect") != std::string::npos) {
      // cpprestsdk reports a refused connection as "host unreachable", so its
      // error code would mislead; say what is known.
      message = target + " failed: cannot connect to the API server (" + what + ")";
    } else if (code == std::errc::timed_out && use_ == TransportUse::Watches) {
      return Error{0, kWatchIdleReason,
                   target + " sent nothing for " + std::to_string(timeout_.count()) + "s (no event, no bookmark)"};
    } else if (code == std::errc::timed_out) {
      message = target + " timed out after " + std::to_string(timeout_.count()) +
                "s without data from the API server";
    } else {
      message = target + " failed: " + what;
      if (code && what.find(code.message()) == std::string::npos) {
        message += " (" + code.message() + ")";
      }
    }
    return Error{0, "TransportError", message};
  }

  const std::string server_;
  const std::string tls_server_name_;
  const TransportUse use_;
  const std::chrono::seconds timeout_;
  std::string host_;
  std::string tls_host_;  // the name the server certificate must carry
  BearerTokenSource tokens_;
  std::shared_ptr<TlsMaterial> material_;
  std::unique_ptr<web::http::client::http_client> client_;
};

}  // namespace

std::shared_ptr<Transport> make_cpprest_transport(const ClusterConfig& config, TransportUse use,
                                                  std::chrono::seconds timeout) {
  return std::make_shared<CpprestTransport>(config, use, timeout);
}

bool wait_for_cpprest_idle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const Activity& now = *activity();
  // Clients first: while one exists, its I/O may still queue tasks; once none
  // does, only a running task queues another, and it is counted until done.
  while (now.clients.load() != 0 || now.tasks.load() != 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace kube
