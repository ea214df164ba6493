// Logs in with plain SCRAM-SHA-256, without channel binding (gs2 flag "n"), as a client that
// does not support binding would, or a relay that terminates TLS and passes the exchange on.
// Prints "login ok" or "login refused: KIND: MESSAGE"; exits 0 on ok, 1 on a refusal, 2 on a
// failure of the tool itself. usage: unbound_login CLIENT_CONFIG
#include "raw_client.hpp"

using namespace sfts;
using namespace sfts::test_client;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: unbound_login CLIENT_CONFIG\n";
        return 2;
    }
    try {
        Setup s(argv[1]);
        Conn c = connect(s);
        auth::ScramClient scram(s.user, s.password, {});  // no channel binding: SCRAM-SHA-256
        c.ch->send(proto::ScramClientFirst{scram.mechanism(), scram.client_first()}, soon());
        auto m = c.rx();
        if (auto* e = std::get_if<proto::ErrorReply>(&m)) {
            std::cout << "login refused: " << errc_name(e->errc()) << ": " << e->message << std::endl;
            return 1;
        }
        c.ch->send(proto::ScramClientFinal{scram.client_final(std::get<proto::ScramServerFirst>(m).sasl)}, soon());
        m = c.rx();
        if (auto* e = std::get_if<proto::ErrorReply>(&m)) {
            std::cout << "login refused: " << errc_name(e->errc()) << ": " << e->message << std::endl;
            return 1;
        }
        scram.verify_server_final(std::get<proto::ScramServerFinal>(m).sasl);
        std::cout << "login ok (" << scram.mechanism() << ")" << std::endl;
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "unbound_login: " << e.what() << std::endl;
        return 2;
    }
}
