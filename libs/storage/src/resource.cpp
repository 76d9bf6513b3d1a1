#include <kithara/storage/resource.hpp>

namespace kithara::storage {

resource::~resource() = default;

}  // namespace kithara::storage
