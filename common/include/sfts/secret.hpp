// A string for PINs and passwords: wiped on destruction and on every reassignment,
// never copied implicitly (docs/conventions.md §7).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sfts {

class Secret {
public:
    Secret() = default;
    explicit Secret(std::string_view s) : value_(s) {}
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    Secret(Secret&& other) noexcept;
    Secret& operator=(Secret&& other) noexcept;
    ~Secret() { wipe(); }

    // Explicit copy, for the rare place that must hand a second owner a copy.
    Secret clone() const { return Secret(view()); }

    void wipe() noexcept;
    void push_back(char c);  // grows without leaving an unwiped old buffer behind
    void pop_back() noexcept;
    bool empty() const noexcept { return value_.empty(); }
    std::size_t size() const noexcept { return value_.size(); }
    const char* c_str() const noexcept { return value_.c_str(); }
    std::string_view view() const noexcept { return value_; }
    // The secret's bytes, e.g. as an HMAC key.
    std::span<const std::uint8_t> bytes() const noexcept {
        return {reinterpret_cast<const std::uint8_t*>(value_.data()), value_.size()};
    }

private:
    std::string value_;
};

}  // namespace sfts
