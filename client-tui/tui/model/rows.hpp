// What a pane draws for its entries, as text: one row, the details line under the list, the
// count in the bottom border. Every name passes printable() here, once.
#pragma once

#include <string>

#include "../view/layout.hpp"
#include "entry.hpp"
#include "pane.hpp"

namespace sfts::tui {

std::string row_text(const Entry& e, const Columns& c, bool marked);
std::string details(const Entry& e);
// " 1 file - 2 marked - filter: x " (remote) or " 3 entries ..." (local).
std::string pane_info(const Pane& p, bool remote);

}  // namespace sfts::tui
