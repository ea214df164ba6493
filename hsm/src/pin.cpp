#include "sfts/hsm/pin.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "sfts/error.hpp"

namespace sfts::hsm {

namespace {

constexpr std::size_t kMaxSecretBytes = 4096;

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

void strip_newline(Secret& s) {
    if (!s.empty() && s.view().back() == '\n') s.pop_back();
    if (!s.empty() && s.view().back() == '\r') s.pop_back();
}

Secret read_file_secret(const std::string& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0)
        fail(errno == ENOENT ? Errc::not_found : Errc::io,
             "cannot open secret file " + path + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail(Errc::io, "cannot stat secret file " + path);
    if (!S_ISREG(st.st_mode)) fail(Errc::invalid_argument, "secret file " + path + " is not a regular file");
    // Like ssh with private keys: a secret readable by others is already leaked.
    if ((st.st_mode & 077) != 0)
        fail(Errc::permission_denied, "secret file " + path + " must not be accessible by group or others (chmod 600)");
    if (st.st_size > static_cast<off_t>(kMaxSecretBytes))
        fail(Errc::limit_exceeded, "secret file " + path + " is larger than 4 KiB");
    Secret out;
    char c;
    for (;;) {
        ssize_t n = ::read(fd.get(), &c, 1);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(Errc::io, "cannot read secret file " + path);
        }
        if (out.size() >= kMaxSecretBytes) fail(Errc::limit_exceeded, "secret file " + path + " is larger than 4 KiB");
        out.push_back(c);
    }
    c = 0;
    strip_newline(out);
    return out;
}

}  // namespace

SecretSource SecretSource::parse(std::string_view spec) {
    if (spec == "prompt") return {Kind::prompt, {}};
    if (spec.starts_with("file:") && spec.size() > 5) return {Kind::file, std::string(spec.substr(5))};
    if (spec.starts_with("env:") && spec.size() > 4) {
        std::string name(spec.substr(4));
        for (char ch : name)
            if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'))
                fail(Errc::invalid_argument, "bad environment variable name in secret source: " + name);
        return {Kind::env, name};
    }
    if (spec.starts_with("credential:") && spec.size() > 11) {
        std::string name(spec.substr(11));
        // A credential name is one path component (systemd's own rule), never "." or "..".
        if (name == "." || name == ".." || name.find('/') != std::string::npos)
            fail(Errc::invalid_argument, "bad credential name in secret source: " + name);
        return {Kind::credential, name};
    }
    fail(Errc::invalid_argument,
         "secret source must be 'file:PATH', 'env:NAME', 'credential:NAME' or 'prompt', not '" + std::string(spec.substr(0, 64)) + "'");
}

std::string SecretSource::describe() const {
    switch (kind) {
        case Kind::file: return "file " + where;
        case Kind::env: return "environment variable " + where;
        case Kind::prompt: return "terminal prompt";
        case Kind::credential: return "systemd credential " + where;
    }
    return "?";
}

Secret read_secret(const SecretSource& source, std::string_view prompt) {
    Secret s;
    switch (source.kind) {
        case SecretSource::Kind::file: s = read_file_secret(source.where); break;
        case SecretSource::Kind::env: {
            const char* v = std::getenv(source.where.c_str());
            if (!v) fail(Errc::not_found, "environment variable " + source.where + " is not set");
            if (std::strlen(v) > kMaxSecretBytes) fail(Errc::limit_exceeded, "secret in " + source.where + " is too long");
            s = Secret(v);
            break;
        }
        case SecretSource::Kind::prompt: s = prompt_hidden(prompt); break;
        case SecretSource::Kind::credential: {
            // systemd makes the directory and its files readable by the service user only (0400).
            const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
            if (!dir || !*dir)
                fail(Errc::not_found, "credential " + source.where + ": CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit)");
            s = read_file_secret(std::string(dir) + "/" + source.where);
            break;
        }
    }
    if (s.empty()) fail(Errc::invalid_argument, "empty secret from " + source.describe());
    return s;
}

Secret prompt_hidden(std::string_view prompt) {
    Fd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (tty.get() < 0) fail(Errc::unavailable, "no terminal to prompt on; give the secret as file: or env:");
    struct termios saved {};
    if (::tcgetattr(tty.get(), &saved) != 0) fail(Errc::unavailable, "cannot read terminal settings");
    struct termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    if (::write(tty.get(), prompt.data(), prompt.size()) < 0) fail(Errc::io, "cannot write prompt");
    if (::tcsetattr(tty.get(), TCSAFLUSH, &quiet) != 0) fail(Errc::unavailable, "cannot turn off terminal echo");
    Secret out;
    char c = 0;
    bool ok = true;
    for (;;) {
        ssize_t n = ::read(tty.get(), &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || c == '\n') break;
        if (out.size() >= kMaxSecretBytes) {
            ok = false;
            break;
        }
        out.push_back(c);
    }
    c = 0;
    ::tcsetattr(tty.get(), TCSAFLUSH, &saved);
    if (::write(tty.get(), "\n", 1) < 0) { /* the secret was read; a lost newline is cosmetic */ }
    if (!ok) fail(Errc::limit_exceeded, "secret longer than 4 KiB");
    return out;
}

}  // namespace sfts::hsm
