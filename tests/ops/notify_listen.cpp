// Stands in for systemd's notification socket: binds a unix datagram socket at argv[1] and
// prints each datagram it receives as one line (newlines inside become '|'), flushed at once,
// until it is killed. Tests point sftsd's NOTIFY_SOCKET at it.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: notify_listen SOCKET_PATH\n");
        return 1;
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (std::strlen(argv[1]) >= sizeof addr.sun_path) {
        std::fprintf(stderr, "notify_listen: path too long\n");
        return 1;
    }
    std::strcpy(addr.sun_path, argv[1]);
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("notify_listen: bind");
        return 1;
    }
    std::array<char, 4096> buf{};
    for (;;) {
        ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n < 0) continue;
        std::string line(buf.data(), static_cast<std::size_t>(n));
        for (char& c : line)
            if (c == '\n') c = '|';
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
    }
}
