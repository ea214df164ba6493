// The local side: a directory read into pane entries, and the path arithmetic of moving in it.
#pragma once

#include <string>
#include <vector>

#include "entry.hpp"

namespace sfts::tui {

// Every entry but "." (with ".." unless dir is "/"); links are followed so a linked directory
// opens like a directory. Error(not_found / permission_denied / io) when it cannot be read.
std::vector<Entry> list_local(const std::string& dir);

std::string absolute_dir(const std::string& dir);  // realpath; Error if it is not a directory
std::string join_path(const std::string& dir, const std::string& name);
// Where Enter on name leads from dir ("..": the parent).
std::string enter_dir(const std::string& dir, const std::string& name);

}  // namespace sfts::tui
