#include "sfts/protocol/messages_renew.hpp"

#include <utility>

#include "fields.hpp"

namespace sfts::proto {

Bytes RenewRequest::encode() const {
    Writer w;
    header.write(w);
    w.nonempty_bytes(csr_der, max_cert_bytes, "csr");
    return std::move(w).take();
}

RenewRequest RenewRequest::decode(ByteView body) {
    Reader r(body);
    RenewRequest m;
    m.header = CommandHeader::read(r);
    m.csr_der = fields::to_bytes(r.nonempty_bytes(max_cert_bytes, "csr"));
    r.expect_end();
    return m;
}

Bytes RenewResult::encode() const {
    Writer w;
    w.u64(request_id);
    w.nonempty_bytes(cert_der, max_cert_bytes, "certificate");
    return std::move(w).take();
}

RenewResult RenewResult::decode(ByteView body) {
    Reader r(body);
    RenewResult m;
    m.request_id = r.u64();
    m.cert_der = fields::to_bytes(r.nonempty_bytes(max_cert_bytes, "certificate"));
    r.expect_end();
    return m;
}

}  // namespace sfts::proto
