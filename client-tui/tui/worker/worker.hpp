// The network thread: runs jobs one at a time against the one client::Session it owns and
// reports events. The UI never blocks on it: post() queues, take_events() drains.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "jobs.hpp"

namespace sfts::tui {

class Worker {
public:
    Worker();
    ~Worker();  // cancels a running transfer, then joins
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    void post(Job job);
    std::vector<Event> take_events();
    ProgressSample progress() const;
    void cancel_transfer() { cancel_.store(true); }
    bool busy() const;  // a job is queued or running

private:
    void run();
    void handle(ConnectJob& j);
    void handle(EnrollJob& j);
    void handle(ListJob& j);
    void handle(RefreshJob& j);
    void handle(CloseJob& j);
    void handle(TransferJob& j);
    void handle(DeleteJob& j);
    void handle(PasswdJob& j);

    void connect();    // with cfg_, pin_, password_
    void reconnect();  // a new connection with the kept PIN and password (after a cancelled download)
    void list();
    bool may_list() const;  // the role's commands (from help) include ls
    bool has_session(const char* what);
    void emit(Event e);
    void failed(const std::string& what, const Error& e);

    // Only the worker thread touches these.
    std::unique_ptr<client::Session> session_;
    client::ClientConfig cfg_;
    Secret pin_;       // kept while connected: a cancelled download needs a new connection
    Secret password_;
    Secret pending_new_password_;
    std::vector<std::string> commands_;

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Job> jobs_;
    std::vector<Event> events_;
    ProgressSample progress_;
    bool running_job_ = false;
    bool stop_ = false;
    client::CancelFlag cancel_{false};
    std::thread thread_;  // last: starts after everything above exists
};

}  // namespace sfts::tui
