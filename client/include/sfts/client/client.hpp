// The client library: enrollment, login and every file command, shared by the batch CLI and
// the terminal UI (one implementation of the protocol). Keys stay in the user's token.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sfts/hsm/pin.hpp"
#include "sfts/hsm/uri.hpp"
#include "sfts/ossl.hpp"
#include "sfts/protocol/messages_commands.hpp"
#include "sfts/protocol/message.hpp"
#include "sfts/protocol/messages_enroll.hpp"
#include "sfts/protocol/messages_transfer.hpp"
#include "sfts/secret.hpp"

namespace sfts::client {

struct ClientConfig {
    std::string host = "127.0.0.1";
    int file_port = 8443;
    int enroll_port = 8444;
    std::string module;                    // PKCS#11 module (default SoftHSM2)
    hsm::ObjectUri token;                  // the user's token (pkcs11:token=...)
    std::string key_label = "sfts-client"; // key pair and certificate label in the token
    hsm::SecretSource pin = hsm::SecretSource::parse("prompt");
    hsm::SecretSource password = hsm::SecretSource::parse("prompt");
    std::string user;                      // for enrollment; later read from the certificate
    std::string dir;                       // ca.crt and client.crt live here
    std::string log_file;                  // the client's log (default DIR/sfts.log; "none": off)
    int timeout_ms = 30000;
    std::string source_address;            // local address to connect from (multi-homed hosts); empty: any
    int warn_days = 30;                    // warn when the certificate expires within this many days (0: never)
    int connect_retries = 4;               // new tries when the server hangs up before TLS (blocked, busy)
    int connect_retry_ms = 10000;          // ... all of them within this many ms of the first

    std::string ca_path() const { return dir + "/ca.crt"; }
    std::string cert_path() const { return dir + "/client.crt"; }
};

// Defaults, then the INI file at path (if it exists; unknown options are errors naming them).
ClientConfig load_client_config(const std::string& path);
std::string default_client_config_path();  // $SFTS_CONFIG or ~/.config/sfts/sfts.conf
std::string client_config_defaults_ini();

struct EnrollRequest {
    proto::SecretKind kind = proto::SecretKind::site_secret;
    std::string token_id;  // for a one-time token
    Secret secret;         // the site secret or the one-time token's secret
    // false (the default): a new key pair is made in the token and replaces the old one (if
    // any) once the new certificate is confirmed; true: the key already in the token is
    // certified again (refused by the server if a certificate of that key was revoked).
    bool reuse_key = false;
};

struct Enrolled {
    ossl::X509Ptr cert;
    ossl::X509Ptr ca;
    std::string summary;
};

// Makes a new key pair inside the token (or reuses the one there, req.reuse_key), sends a CSR
// signed by it, authenticates with the HMAC challenge-response, authenticates the server's
// answer, then confirms the enrollment (docs/protocol.md 4.2) and only then stores the
// certificate and retires the old key. A refusal at any point leaves the token and files as
// they were.
Enrolled enroll(const ClientConfig& cfg, const Secret& pin, const EnrollRequest& req);

// The certificate in DIR/client.crt, read without the token (sfts cert).
struct CertificateStatus {
    std::string subject;  // CN: the user name
    std::string issuer;   // CN of the CA
    std::string serial;   // upper-case hex
    std::time_t not_before = 0, not_after = 0;
    std::int64_t seconds_left = 0;  // negative once expired
    std::string sha256;             // fingerprint, hex
    bool expiring = false;          // within cfg.warn_days (or expired)
};
CertificateStatus certificate_status(const ClientConfig& cfg);  // not_found when not enrolled

// "certificate SERIAL expires ... (N days): run 'sfts renew'" when it is expiring, also written to
// the client log as a warning; nullopt otherwise or when there is no certificate.
std::optional<std::string> expiry_warning(const ClientConfig& cfg);

struct Renewed {
    ossl::X509Ptr cert;
    std::string old_serial;
    std::string summary;
};

// Installs a certificate the operator re-signed for the key already in the token
// (sfts-admin cert renew): it must chain to our CA, name our user and hold the token key's
// public half. Stored where enrollment stores it (DIR/client.crt and the token).
Renewed install_certificate(const ClientConfig& cfg, const Secret& pin, const std::string& pem_path);

using Progress = std::function<void(std::uint64_t done, std::uint64_t total)>;
using SecretPrompt = std::function<Secret()>;

// Set from another thread to stop a transfer between two chunks (the terminal UI's cancel).
using CancelFlag = std::atomic<bool>;

struct TransferResult {
    std::string name;
    std::uint64_t size = 0;
    proto::Sha256 sha256{};
    bool cancelled = false;  // stopped by the CancelFlag: nothing was stored on either side
};

// One file of a batch upload: where it is read from and the name it gets on the server.
struct BatchItem {
    std::string local_path;
    std::string remote_name;
};

class Session {
public:
    // Connects to the file service with the token key and certificate, then logs in. If the
    // account has no password yet, new_password() supplies the first one.
    static std::unique_ptr<Session> connect(const ClientConfig& cfg, const Secret& pin, const SecretPrompt& password,
                                            const SecretPrompt& new_password);
    ~Session();

    const std::string& user() const;
    std::string certificate_summary() const;  // subject, serial, expiry

    std::vector<proto::ListEntry> list();
    std::vector<std::string> help();
    // Streams the file; returns after the server's signed receipt is verified. When *cancel
    // becomes true the upload is aborted (transfer_abort, then the server's ok: it stores nothing)
    // and the result says cancelled; the session stays usable.
    TransferResult upload(const std::string& local_path, const std::string& remote_name, bool overwrite,
                          const Progress& progress = {}, const CancelFlag* cancel = nullptr);
    // Many small files as one batch (docs/protocol.md 4.4.1): each regular file of at most
    // proto::max_batch_file_bytes, at most proto::max_batch_files of them, one signature by the
    // token over the manifest, one signed receipt covering it. All or nothing: if the server
    // refuses any file (its error names the first), or a local file cannot be read, nothing is
    // stored and the session stays usable. progress reports bytes sent of the batch's total.
    std::vector<TransferResult> upload_batch(const std::vector<BatchItem>& items, bool overwrite,
                                             const Progress& progress = {});
    // Writes dest_path only after size, SHA-256 and the server's signature check out. When *cancel
    // becomes true the partial file is removed and the connection is closed, because the server
    // notices an abort only after it has sent the whole file (docs/protocol.md 4.4): connected()
    // is then false and a new Session is needed.
    TransferResult download(const std::string& remote_name, const std::string& dest_path, bool overwrite,
                            const Progress& progress = {}, const CancelFlag* cancel = nullptr);
    void remove(const std::string& remote_name);
    void change_password(const Secret& new_password);
    // The same, proving the current password as typed again now rather than with the login's
    // keys: the server checks it (Error(auth_failed) "the current password is wrong"), so a
    // session left open cannot have its password changed by someone else (the terminal UI's F2).
    void change_password(const Secret& current_password, const Secret& new_password);
    // Renews the certificate before it expires: a new key pair made inside the token, a CSR
    // signed by it, the new certificate checked and stored where enrollment stores it, and only
    // then the old key and certificate removed from the token. If the server refuses, the old key
    // and certificate stay as they were. The server revokes the old certificate, so this ends
    // the session (connected() is false afterwards).
    Renewed renew(const Secret& pin);
    void close();  // exit
    bool connected() const;  // false after close() or a cancelled download

    struct Impl;

private:
    explicit Session(std::unique_ptr<Impl> impl);
    std::vector<proto::ListEntry> list_all();
    TransferResult upload_once(const std::string& local_path, const std::string& remote_name, bool overwrite,
                               const Progress& progress, const CancelFlag* cancel);
    std::vector<TransferResult> upload_batch_once(const std::vector<BatchItem>& items, bool overwrite,
                                                  const Progress& progress);
    TransferResult download_once(const std::string& remote_name, const std::string& dest_path, bool overwrite,
                                 const Progress& progress, const CancelFlag* cancel);
    void change_password_once(std::span<const std::uint8_t> salted_password, const Secret& new_password);
    Renewed renew_once(const Secret& pin);
    // For renew.cpp, which does not see Impl.
    proto::CommandHeader next_header();
    proto::Message exchange(const proto::Message& request);
    const ClientConfig& config() const;
    X509* certificate() const;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sfts::client
