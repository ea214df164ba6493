#include "sfts/secret.hpp"

#include <openssl/crypto.h>

namespace sfts {

Secret::Secret(Secret&& other) noexcept { value_.swap(other.value_); }

void Secret::push_back(char c) {
    if (value_.size() == value_.capacity()) {
        std::string bigger;
        bigger.reserve(value_.capacity() * 2 + 32);
        bigger.assign(value_);
        wipe();
        value_.swap(bigger);
    }
    value_.push_back(c);
}

Secret& Secret::operator=(Secret&& other) noexcept {
    if (this != &other) {
        wipe();
        value_.swap(other.value_);
    }
    return *this;
}

void Secret::wipe() noexcept {
    // Wipe the whole capacity: earlier, longer contents may linger past size().
    if (value_.capacity() > 0) OPENSSL_cleanse(value_.data(), value_.capacity());
    value_.clear();
}

void Secret::pop_back() noexcept {
    if (!value_.empty()) {
        value_.back() = '\0';
        value_.pop_back();
    }
}

}  // namespace sfts
