#include "sfts/protocol/message.hpp"

#include <array>
#include <string>
#include <utility>

namespace sfts::proto {
namespace {

// The one message table: type byte, name, sender, whether it holds a secret, decoder.
struct Row {
    MsgType type;
    std::string_view name;
    Side sender;
    bool secret;
    Message (*decode)(ByteView body);
};

template <WireMessage M>
constexpr Row row(std::string_view name, Side sender, bool secret = false) {
    return Row{M::type, name, sender, secret, [](ByteView body) { return Message{M::decode(body)}; }};
}

constexpr auto client = Side::client;
constexpr auto server = Side::server;

constexpr std::array table{
    row<Hello>("hello", client),
    row<ServerHello>("server_hello", server),
    row<OkReply>("ok_reply", server),
    row<ErrorReply>("error_reply", server),
    row<EnrollStart>("enroll_start", client),
    row<EnrollChallenge>("enroll_challenge", server),
    row<EnrollCsr>("enroll_csr", client),
    row<EnrollResult>("enroll_result", server),
    row<EnrollConfirm>("enroll_confirm", client),
    row<ScramClientFirst>("scram_client_first", client),
    row<ScramServerFirst>("scram_server_first", server),
    row<ScramClientFinal>("scram_client_final", client),
    row<ScramServerFinal>("scram_server_final", server),
    row<SetInitialPassword>("set_initial_password", client, true),
    row<UploadBegin>("upload_begin", client),
    row<UploadChunk>("upload_chunk", client),
    row<UploadEnd>("upload_end", client),
    row<UploadReceipt>("upload_receipt", server),
    row<BatchBegin>("batch_begin", client),
    row<BatchFile>("batch_file", client),
    row<BatchEnd>("batch_end", client),
    row<BatchReceipt>("batch_receipt", server),
    row<DownloadRequest>("download_request", client),
    row<DownloadHeader>("download_header", server),
    row<DownloadChunk>("download_chunk", server),
    row<DownloadEnd>("download_end", server),
    row<TransferAbort>("transfer_abort", client),
    row<ListRequest>("list_request", client),
    row<ListPage>("list_page", server),
    row<DeleteRequest>("delete_request", client),
    row<UpdatePassword>("update_password", client, true),
    row<HelpRequest>("help_request", client),
    row<HelpReply>("help_reply", server),
    row<ExitRequest>("exit_request", client),
    row<RenewRequest>("renew_request", client),
    row<RenewResult>("renew_result", server),
};

// Every variant alternative has exactly one row, and no type byte is used twice.
template <std::size_t... I>
constexpr bool table_matches_variant(std::index_sequence<I...>) {
    const auto rows_of = [](MsgType t) {
        std::size_t n = 0;
        for (const Row& r : table) n += r.type == t ? 1 : 0;
        return n;
    };
    return ((rows_of(std::variant_alternative_t<I, Message>::type) == 1) && ...);
}
static_assert(table.size() == std::variant_size_v<Message>);
static_assert(table_matches_variant(std::make_index_sequence<std::variant_size_v<Message>>{}));

const Row* find(MsgType t) noexcept {
    for (const Row& r : table) {
        if (r.type == t) return &r;
    }
    return nullptr;
}

}  // namespace

std::string_view message_name(MsgType t) noexcept {
    const Row* r = find(t);
    return r ? r->name : "unknown";
}

std::optional<Side> sender_of(MsgType t) noexcept {
    const Row* r = find(t);
    return r ? std::optional<Side>(r->sender) : std::nullopt;
}

bool carries_secret(MsgType t) noexcept {
    const Row* r = find(t);
    return r && r->secret;
}

std::string_view service_name(Service s) noexcept {
    switch (s) {
        case Service::enroll: return "enroll";
        case Service::file: return "file";
    }
    return "unknown";
}

Message decode_message(const Frame& frame) {
    const Row* r = find(frame.type);
    if (!r) {
        fail(Errc::protocol,
             "unknown message type " + std::to_string(static_cast<unsigned>(frame.type)));
    }
    return r->decode(frame.body);
}

Message decode_message(Frame&& frame) {
    if (frame.type == UploadChunk::type) return UploadChunk::take(std::move(frame.body));
    if (frame.type == DownloadChunk::type) return DownloadChunk::take(std::move(frame.body));
    return decode_message(std::as_const(frame));
}

MsgType type_of(const Message& m) noexcept {
    return std::visit([](const auto& x) { return std::decay_t<decltype(x)>::type; }, m);
}

Bytes encode_message(const Message& m) {
    return std::visit([](const auto& x) { return encode_message(x); }, m);
}

}  // namespace sfts::proto
