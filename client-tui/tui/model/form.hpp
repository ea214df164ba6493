// Input fields as data. A hidden field keeps its value in a Secret and never gives it to the
// view: PINs and passwords are not echoed, not even as stars (their length stays private too).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sfts/secret.hpp"

namespace sfts::tui {

struct Field {
    std::string label;
    std::string text;       // a visible field's value
    Secret secret;          // a hidden field's value
    bool hidden = false;
    bool locked = false;    // not editable; the view shows note (e.g. "from file:/path")
    std::string note;
    std::size_t max = 255;  // bytes
};

class Form {
public:
    std::size_t add(std::string label, std::string text = {});
    std::size_t add_hidden(std::string label);
    std::size_t add_locked(std::string label, std::string note);

    std::vector<Field>& fields() { return fields_; }
    const std::vector<Field>& fields() const { return fields_; }
    Field& operator[](std::size_t i) { return fields_[i]; }
    const Field& operator[](std::size_t i) const { return fields_[i]; }

    std::size_t focus() const { return focus_; }
    void set_focus(std::size_t i);
    void next();  // skips locked fields, wraps
    void prev();
    bool at_last() const;   // no editable field after the focused one
    bool at_first() const;  // none before it

    void insert(std::string_view utf8);  // into the focused field (one typed character)
    void erase();         // the focused field's last character
    // What the view may draw for field i: the text, the note of a locked field, nothing for a
    // hidden one.
    std::string display(std::size_t i) const;

private:
    std::vector<Field> fields_;
    std::size_t focus_ = 0;
};

}  // namespace sfts::tui
