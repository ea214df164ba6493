#include "local_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "sfts/error.hpp"

namespace sfts::tui {

namespace {

Errc errc_of(int err) {
    return err == ENOENT || err == ENOTDIR ? Errc::not_found : err == EACCES || err == EPERM ? Errc::permission_denied : Errc::io;
}

struct DirCloser {
    void operator()(DIR* d) const { ::closedir(d); }
};

}  // namespace

std::vector<Entry> list_local(const std::string& dir) {
    std::unique_ptr<DIR, DirCloser> d(::opendir(dir.c_str()));
    if (!d) fail(errc_of(errno), "cannot read " + dir + ": " + std::strerror(errno));
    std::vector<Entry> out;
    int fd = ::dirfd(d.get());
    while (dirent* de = ::readdir(d.get())) {
        std::string name = de->d_name;
        if (name == "." || (name == ".." && dir == "/")) continue;
        Entry e;
        e.name = name;
        struct stat st {};
        // A dangling link is still listed (as a file of size 0): the user should see it.
        if (::fstatat(fd, de->d_name, &st, 0) == 0 || ::fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            e.dir = S_ISDIR(st.st_mode);
            e.size = e.dir ? 0 : static_cast<std::uint64_t>(st.st_size);
            e.mtime_s = st.st_mtim.tv_sec;
        }
        out.push_back(std::move(e));
    }
    return out;
}

std::string absolute_dir(const std::string& dir) {
    char buf[PATH_MAX];
    if (!::realpath(dir.c_str(), buf)) fail(errc_of(errno), "cannot open " + dir + ": " + std::strerror(errno));
    struct stat st {};
    if (::stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) fail(Errc::invalid_argument, dir + " is not a directory");
    return buf;
}

std::string join_path(const std::string& dir, const std::string& name) {
    return dir.empty() || dir.back() == '/' ? dir + name : dir + "/" + name;
}

std::string enter_dir(const std::string& dir, const std::string& name) {
    if (name != "..") return join_path(dir, name);
    auto slash = dir.rfind('/');
    return slash == std::string::npos || slash == 0 ? "/" : dir.substr(0, slash);
}

}  // namespace sfts::tui
