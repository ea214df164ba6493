// TLS for both services, every setting explicit (docs/conventions.md §9): TLS 1.2 minimum; TLS 1.2
// ciphers only ECDHE-(RSA|ECDSA)-AES(128|256)-GCM; TLS 1.3 suites only AES-128-GCM and
// AES-256-GCM; groups X25519, P-256, P-384; no compression, no renegotiation. Private keys are
// EVP_PKEYs from the key provider, so the handshake signature is made inside the token.
//
// Sockets are POCO's (Poco::Net::StreamSocket); the TLS record layer is OpenSSL driven directly
// over the socket's descriptor, so the handshake is completed, with a deadline, before a single
// protocol byte is read, and the TLS exporter is available for SCRAM channel binding.
#pragma once

#include <Poco/Net/StreamSocket.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sfts/ossl.hpp"

namespace sfts::net {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;
inline Deadline deadline_in(std::chrono::milliseconds d) { return Clock::now() + d; }

// The policy, in one place, exported for tests and documentation. AES-128 first, in the order
// the server prefers: 128-bit security like every other part of the system (X25519, P-256,
// RSA-3072, SHA-256), four fewer AES rounds per block than AES-256 on every byte moved, and
// the cipher OpenSSH uses by default (aes128-gcm). AES-256 stays acceptable for peers that
// prefer it.
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
inline constexpr const char* kTls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";
inline constexpr const char* kGroups = "X25519:P-256:P-384";

struct ServerTlsOptions {
    EVP_PKEY* key = nullptr;       // the server's token key (not owned; outlives the context)
    X509* cert = nullptr;          // its certificate
    X509* ca_cert = nullptr;       // sent as chain; trust anchor for client certificates
    bool require_client_cert = false;  // true on 8443, false on 8444
    const X509_CRL* crl = nullptr;     // revocation check of client certificates (8443)
};

struct ClientTlsOptions {
    // Trust anchor. nullptr only for enrollment, when the client has no CA yet: the server is
    // then authenticated by the enrollment HMAC proof over its certificate's fingerprint.
    X509* ca_cert = nullptr;
    EVP_PKEY* key = nullptr;  // client token key and certificate for 8443 (both or neither)
    X509* cert = nullptr;
    // Verified against the certificate (DNS name or IP address); required with ca_cert.
    // DNS names are also sent as SNI.
    std::string server_name;
};

class TlsContext {
public:
    static std::shared_ptr<TlsContext> server(const ServerTlsOptions& opts);
    static std::shared_ptr<TlsContext> client(const ClientTlsOptions& opts);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    // Replaces the CRL used for client certificates (after a revocation or SIGHUP). New
    // handshakes use it at once; established sessions are unaffected.
    void set_crl(const X509_CRL* crl);

    SSL_CTX* get() const { return ctx_; }
    bool is_server() const { return server_; }
    const std::string& server_name() const { return server_name_; }

private:
    TlsContext(SSL_CTX* ctx, bool server, std::string server_name);
    friend class TlsStream;  // SSL_new under store_mutex_, so set_crl never races it
    SSL_CTX* ctx_;
    bool server_;
    std::string server_name_;
    X509* ca_cert_ = nullptr;  // owned reference, for rebuilding the store in set_crl
    std::mutex store_mutex_;
};

// The server closed or reset the TCP connection before sending a single byte of TLS. sftsd
// does this to a source it refuses before any TLS work (blocked, connection rate or cap
// exceeded) and the kernel or POCO do it when the accept queue is full: unlike a TLS or
// certificate failure, trying again a little later can succeed. Kind io, as any lost connection.
class ClosedBeforeTls : public Error {
public:
    using Error::Error;
};

// One TLS connection over a connected POCO socket. Every blocking call takes a deadline;
// passing it raises Error(timeout). Not thread-safe: one thread drives a stream.
class TlsStream {
public:
    TlsStream(std::shared_ptr<TlsContext> ctx, Poco::Net::StreamSocket socket);
    ~TlsStream();
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    // Completes the handshake. A certificate the peer or we rejected: auth_failed with
    // OpenSSL's reason; a protocol version or cipher mismatch: protocol; deadline: timeout;
    // a client whose server hung up before answering at all: ClosedBeforeTls.
    void handshake(Deadline deadline);

    // Up to buf.size() bytes; 0 at a clean end of stream (the peer's close_notify). An EOF
    // without close_notify (possible truncation) is Error(io) "connection closed".
    std::size_t read_some(std::span<std::uint8_t> buf, Deadline deadline);
    void write_all(std::span<const std::uint8_t> data, Deadline deadline);

    // Bulk receiving (a file coming in): OpenSSL reads ahead into a 128 KiB buffer, one recv
    // for several records instead of two (header, then body) for each. Off again, the buffer
    // goes back to the default size once it is empty, so idle sessions hold no large buffer.
    // Reads stay correct either way: buffered bytes are always used before the socket's.
    void set_bulk_reads(bool on) noexcept;

    // RFC 9266 tls-exporter channel binding (32 bytes, label "EXPORTER-Channel-Binding").
    std::vector<std::uint8_t> channel_binding() const;

    ossl::X509Ptr peer_certificate() const;  // null when the peer sent none
    std::string version() const;             // "TLSv1.3"
    std::string cipher() const;              // "TLS_AES_128_GCM_SHA256"
    std::string peer_address() const;        // "127.0.0.1:53312"

    // Sends close_notify (best effort, bounded by the deadline) and closes the socket.
    void close(Deadline deadline);

private:
    void wait(int ssl_error, Deadline deadline, const char* what);
    [[noreturn]] void fail_tls(int ssl_error, int sys_errno, const char* what);
    void fail_with_peer_alert();  // throws the peer's alert if one is waiting; returns otherwise

    std::shared_ptr<TlsContext> ctx_;
    Poco::Net::StreamSocket socket_;
    SSL* ssl_ = nullptr;
    std::string peer_;     // kept from the start: logs want it after close() too
    bool closed_ = false;
    bool broken_ = false;  // a fatal TLS error happened: no close_notify may follow
    bool bulk_reads_ = false;
};

// set_bulk_reads(true) for a scope (a transfer being received), off on every way out.
class BulkReads {
public:
    explicit BulkReads(TlsStream& s) noexcept : s_(s) { s_.set_bulk_reads(true); }
    ~BulkReads() { s_.set_bulk_reads(false); }
    BulkReads(const BulkReads&) = delete;
    BulkReads& operator=(const BulkReads&) = delete;

private:
    TlsStream& s_;
};

}  // namespace sfts::net
