// Certificate renewal, client side: the token steps shared by Session::renew and Session::connect.
#pragma once

#include "sfts/client/client.hpp"

namespace sfts::client {

// The label the new key pair has while a renewal is under way.
std::string renewal_label(const ClientConfig& cfg);
// Where enrollment makes its new key until the certificate is confirmed and stored (enroll.cpp).
std::string enrollment_label(const ClientConfig& cfg);

// A renewal stores DIR/client.crt first and then switches the token over (old key and
// certificate out, the new key under the configured label, the new certificate beside it). If
// the process died in between, this finishes the switch; a key from a renewal that never got
// its certificate is removed. Does nothing when no renewal was under way.
void finish_interrupted_renewal(const ClientConfig& cfg, const Secret& pin);

}  // namespace sfts::client
