#include "detail/variables.hpp"

#include <cstring>

namespace kithara::hls::detail {
namespace {
bool is_var_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}
}  // namespace

bool variables::valid_name(std::string_view name) noexcept {
    if (name.empty()) return false;
    for (char c : name) {
        if (!is_var_char(c)) return false;
    }
    return true;
}

variables::outcome variables::define(std::string_view name, std::string_view value,
                                     std::string& what) {
    if (!valid_name(name)) {
        what = "variable name \"" + std::string(name) + "\" is not of [a-zA-Z0-9-_]";
        return outcome::invalid_name;
    }
    if (find(name) != nullptr) {
        what = "variable \"" + std::string(name) + "\" is already defined";
        return outcome::duplicate;
    }
    if (list_.size() >= limits_.max_variables) {
        what = "more than " + std::to_string(limits_.max_variables) +
               " variables (limit max_variables)";
        return outcome::limit;
    }
    list_.push_back({std::string(name), std::string(value)});
    return outcome::ok;
}

const std::string* variables::find(std::string_view name) const noexcept {
    for (const auto& v : list_) {
        if (v.name == name) return &v.value;
    }
    return nullptr;
}

bool variables::has_reference(std::string_view text) noexcept {
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
        const void* hit = std::memchr(p, '{', static_cast<std::size_t>(end - p));
        if (hit == nullptr) return false;
        p = static_cast<const char*>(hit);
        if (p + 1 < end && p[1] == '$') return true;
        ++p;
    }
    return false;
}

variables::outcome variables::substitute(std::string_view text, std::string& out,
                                         std::string& what) {
    out.clear();
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t open = text.find("{$", i);
        if (open == std::string_view::npos) break;
        std::size_t k = open + 2;
        while (k < text.size() && is_var_char(text[k])) ++k;
        if (k == open + 2 || k == text.size() || text[k] != '}') {
            // Not a reference by the grammar: kept literally.
            out.append(text.substr(i, k - i));
            i = k;
            continue;
        }
        const std::string_view name = text.substr(open + 2, k - open - 2);
        const std::string* value = find(name);
        if (value == nullptr) {
            what = "variable \"" + std::string(name) + "\" is referenced but not defined";
            return outcome::undefined;
        }
        out.append(text.substr(i, open - i));
        expanded_ += value->size();
        if (out.size() + value->size() > limits_.max_line_length) {
            what = "substitution makes the value longer than " +
                   std::to_string(limits_.max_line_length) + " bytes (limit max_line_length)";
            return outcome::limit;
        }
        if (expanded_ > limits_.max_expansion_bytes) {
            what = "variable substitution exceeds " + std::to_string(limits_.max_expansion_bytes) +
                   " bytes (limit max_expansion_bytes)";
            return outcome::limit;
        }
        out.append(*value);
        i = k + 1;
    }
    out.append(text.substr(i));
    return outcome::ok;
}

}  // namespace kithara::hls::detail
