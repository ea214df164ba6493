// Text for sizes, times and transfer progress. Pure functions: the tests pin every format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sfts::tui {

std::string human_size(std::uint64_t bytes);    // "512 B", "1.5 KiB", "200.0 MiB"
std::string compact_size(std::uint64_t bytes);  // at most 6 characters, for columns: "999", "1.5K", "200M"
std::string eta_text(std::optional<double> seconds);  // "0:07", "1:02:03", "--:--" when unknown

// "X / Y - p% - ETA m:ss - R/s", the line termscp and mc show for a transfer. A rate of 0
// means not yet known.
std::string progress_text(std::uint64_t done, std::uint64_t total, double bytes_per_second);
int percent(std::uint64_t done, std::uint64_t total);  // floor: 100 only when done

std::string short_time(std::int64_t epoch_s);  // "05-01 12:34" (local time), for columns
std::string long_time(std::int64_t epoch_s);   // "2024-05-01 12:34:56"

// A peer's or the filesystem's string made safe to draw, reversibly: sfts::escape_text
// (common/sfts/text.hpp), as the logs do it: printable text stays, '\\' becomes "\\\\", \n \r \t become "\\n" "\\r"
// "\\t", other control bytes and bytes that are not UTF-8 "\\xHH", invisible or
// terminal-controlling code points (C1 controls, bidi overrides, zero-width ones) "\\uHHHH".
// The result holds no control character, so nothing of a file name reaches the terminal raw.
std::string printable(std::string_view s);
// True when s holds something printable() would escape (other than '\\').
bool has_unsafe_text(std::string_view s);
// The view's last fence before the terminal: s itself when it is safe (text the controller
// composed from printable() parts), printable(s) otherwise.
std::string terminal_safe(std::string_view s);

// "1 file", "2 files", "0 files".
std::string plural(std::uint64_t n, std::string_view one, std::string_view many);

}  // namespace sfts::tui
