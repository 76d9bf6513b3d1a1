// libFuzzer target for the radio list parser (M3U and PLS, radio_list.hpp): any bytes as a list,
// against a few list URLs (the first byte picks one). An accepted list names at most
// max_list_entries distinct absolute http(s) URLs. 0 crashes and 0 sanitizer reports is the bar.
#include "detail/radio_list.hpp"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

constexpr std::string_view bases[] = {
    "http://radio.example/station.m3u",
    "https://user:pw@dir.example:8443/a/b/list.pls?token=x#frag",
    "http://[::1]:8000/",
    "https://h/",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto base = bases[data[0] % std::size(bases)];
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto entries = kithara::detail::radio_list_entries(text, base);
    if (!entries) return 0;
    check(entries->size() <= kithara::detail::max_list_entries);
    for (std::size_t i = 0; i < entries->size(); ++i) {
        const std::string_view e = (*entries)[i];
        std::string head(e.substr(0, 8));
        std::transform(head.begin(), head.end(), head.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        check(head.starts_with("http://") || head.starts_with("https://"));
        check(std::find(entries->begin(), entries->begin() + static_cast<std::ptrdiff_t>(i),
                        (*entries)[i]) == entries->begin() + static_cast<std::ptrdiff_t>(i));
    }
    return 0;
}
