#include "worker.hpp"

#include <algorithm>
#include <utility>

#include "sfts/hsm/pin.hpp"
#include "sfts/ossl.hpp"

namespace sfts::tui {

namespace {

// Thrown out of the library's secret callbacks when the UI has to ask first. Not an Error, so
// the library logs nothing and simply drops the half-open connection.
struct NeedSecretSignal {
    NeedSecret::What what;
};

std::string quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

bool is_fatal(Errc kind) {
    switch (kind) {
        case Errc::io:
        case Errc::protocol:
        case Errc::timeout:
        case Errc::unavailable:
        case Errc::token:
        case Errc::crypto:
        case Errc::internal: return true;
        default: return false;
    }
}

Worker::Worker() : thread_([this] { run(); }) {}

Worker::~Worker() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
        jobs_.clear();
    }
    cancel_.store(true);
    cv_.notify_all();
    thread_.join();
}

void Worker::post(Job job) {
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(job));
    }
    cv_.notify_all();
}

std::vector<Event> Worker::take_events() {
    std::lock_guard lock(mutex_);
    return std::exchange(events_, {});
}

ProgressSample Worker::progress() const {
    std::lock_guard lock(mutex_);
    return progress_;
}

bool Worker::busy() const {
    std::lock_guard lock(mutex_);
    return running_job_ || !jobs_.empty();
}

void Worker::emit(Event e) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(e));
}

void Worker::run() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
            if (stop_) break;
            job = std::move(jobs_.front());
            jobs_.pop_front();
            running_job_ = true;
        }
        try {
            std::visit([&](auto& j) { handle(j); }, job);
        } catch (const Error& e) {
            failed("command", e);
        } catch (const std::exception& e) {
            failed("command", Error(Errc::internal, e.what()));
        }
        std::lock_guard lock(mutex_);
        running_job_ = false;
    }
    session_.reset();  // no exit round trip on the way out: the UI already said goodbye (CloseJob)
}

void Worker::failed(const std::string& what, const Error& e) {
    bool fatal = is_fatal(e.kind()) || !session_ || !session_->connected();
    if (fatal) {
        session_.reset();
        pin_.wipe();
        password_.wipe();
    }
    emit(Failed{what, e.kind(), e.what(), fatal});
}

bool Worker::has_session(const char* what) {
    if (session_) return true;
    emit(Info{std::string(what) + ": not connected"});
    return false;
}

// --- connecting

void Worker::handle(ConnectJob& j) {
    session_.reset();
    cfg_ = j.cfg;
    if (!j.pin.empty()) pin_ = std::move(j.pin);
    if (!j.password.empty()) password_ = std::move(j.password);
    pending_new_password_ = std::move(j.new_password);
    connect();
}

void Worker::handle(EnrollJob& j) {
    session_.reset();
    cfg_ = j.cfg;
    pin_ = std::move(j.pin);
    try {
        auto r = client::enroll(cfg_, pin_, j.request);
        emit(Enrolled{r.summary});
    } catch (const Error& e) {
        pin_.wipe();
        emit(Failed{"enrollment", e.kind(), e.what(), true});
        return;
    }
    connect();
}

void Worker::connect() {
    bool password_sent = false;  // the TLS handshake passed and the login asked for the password
    auto password = [&]() -> Secret {
        if (password_.empty()) {
            if (cfg_.password.kind == hsm::SecretSource::Kind::prompt)
                throw NeedSecretSignal{NeedSecret::What::password};
            password_ = hsm::read_secret(cfg_.password, "");
        }
        password_sent = true;
        return password_.clone();
    };
    auto first_password = [&]() -> Secret {
        if (pending_new_password_.empty()) throw NeedSecretSignal{NeedSecret::What::new_password};
        password_ = std::move(pending_new_password_);
        return password_.clone();
    };
    try {
        session_ = client::Session::connect(cfg_, pin_, password, first_password);
    } catch (const NeedSecretSignal& s) {
        emit(NeedSecret{s.what, false});  // the PIN is kept for the next attempt
        return;
    } catch (const Error& e) {
        // A refused password is no reason to type the PIN again: keep it and ask for the
        // password once more (when it is typed; one from a file would only fail again).
        // (Not when the certificate was refused: that fails before the password is asked for.)
        if (e.kind() == Errc::auth_failed && password_sent && cfg_.password.kind == hsm::SecretSource::Kind::prompt &&
            !pin_.empty()) {
            password_.wipe();
            pending_new_password_.wipe();
            emit(Info{"login to " + cfg_.host + " refused: " + e.what()});
            emit(NeedSecret{NeedSecret::What::password, true});
            return;
        }
        pin_.wipe();
        password_.wipe();
        pending_new_password_.wipe();
        emit(Failed{"connect to " + cfg_.host, e.kind(), e.what(), true});
        return;
    }
    commands_.clear();
    try {
        commands_ = session_->help();
    } catch (const Error& e) {
        if (is_fatal(e.kind())) return failed("help", e);
    }
    emit(Connected{session_->user(), session_->certificate_summary(), cfg_.host + ":" + std::to_string(cfg_.file_port),
                   commands_});
    if (may_list()) list();
    else emit(Listed{});
}

void Worker::reconnect() {
    if (session_ && session_->connected()) {
        try {
            session_->close();  // exit first: one connection per session on the server
        } catch (const Error&) {
        }
    }
    session_.reset();
    auto password = [&]() -> Secret { return password_.clone(); };
    auto refuse = []() -> Secret { throw Error(Errc::auth_failed, "the server forgot the password"); };
    session_ = client::Session::connect(cfg_, pin_, password, refuse);
    emit(Info{"reconnected to " + cfg_.host + ":" + std::to_string(cfg_.file_port)});
}

// --- commands

bool Worker::may_list() const { return std::find(commands_.begin(), commands_.end(), "ls") != commands_.end(); }

void Worker::list() {
    std::vector<Entry> out;
    for (auto& e : session_->list())
        out.push_back(Entry{std::move(e.name), e.size, e.mtime_ms / 1000, std::move(e.uploader), false});
    emit(Listed{std::move(out)});
}

void Worker::handle(ListJob&) {
    if (!has_session("ls")) return;
    try {
        list();
    } catch (const Error& e) {
        failed("ls", e);
    }
}

void Worker::handle(RefreshJob&) {
    if (!has_session("refresh")) return;
    try {
        reconnect();
        commands_ = session_->help();
        emit(Refreshed{commands_});
        if (may_list()) list();
        else emit(Listed{});
    } catch (const Error& e) {
        failed("refresh", e);
    }
}

void Worker::handle(CloseJob&) {
    if (session_) {
        try {
            session_->close();
        } catch (const Error&) {  // leaving anyway; the server times the session out
        }
    }
    session_.reset();
    pin_.wipe();
    password_.wipe();
    emit(Closed{});
}

void Worker::handle(TransferJob& j) {
    if (!has_session("transfer")) return;
    cancel_.store(false);
    TransferEnded end;
    end.upload = j.upload;
    for (std::size_t i = 0; i < j.items.size(); ++i) {
        const auto& it = j.items[i];
        std::string what = (j.upload ? "upload " : "download ") + quoted(it.remote_name);
        auto progress = [&, i](std::uint64_t done, std::uint64_t total) {
            std::lock_guard lock(mutex_);
            progress_ = ProgressSample{i, done, total, progress_.seq + 1};
        };
        try {
            auto r = j.upload ? session_->upload(it.local_path, it.remote_name, it.overwrite, progress, &cancel_)
                              : session_->download(it.remote_name, it.local_path, it.overwrite, progress, &cancel_);
            if (r.cancelled) {
                end.cancelled = true;
                end.cancelled_name = it.remote_name;
                end.cancelled_at = r.size;
                end.cancelled_size = it.size;
                break;
            }
            emit(FileDone{j.upload, it.remote_name, r.size, ossl::hex(r.sha256.data(), r.sha256.size())});
        } catch (const Error& e) {
            failed(what, e);
            emit(end);
            return;
        }
    }
    emit(end);
    try {
        if (!session_->connected()) reconnect();
        if (j.upload && may_list()) list();
    } catch (const Error& e) {
        failed(session_ && session_->connected() ? "ls" : "reconnect", e);
    }
}

void Worker::handle(DeleteJob& j) {
    if (!has_session("delete")) return;
    for (const auto& name : j.names) {
        try {
            session_->remove(name);
            emit(Deleted{name});
        } catch (const Error& e) {
            failed("delete " + quoted(name), e);
            break;
        }
    }
    try {
        if (session_ && may_list()) list();
    } catch (const Error& e) {
        failed("ls", e);
    }
}

void Worker::handle(PasswdJob& j) {
    if (!has_session("update")) return;
    try {
        session_->change_password(j.current_password, j.new_password);
        j.current_password.wipe();
        password_ = std::move(j.new_password);  // a later reconnection logs in with the new one
        emit(PasswordChanged{});
    } catch (const Error& e) {
        failed("update (password change)", e);
        return;
    }
    try {
        reconnect();  // the new password has a new salt: the next F2 needs it
    } catch (const Error& e) {
        failed("reconnect", e);
    }
}

}  // namespace sfts::tui
