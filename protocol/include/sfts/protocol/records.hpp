// The canonical byte strings that get signed. Signer and verifier each rebuild the bytes
// from the fields they hold, so both sides must agree on one encoding (docs/protocol.md,
// "Canonical signed records"): a domain string naming the record and its version, then
// every field in a fixed order, each byte string u32-length-prefixed, each integer
// fixed-width big-endian. The domain string keeps a signature over one kind of record from
// being replayed as another.
#pragma once

#include <string>
#include <string_view>

#include <vector>

#include "sfts/protocol/bytes.hpp"
#include "sfts/protocol/messages_batch.hpp"
#include "sfts/protocol/messages_common.hpp"
#include "sfts/protocol/messages_transfer.hpp"

namespace sfts::proto {

inline constexpr std::string_view upload_record_domain = "sfts-upload-v1";
inline constexpr std::string_view receipt_record_domain = "sfts-receipt-v1";
inline constexpr std::string_view download_record_domain = "sfts-download-v1";
inline constexpr std::string_view update_password_record_domain = "sfts-update-password-v1";
inline constexpr std::string_view batch_record_domain = "sfts-batch-v1";
inline constexpr std::string_view batch_receipt_record_domain = "sfts-batch-receipt-v1";

// Signed by the client (RSA-PSS, token key) and sent in UploadEnd.signature. user is the
// authenticated user the server knows from the login, not a field the client chooses.
Bytes upload_record(std::string_view user, const UploadBegin& begin, const Sha256& sha256);

// Signed by the server and sent in UploadReceipt.server_signature. upload_signature is the
// client's UploadEnd.signature, so the receipt vouches for exactly what the client signed.
Bytes receipt_record(const UploadReceipt& receipt, ByteView upload_signature);

// One file of a batch manifest: its name, size and SHA-256 as the signer computed them.
struct BatchEntry {
    std::string filename;
    std::uint64_t size = 0;
    Sha256 sha256{};
    bool operator==(const BatchEntry&) const = default;
};

// The batch manifest, signed by the client (RSA-PSS, token key) and sent in BatchEnd.signature.
// The server rebuilds it from what it received and hashed itself. entries must number
// begin.count: Error(invalid_argument) otherwise.
Bytes batch_record(std::string_view user, const BatchBegin& begin, const std::vector<BatchEntry>& entries);

// Signed by the server and sent in BatchReceipt.server_signature. batch_signature is the
// client's BatchEnd.signature, so the receipt vouches for exactly the manifest it signed.
Bytes batch_receipt_record(std::string_view user, const BatchBegin& begin, ByteView batch_signature,
                           std::int64_t stored_at_ms);

// Signed by the server and sent in DownloadHeader.server_signature.
Bytes download_record(const DownloadHeader& header);

// The message of UpdatePassword.old_proof (see messages_commands.hpp).
Bytes update_password_record(std::string_view user, const CommandHeader& header);

}  // namespace sfts::proto
