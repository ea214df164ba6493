// The file service's command table (docs/conventions.md §4): each row names the message that starts a
// command, the name users see, and the permission it needs. Authorization happens in one
// function, `allowed`, before any handler runs; the table is tested as a matrix.
#pragma once

#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "sfts/db/database.hpp"
#include "sfts/protocol/message_type.hpp"

namespace sfts::server {

struct CommandSpec {
    proto::MsgType type;
    std::string_view name;                  // as shown by help and written to the log
    std::optional<db::Permission> needs;    // nullopt: every logged-in user (help, exit)
    bool allowed_when_password_expired;     // a forced password change still permits these
};

const std::vector<CommandSpec>& command_table();
const CommandSpec* find_command(proto::MsgType type);

struct Caller {
    std::set<db::Permission> permissions;
    bool must_change_password = false;
};

// The one authorization decision: admin may do everything; otherwise the role must hold the
// command's permission, and a user whose password must change may only change it.
bool allowed(const Caller& caller, const CommandSpec& command);

// Names of the commands the caller may run, in table order (the help reply).
std::vector<std::string> allowed_commands(const Caller& caller);

}  // namespace sfts::server
