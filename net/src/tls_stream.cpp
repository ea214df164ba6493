// One TLS connection: OpenSSL's state machine driven over a non-blocking POCO socket, every
// wait bounded by poll() and the caller's deadline.
#include <Poco/Exception.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <system_error>

#include "sfts/net/tls.hpp"
#include "tls_errors.hpp"

namespace sfts::net {

using ossl::check;
using ossl::check_ptr;

namespace {

using SslPtr = std::unique_ptr<SSL, ossl::Deleter<SSL_free>>;
using BioMethodPtr = std::unique_ptr<BIO_METHOD, ossl::Deleter<BIO_meth_free>>;

// OpenSSL's socket BIO writes with write(2): a peer that resets the connection would raise
// SIGPIPE and kill the whole server. This is the socket BIO with send(MSG_NOSIGNAL), so the
// library needs no process-wide signal disposition.
int send_nosignal(BIO* b, const char* data, int len) {
    int fd = -1;
    BIO_ctrl(b, BIO_C_GET_FD, 0, &fd);
    const ssize_t n = ::send(fd, data, static_cast<std::size_t>(len), MSG_NOSIGNAL);
    BIO_clear_retry_flags(b);
    if (n < 0 && BIO_sock_should_retry(-1)) BIO_set_retry_write(b);
    return static_cast<int>(n);
}

const BIO_METHOD* socket_method() {
    static const BioMethodPtr method = [] {
        const BIO_METHOD* base = BIO_s_socket();
        BioMethodPtr m(check_ptr(BIO_meth_new(BIO_TYPE_SOCKET, "sfts socket"), "BIO_meth_new"));
        check(BIO_meth_set_write(m.get(), send_nosignal), "BIO_meth_set_write");
        check(BIO_meth_set_read(m.get(), BIO_meth_get_read(base)), "BIO_meth_set_read");
        check(BIO_meth_set_puts(m.get(), BIO_meth_get_puts(base)), "BIO_meth_set_puts");
        check(BIO_meth_set_ctrl(m.get(), BIO_meth_get_ctrl(base)), "BIO_meth_set_ctrl");
        check(BIO_meth_set_create(m.get(), BIO_meth_get_create(base)), "BIO_meth_set_create");
        check(BIO_meth_set_destroy(m.get(), BIO_meth_get_destroy(base)), "BIO_meth_set_destroy");
        return m;
    }();
    return method.get();
}

bool is_ip_literal(const std::string& name) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, name.c_str(), buf) == 1 || ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

// The name the server certificate must carry (RFC 6125), and SNI, which carries DNS names
// only (RFC 6066 section 3).
void set_peer_name(SSL* ssl, const std::string& name) {
    if (name.empty()) return;
    const bool ip = is_ip_literal(name);
    if (SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (ip)
            check(X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()), "X509_VERIFY_PARAM_set1_ip_asc",
                  Errc::invalid_argument);
        else
            check(X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size()), "X509_VERIFY_PARAM_set1_host",
                  Errc::invalid_argument);
    }
    if (!ip)
        check(static_cast<int>(SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                        const_cast<char*>(name.c_str()))),
              "SSL_set_tlsext_host_name", Errc::invalid_argument);
}

bool wants_io(int ssl_error) { return ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE; }

std::string errno_text(int e) { return std::generic_category().message(e); }

}  // namespace

TlsStream::TlsStream(std::shared_ptr<TlsContext> ctx, Poco::Net::StreamSocket socket)
    : ctx_(std::move(ctx)), socket_(std::move(socket)) {
    SFTS_INVARIANT(ctx_ != nullptr);
    const int fd = socket_.impl()->sockfd();
    if (fd < 0) fail(Errc::invalid_argument, "TLS stream: the socket is not open");
    try {
        peer_ = socket_.peerAddress().toString();
        socket_.setBlocking(false);
        // Requests and replies are small and alternate: Nagle plus delayed ACK would add
        // 40 ms to each round trip.
        socket_.setNoDelay(true);
    } catch (const Poco::Exception& e) {
        fail(Errc::io, "TLS stream: " + e.displayText());
    }
    SslPtr ssl;
    {
        std::lock_guard lock(ctx_->store_mutex_);
        ssl.reset(SSL_new(ctx_->get()));
    }
    check_ptr(ssl.get(), "SSL_new");
    BIO* bio = check_ptr(BIO_new(socket_method()), "BIO_new");
    BIO_set_fd(bio, fd, BIO_NOCLOSE);  // the POCO socket owns the descriptor
    SSL_set_bio(ssl.get(), bio, bio);
    if (ctx_->is_server()) {
        SSL_set_accept_state(ssl.get());
    } else {
        SSL_set_connect_state(ssl.get());
        set_peer_name(ssl.get(), ctx_->server_name());
    }
    ssl_ = ssl.release();
}

TlsStream::~TlsStream() {
    SSL_free(ssl_);
    try {
        socket_.close();
    } catch (...) {  // a destructor never throws; the descriptor is gone either way
    }
}

void TlsStream::wait(int ssl_error, Deadline deadline, const char* what) {
    pollfd p{};
    p.fd = socket_.impl()->sockfd();
    p.events = ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
    for (;;) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) fail(Errc::timeout, std::string(what) + " with " + peer_ + ": deadline passed");
        const int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
        if (rc > 0) return;  // readable, writable, or an error the next SSL call reports
        if (rc < 0 && errno != EINTR) fail(Errc::io, std::string(what) + ": poll: " + errno_text(errno));
    }
}

void TlsStream::fail_tls(int ssl_error, int sys_errno, const char* what) {
    // RFC 8446 6.2: after a fatal error nothing more may be sent, not even close_notify.
    if (ssl_error == SSL_ERROR_SSL || ssl_error == SSL_ERROR_SYSCALL) broken_ = true;
    auto f = detail::classify_failure(ssl_, ssl_error, sys_errno);
    fail(f.kind, std::string(what) + " with " + peer_ + ": " + f.reason);
}

void TlsStream::fail_with_peer_alert() {
    // In TLS 1.3 the client's handshake ends before the server has judged its certificate: a
    // refusal arrives as an alert, and the server's close may reset the connection before our
    // first write. The write then fails with EPIPE/ECONNRESET, while the alert that says why
    // still waits in the receive queue (a reset does not discard it). Read it, so that the user
    // learns "certificate revoked" or "CRL expired" instead of "connection lost".
    ERR_clear_error();
    errno = 0;
    std::uint8_t scrap[512];
    std::size_t n = 0;
    const int rc = SSL_read_ex(ssl_, scrap, sizeof scrap, &n);
    const int sys = errno;
    if (rc == 1) return;  // application data, no alert: the write's own error stands
    const int err = SSL_get_error(ssl_, rc);
    if (err != SSL_ERROR_SSL) {
        ERR_clear_error();
        return;
    }
    broken_ = true;
    auto f = detail::classify_failure(ssl_, err, sys);
    fail(f.kind, "TLS write with " + peer_ + ": the peer refused the connection: " + f.reason);
}

void TlsStream::handshake(Deadline deadline) {
    if (closed_) fail(Errc::io, "TLS handshake: stream already closed");
    for (;;) {
        ERR_clear_error();
        errno = 0;
        const int rc = SSL_do_handshake(ssl_);
        const int sys = errno;
        if (rc == 1) break;
        const int err = SSL_get_error(ssl_, rc);
        if (!wants_io(err)) {
            // Not one byte from the server: it hung up on our ClientHello without speaking TLS.
            if (!ctx_->is_server() && BIO_number_read(SSL_get_rbio(ssl_)) == 0) {
                broken_ = true;
                auto f = detail::classify_failure(ssl_, err, sys);
                if (f.kind == Errc::io)
                    throw ClosedBeforeTls(Errc::io, "TLS handshake with " + peer_ +
                                                        ": the server closed the connection before TLS began (" +
                                                        f.reason + ")");
                fail(f.kind, "TLS handshake with " + peer_ + ": " + f.reason);
            }
            fail_tls(err, sys, "TLS handshake");
        }
        wait(err, deadline, "TLS handshake");
    }
    // Checked again here, not only trusted to the callback-less verify mode (docs/conventions.md §9).
    if (SSL_get_verify_mode(ssl_) & SSL_VERIFY_PEER) {
        const long v = SSL_get_verify_result(ssl_);
        if (v != X509_V_OK)
            fail(Errc::auth_failed, "TLS handshake with " + peer_ + ": " + X509_verify_cert_error_string(v));
        if (!SSL_get0_peer_certificate(ssl_))
            fail(Errc::auth_failed, "TLS handshake with " + peer_ + ": peer sent no certificate");
    }
}

std::size_t TlsStream::read_some(std::span<std::uint8_t> buf, Deadline deadline) {
    if (closed_) fail(Errc::io, "TLS read: stream already closed");
    if (buf.empty()) return 0;
    for (;;) {
        ERR_clear_error();
        errno = 0;
        std::size_t n = 0;
        const int rc = SSL_read_ex(ssl_, buf.data(), buf.size(), &n);
        const int sys = errno;
        if (rc == 1) return n;
        const int err = SSL_get_error(ssl_, rc);
        if (err == SSL_ERROR_ZERO_RETURN) return 0;
        if (!wants_io(err)) fail_tls(err, sys, "TLS read");
        wait(err, deadline, "TLS read");
    }
}

void TlsStream::write_all(std::span<const std::uint8_t> data, Deadline deadline) {
    if (closed_) fail(Errc::io, "TLS write: stream already closed");
    std::size_t done = 0;
    while (done < data.size()) {
        ERR_clear_error();
        errno = 0;
        std::size_t n = 0;
        // After WANT_WRITE the retry must pass the same bytes: done only moves on success.
        const int rc = SSL_write_ex(ssl_, data.data() + done, data.size() - done, &n);
        const int sys = errno;
        if (rc == 1) {
            done += n;
            continue;
        }
        const int err = SSL_get_error(ssl_, rc);
        if (!wants_io(err)) {
            if (err == SSL_ERROR_SYSCALL && (sys == EPIPE || sys == ECONNRESET)) fail_with_peer_alert();
            fail_tls(err, sys, "TLS write");
        }
        wait(err, deadline, "TLS write");
    }
}

void TlsStream::set_bulk_reads(bool on) noexcept {
    // Measured (bench/ab.sh, 1 GiB on tmpfs): server CPU per uploaded GiB -7%, client per
    // downloaded GiB -3%. SSL_MODE_RELEASE_BUFFERS instead (free the buffer whenever it runs
    // empty) made the downloading client 19% dearer: it reallocated the buffer all the time.
    static constexpr std::size_t kBulkReadBuffer = 128 * 1024;
    if (closed_ || on == bulk_reads_) return;
    bulk_reads_ = on;
    SSL_set_default_read_buffer_len(ssl_, on ? kBulkReadBuffer : 0);  // 0: OpenSSL's default
    SSL_set_read_ahead(ssl_, on ? 1 : 0);
    // Both buffers are allocated again, at the size now set, by the next read or write. With
    // bytes still buffered this does nothing and the current buffer stays: only its size is
    // then not what was asked.
    SSL_free_buffers(ssl_);
}

std::vector<std::uint8_t> TlsStream::channel_binding() const {
    if (!SSL_is_init_finished(ssl_)) fail(Errc::internal, "channel binding requested before the handshake");
    // RFC 9266 section 3: tls-exporter is unique per connection only with TLS 1.3 or with the
    // TLS 1.2 extended master secret (RFC 7627); without it the triple handshake attack
    // lets a man in the middle share the value with both ends.
    if (SSL_version(ssl_) != TLS1_3_VERSION && SSL_get_extms_support(ssl_) != 1)
        fail(Errc::unavailable, "channel binding: TLS 1.2 without extended master secret");
    static constexpr char kLabel[] = "EXPORTER-Channel-Binding";
    std::vector<std::uint8_t> out(32);
    check(SSL_export_keying_material(ssl_, out.data(), out.size(), kLabel, sizeof kLabel - 1, nullptr, 0, 0),
          "SSL_export_keying_material");
    return out;
}

ossl::X509Ptr TlsStream::peer_certificate() const { return ossl::X509Ptr(SSL_get1_peer_certificate(ssl_)); }

std::string TlsStream::version() const { return SSL_get_version(ssl_); }

std::string TlsStream::cipher() const {
    const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
    return c ? SSL_CIPHER_get_name(c) : "";
}

std::string TlsStream::peer_address() const { return peer_; }

void TlsStream::close(Deadline deadline) {
    if (closed_) return;
    closed_ = true;
    // close_notify lets the peer tell our end of stream from a truncation; a unidirectional
    // shutdown is enough (RFC 8446 6.1), so we do not wait for the peer's.
    if (!broken_ && SSL_is_init_finished(ssl_)) {
        try {
            for (;;) {
                ERR_clear_error();
                const int rc = SSL_shutdown(ssl_);
                if (rc >= 0) break;
                const int err = SSL_get_error(ssl_, rc);
                if (!wants_io(err)) break;
                wait(err, deadline, "TLS close");
            }
        } catch (const Error&) {  // best effort: the deadline passed, the socket closes anyway
        }
        ERR_clear_error();
    }
    try {
        socket_.close();
    } catch (const Poco::Exception&) {  // already closed by the peer's reset: nothing to do
    }
}

}  // namespace sfts::net
