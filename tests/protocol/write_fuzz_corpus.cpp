// Writes the libFuzzer seed corpora of fuzz_decode and fuzz_records (fuzz/corpus/<target>/) from
// the sample conversations when SFTS_WRITE_FUZZ_CORPUS names fuzz/corpus; otherwise does nothing.
// fuzz_decode's input: one control byte (bit 0: file service; bits 1-7: split size - 1), then
// the stream; fuzz_records's input: the stream alone.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include "samples.hpp"

using namespace sfts::proto;
using namespace sfts::proto::test;

namespace {

void write_seed(const std::string& dir, const std::string& name, std::uint8_t control,
                const Bytes& stream) {
    std::ofstream out(dir + "/fuzz_decode/" + name, std::ios::binary | std::ios::trunc);
    BOOST_REQUIRE(out);
    out.put(static_cast<char>(control));
    out.write(reinterpret_cast<const char*>(stream.data()), static_cast<std::streamsize>(stream.size()));
    BOOST_REQUIRE(out);
    std::ofstream records(dir + "/fuzz_records/" + name, std::ios::binary | std::ios::trunc);
    records.write(reinterpret_cast<const char*>(stream.data()), static_cast<std::streamsize>(stream.size()));
    BOOST_REQUIRE(records);
}

std::uint8_t control(Service s, std::uint8_t split) {
    return static_cast<std::uint8_t>(((split - 1) << 1) | (s == Service::file ? 1 : 0));
}

}  // namespace

BOOST_AUTO_TEST_CASE(write_fuzz_corpus) {
    const char* dir = std::getenv("SFTS_WRITE_FUZZ_CORPUS");
    if (!dir) return;
    for (const auto& [name, c] : {std::pair{"enroll", enroll_conversation()},
                                  std::pair{"file_session", file_conversation()},
                                  std::pair{"initial_password", initial_password_conversation()},
                                  std::pair{"aborts", abort_conversation()},
                                  std::pair{"batch", batch_conversation()}}) {
        write_seed(dir, name, control(c.service, 7), encode_all(c.messages));
    }
    write_seed(dir, "one_of_each", control(Service::file, 1), encode_all(one_of_each()));
}
