// The ceiling for any signed transfer on this machine: N bytes through TLS 1.3 AES-GCM over
// loopback TCP, with SHA-256 over the bytes on both ends, and nothing else (no file, no framing,
// no signature, no token). Plain OpenSSL; the server is a second thread of this process.
//
//   sfts-bench-ceiling [--bytes N] [--chunk N] [--suite TLS_AES_128_GCM_SHA256|TLS_AES_256_GCM_SHA384]
//                      [--from FILE] [--to FILE]
//
// Prints one line: "ceiling: <bytes> bytes in <s> s = <MB/s> MB/s (<suite>, sha256 both ends)".
//
// With --from and --to it is the ceiling for a transfer that also has the files a real one has
// (the file's size replaces --bytes). The sender maps FILE 8 MiB at a time and hashes and sends
// straight from the page cache (measured here: 17-35% faster than read() into a buffer, and
// the fastest way found to read the source); the receiver stores the bytes as sfts does (a new
// file, fallocate of the whole size, a write per full 1 MiB buffer, fsync, close: writing
// through a shared mapping or from a second thread measured slower). Still no framing,
// signature, token or login.
// sfts negotiates TLS_AES_128_GCM_SHA256 (its first TLS 1.3 suite), so that is the default;
// bench/run.sh runs both and compares sfts with the one its client logged.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

template <auto F>
struct Deleter {
    template <typename T>
    void operator()(T* p) const {
        F(p);
    }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using Digest = std::array<unsigned char, 32>;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "ceiling: %s\n", what.c_str());
    ERR_print_errors_fp(stderr);
    std::exit(1);
}

void check(int ok, const char* what) {
    if (ok != 1) die(what);
}

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// The part of the source file mapped now: 8 MiB at a time, so the mapped pages (counted in RSS)
// stay few whatever the file's size.
struct Window {
    static constexpr std::uint64_t kSize = 8 << 20;
    unsigned char* p = nullptr;
    std::uint64_t base = 0, len = 0;
    Window() = default;
    Window(const Window&) = delete;
    Window& operator=(const Window&) = delete;
    ~Window() { unmap(); }
    void unmap() {
        if (p != nullptr) ::munmap(p, len);
        p = nullptr;
    }
    void next(int fd, std::uint64_t offset, std::uint64_t total) {
        unmap();
        base = offset;
        len = std::min(kSize, total - offset);
        void* m = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(offset));
        if (m == MAP_FAILED) die("mmap of the source file");
        p = static_cast<unsigned char*>(m);
        ::madvise(p, len, MADV_SEQUENTIAL);
    }
    const unsigned char* at(std::uint64_t offset) const { return p + (offset - base); }
};

// A throwaway P-256 key and self-signed certificate: the handshake is not what is measured.
std::pair<PkeyPtr, X509Ptr> make_identity() {
    PkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) die("EVP_EC_gen");
    X509Ptr cert(X509_new());
    if (!cert) die("X509_new");
    check(X509_set_version(cert.get(), 2), "X509_set_version");
    check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1), "serial");
    if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600))
        die("validity");
    X509_NAME* name = X509_get_subject_name(cert.get());
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("ceiling"), -1,
                                     -1, 0),
          "subject");
    check(X509_set_issuer_name(cert.get(), name), "issuer");
    check(X509_set_pubkey(cert.get(), key.get()), "X509_set_pubkey");
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) die("X509_sign");
    return {std::move(key), std::move(cert)};
}

SslCtxPtr make_ctx(bool server, const std::string& suite) {
    SslCtxPtr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
    if (!ctx) die("SSL_CTX_new");
    check(SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION), "min version");
    check(SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION), "max version");
    check(SSL_CTX_set_ciphersuites(ctx.get(), suite.c_str()), "SSL_CTX_set_ciphersuites");
    return ctx;
}

void write_all(SSL* ssl, const unsigned char* p, std::size_t n) {
    while (n > 0) {
        std::size_t w = 0;
        if (SSL_write_ex(ssl, p, n, &w) != 1) die("SSL_write_ex");
        p += w;
        n -= w;
    }
}

void read_exact(SSL* ssl, unsigned char* p, std::size_t n) {
    while (n > 0) {
        std::size_t r = 0;
        if (SSL_read_ex(ssl, p, n, &r) != 1) die("SSL_read_ex");
        p += r;
        n -= r;
    }
}

void finish(EVP_MD_CTX* md, Digest& out) {
    unsigned int len = 0;
    check(EVP_DigestFinal_ex(md, out.data(), &len), "EVP_DigestFinal_ex");
}

// Receives total bytes, hashing them as they arrive (as a receiver that verifies must), then
// returns its digest to the sender.
void serve(int listen_fd, SSL_CTX* ctx, std::uint64_t total, const char* to) {
    Fd fd(::accept(listen_fd, nullptr, nullptr));
    if (fd.get() < 0) die("accept");
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SslPtr ssl(SSL_new(ctx));
    if (!ssl) die("SSL_new (server)");
    SSL_set_fd(ssl.get(), fd.get());
    if (SSL_accept(ssl.get()) != 1) die("SSL_accept");
    MdCtxPtr md(EVP_MD_CTX_new());
    check(EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");
    std::uint64_t got = 0;
    if (to == nullptr) {
        std::vector<unsigned char> buf(64 * 1024);  // what sfts's channel reads at a time
        while (got < total) {
            std::size_t r = 0;
            if (SSL_read_ex(ssl.get(), buf.data(), buf.size(), &r) != 1) die("SSL_read_ex (server)");
            check(EVP_DigestUpdate(md.get(), buf.data(), r), "EVP_DigestUpdate");
            got += r;
        }
    } else {
        Fd out(::open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (out.get() < 0) die(std::string("cannot create ") + to);
        if (::posix_fallocate(out.get(), 0, static_cast<off_t>(total)) != 0) die("fallocate");
        std::vector<unsigned char> buf(1 << 20);  // one sfts chunk, filled 64 KiB reads at a time
        std::size_t fill = 0;
        auto flush = [&] {
            for (std::size_t off = 0; off < fill;) {
                ssize_t w = ::write(out.get(), buf.data() + off, fill - off);
                if (w <= 0) die("write");
                off += static_cast<std::size_t>(w);
            }
            fill = 0;
        };
        while (got < total) {
            std::size_t r = 0;
            const std::size_t want = std::min<std::size_t>(64 * 1024, buf.size() - fill);
            if (SSL_read_ex(ssl.get(), buf.data() + fill, want, &r) != 1) die("SSL_read_ex (server)");
            check(EVP_DigestUpdate(md.get(), buf.data() + fill, r), "EVP_DigestUpdate");
            fill += r;
            got += r;
            if (fill == buf.size()) flush();
        }
        flush();
        if (::fsync(out.get()) != 0) die("fsync");
    }
    Digest d{};
    finish(md.get(), d);
    write_all(ssl.get(), d.data(), d.size());
    SSL_shutdown(ssl.get());
}

std::uint64_t parse_size(const std::string& s) {
    std::size_t pos = 0;
    unsigned long long v = std::stoull(s, &pos);
    std::string unit = s.substr(pos);
    if (unit == "K" || unit == "KiB") v <<= 10;
    else if (unit == "M" || unit == "MiB") v <<= 20;
    else if (unit == "G" || unit == "GiB") v <<= 30;
    else if (!unit.empty()) throw std::invalid_argument("bad size " + s);
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t total = 1ULL << 30;
    std::size_t chunk = 1 << 20;  // sfts's max_chunk
    std::string suite = "TLS_AES_128_GCM_SHA256";
    std::string from, to;
    try {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            std::string v = argv[++i];
            if (a == "--bytes") total = parse_size(v);
            else if (a == "--chunk") chunk = static_cast<std::size_t>(parse_size(v));
            else if (a == "--suite") suite = v;
            else if (a == "--from") from = v;
            else if (a == "--to") to = v;
            else throw std::invalid_argument("unknown option " + a);
        }
        if (from.empty() != to.empty()) throw std::invalid_argument("--from and --to go together");
        if (!from.empty()) {
            struct stat st {};
            if (::stat(from.c_str(), &st) != 0) throw std::invalid_argument("cannot stat " + from);
            total = static_cast<std::uint64_t>(st.st_size);
        }
        if (total == 0 || chunk == 0) throw std::invalid_argument("sizes must be positive");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "usage: %s [--bytes N[K|M|G]] [--chunk N[K|M]] [--suite NAME] [--from FILE --to FILE]\n(%s)\n", argv[0], e.what());
        return 2;
    }

    auto [key, cert] = make_identity();
    SslCtxPtr sctx = make_ctx(true, suite);
    check(SSL_CTX_use_certificate(sctx.get(), cert.get()), "use cert");
    check(SSL_CTX_use_PrivateKey(sctx.get(), key.get()), "use key");
    SslCtxPtr cctx = make_ctx(false, suite);
    SSL_CTX_set_verify(cctx.get(), SSL_VERIFY_NONE, nullptr);

    Fd lfd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(lfd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd.get(), 1) != 0)
        die("bind/listen on 127.0.0.1");
    socklen_t alen = sizeof addr;
    if (::getsockname(lfd.get(), reinterpret_cast<sockaddr*>(&addr), &alen) != 0) die("getsockname");

    std::thread server(serve, lfd.get(), sctx.get(), total, to.empty() ? nullptr : to.c_str());

    Fd cfd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::connect(cfd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("connect");
    int one = 1;
    ::setsockopt(cfd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SslPtr ssl(SSL_new(cctx.get()));
    if (!ssl) die("SSL_new (client)");
    SSL_set_fd(ssl.get(), cfd.get());
    if (SSL_connect(ssl.get()) != 1) die("SSL_connect");
    std::string negotiated = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl.get()));

    std::vector<unsigned char> data(chunk);
    check(RAND_bytes(data.data(), static_cast<int>(data.size())), "RAND_bytes");
    MdCtxPtr md(EVP_MD_CTX_new());
    check(EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr), "EVP_DigestInit_ex");

    Fd in(from.empty() ? -1 : ::open(from.c_str(), O_RDONLY | O_CLOEXEC));
    if (!from.empty() && in.get() < 0) die("cannot open " + from);
    Window window;
    auto t0 = std::chrono::steady_clock::now();
    std::uint64_t sent = 0;
    while (sent < total) {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, total - sent));
        const unsigned char* p = data.data();
        if (in.get() >= 0) {
            if (sent == window.base + window.len) window.next(in.get(), sent, total);
            n = static_cast<std::size_t>(std::min<std::uint64_t>(n, window.base + window.len - sent));
            p = window.at(sent);
        } else {
            data[0] = static_cast<unsigned char>(sent >> 20);  // not the same chunk over and over
        }
        check(EVP_DigestUpdate(md.get(), p, n), "EVP_DigestUpdate");
        write_all(ssl.get(), p, n);
        sent += n;
    }
    Digest mine{}, theirs{};
    finish(md.get(), mine);
    read_exact(ssl.get(), theirs.data(), theirs.size());
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    server.join();
    if (mine != theirs) die("SHA-256 differs between the ends");

    std::printf("ceiling: %llu bytes in %.3f s = %.1f MB/s (%s, sha256 both ends%s)\n",
                static_cast<unsigned long long>(total), secs, static_cast<double>(total) / secs / 1e6,
                negotiated.c_str(), from.empty() ? "" : ", file to file");
    return 0;
}
