// Compiles the example in the opening comment of kithara/assets/transform.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/assets/asset_store.hpp>
#include <kithara/assets/transform.hpp>

#include <cctype>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace snippets {

std::vector<std::byte> to_upper(std::span<const std::byte> in) {
    std::vector<std::byte> out(in.begin(), in.end());
    for (auto& b : out) b = static_cast<std::byte>(std::toupper(static_cast<unsigned char>(b)));
    return out;
}

void assets_transform(kithara::assets::asset_handle& handle, const std::string& url) {
#include "assets/transform.inc"
}

}  // namespace snippets
