// bandwidth: link_meter (concurrent transfers as one link) and bandwidth_estimator (fast and slow
// moving averages behind a median-of-three prefilter).
#include <kithara/net/bandwidth.hpp>

namespace kithara::net {
}  // namespace kithara::net
