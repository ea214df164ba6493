#include "sfts/server/commands.hpp"

namespace sfts::server {

using db::Permission;
using proto::MsgType;

const std::vector<CommandSpec>& command_table() {
    static const std::vector<CommandSpec> table = {
        {MsgType::list_request, "ls", Permission::list, false},
        {MsgType::upload_begin, "upload", Permission::upload, false},
        // Many small files under one signed manifest; overwriting needs overwrite too (handler).
        {MsgType::batch_begin, "batch", Permission::upload, false},
        {MsgType::download_request, "download", Permission::download, false},
        {MsgType::delete_request, "delete", Permission::remove, false},
        {MsgType::update_password, "update", Permission::update, true},
        // Every account that can log in renews its own certificate (the CSR must name it).
        {MsgType::renew_request, "renew", std::nullopt, false},
        {MsgType::help_request, "help", std::nullopt, true},
        {MsgType::exit_request, "exit", std::nullopt, true},
    };
    return table;
}

const CommandSpec* find_command(MsgType type) {
    for (const auto& c : command_table())
        if (c.type == type) return &c;
    return nullptr;
}

bool allowed(const Caller& caller, const CommandSpec& command) {
    if (caller.must_change_password && !command.allowed_when_password_expired) return false;
    if (!command.needs) return true;
    if (caller.permissions.count(Permission::admin)) return true;
    return caller.permissions.count(*command.needs) > 0;
}

std::vector<std::string> allowed_commands(const Caller& caller) {
    std::vector<std::string> out;
    for (const auto& c : command_table())
        if (allowed(caller, c)) out.emplace_back(c.name);
    return out;
}

}  // namespace sfts::server
