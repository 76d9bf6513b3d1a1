#include <kithara/core/error.hpp>

namespace kithara {

std::string error::message() const {
    std::string line;
    if (code_) {
        line.append(code_.category().name()).append(": ").append(code_.message());
    } else {
        line = "no error";
    }
    if (!context_.empty()) line.append(" (").append(context_).append(")");
    return line;
}

error& error::add_context(std::string_view outer) {
    if (context_.empty()) {
        context_ = outer;
    } else {
        std::string joined(outer);
        joined.append(": ").append(context_);
        context_ = std::move(joined);
    }
    return *this;
}

}  // namespace kithara
