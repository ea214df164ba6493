#include <array>

#include "sfts/db/database.hpp"
#include "sfts/error.hpp"

namespace sfts::db {

namespace {

struct Row {
    Permission p;
    std::string_view name;
};
// The names are what the database stores and what admins type: changing one is a migration.
constexpr std::array<Row, 7> kPermissions{{
    {Permission::list, "ls"},
    {Permission::upload, "upload"},
    {Permission::download, "download"},
    {Permission::remove, "delete"},
    {Permission::update, "update"},
    {Permission::overwrite, "overwrite"},
    {Permission::admin, "admin"},
}};

}  // namespace

std::string_view permission_name(Permission p) {
    for (const auto& r : kPermissions)
        if (r.p == p) return r.name;
    invariant_failed("known permission", __FILE__, __LINE__);
}

std::optional<Permission> permission_from_name(std::string_view name) {
    for (const auto& r : kPermissions)
        if (r.name == name) return r.p;
    return std::nullopt;
}

const std::vector<Permission>& all_permissions() {
    static const std::vector<Permission> all = [] {
        std::vector<Permission> v;
        for (const auto& r : kPermissions) v.push_back(r.p);
        return v;
    }();
    return all;
}

bool valid_role_name(std::string_view role) {
    if (role.empty() || role.size() > 32) return false;
    for (char c : role)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    return true;
}

}  // namespace sfts::db
