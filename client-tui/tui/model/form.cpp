#include "form.hpp"

namespace sfts::tui {

std::size_t Form::add(std::string label, std::string text) {
    Field f;
    f.label = std::move(label);
    f.text = std::move(text);
    fields_.push_back(std::move(f));
    return fields_.size() - 1;
}

std::size_t Form::add_hidden(std::string label) {
    auto i = add(std::move(label));
    fields_[i].hidden = true;
    return i;
}

std::size_t Form::add_locked(std::string label, std::string note) {
    auto i = add(std::move(label));
    fields_[i].locked = true;
    fields_[i].note = std::move(note);
    if (focus_ == i) next();
    return i;
}

void Form::set_focus(std::size_t i) {
    if (i < fields_.size() && !fields_[i].locked) focus_ = i;
}

void Form::next() {
    for (std::size_t step = 1; step <= fields_.size(); ++step) {
        std::size_t i = (focus_ + step) % fields_.size();
        if (!fields_[i].locked) {
            focus_ = i;
            return;
        }
    }
}

void Form::prev() {
    for (std::size_t step = 1; step <= fields_.size(); ++step) {
        std::size_t i = (focus_ + fields_.size() - step) % fields_.size();
        if (!fields_[i].locked) {
            focus_ = i;
            return;
        }
    }
}

bool Form::at_last() const {
    for (std::size_t i = focus_ + 1; i < fields_.size(); ++i)
        if (!fields_[i].locked) return false;
    return true;
}

bool Form::at_first() const {
    for (std::size_t i = 0; i < focus_ && i < fields_.size(); ++i)
        if (!fields_[i].locked) return false;
    return true;
}

void Form::insert(std::string_view utf8) {
    if (fields_.empty()) return;
    Field& f = fields_[focus_];
    if (f.locked) return;
    if (f.hidden) {
        if (f.secret.size() + utf8.size() > f.max) return;
        for (char c : utf8) f.secret.push_back(c);
    } else if (f.text.size() + utf8.size() <= f.max) {
        f.text.append(utf8);
    }
}

void Form::erase() {
    if (fields_.empty()) return;
    Field& f = fields_[focus_];
    if (f.locked) return;
    // Drop a whole UTF-8 sequence, not just its last byte.
    auto continuation = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; };
    if (f.hidden) {
        while (f.secret.size() > 1 && continuation(f.secret.view().back())) f.secret.pop_back();
        if (!f.secret.empty()) f.secret.pop_back();
    } else if (!f.text.empty()) {
        while (f.text.size() > 1 && continuation(f.text.back())) f.text.pop_back();
        f.text.pop_back();
    }
}

std::string Form::display(std::size_t i) const {
    const Field& f = fields_[i];
    if (f.locked) return f.note;
    if (f.hidden) return {};
    return f.text;
}

}  // namespace sfts::tui
