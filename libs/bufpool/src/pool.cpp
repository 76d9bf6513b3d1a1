#include <kithara/bufpool/pool.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

namespace kithara::bufpool {

namespace detail {

inline constexpr std::size_t block_alignment = 64;

// One shard: free lists per size class, guarded by `mutex`. Counters are relaxed atomics so
// that stats() never takes a lock; each is touched mostly by the threads mapped to this shard.
struct alignas(64) shard {
    std::mutex mutex;
    std::vector<std::vector<void*>> free;  // [class] -> idle blocks; capacity reserved up front
    std::size_t idle_bytes = 0;            // guarded by mutex

    std::atomic<std::uint64_t> hits{0};
    std::atomic<std::uint64_t> misses{0};
    std::atomic<std::uint64_t> oversize{0};
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::int64_t> live_bytes{0};
    std::atomic<std::int64_t> live_blocks{0};
    std::atomic<std::size_t> idle_bytes_seen{0};
    std::atomic<std::size_t> idle_blocks_seen{0};
};

}  // namespace detail

namespace {

void* allocate_block(std::size_t bytes) {
    return ::operator new (bytes, std::align_val_t{detail::block_alignment});
}

void free_block(void* p, std::size_t bytes) noexcept {
    (void)bytes;  // unsized: clang 14 does not enable sized deallocation by default
    ::operator delete (p, std::align_val_t{detail::block_alignment});
}

std::size_t round_up_aligned(std::size_t bytes) noexcept {
    return (bytes + detail::block_alignment - 1) & ~(detail::block_alignment - 1);
}

unsigned default_shard_count() noexcept {
    const unsigned hw = std::max(2U, std::thread::hardware_concurrency());
    return std::min(16U, std::bit_ceil(hw));
}

std::atomic<unsigned> next_thread_slot{0};

unsigned thread_slot() noexcept {
    thread_local const unsigned slot = next_thread_slot.fetch_add(1, std::memory_order_relaxed);
    return slot;
}

}  // namespace

block_pool::block_pool(pool_options options) : options_(options) {
    assert(std::has_single_bit(options_.min_block_bytes));
    assert(std::has_single_bit(options_.max_block_bytes));
    assert(options_.min_block_bytes <= options_.max_block_bytes);
    options_.min_block_bytes = std::bit_ceil(std::max<std::size_t>(options_.min_block_bytes, 64));
    options_.max_block_bytes =
        std::bit_ceil(std::max(options_.max_block_bytes, options_.min_block_bytes));
    shard_count_ = options_.shards != 0 ? std::bit_ceil(options_.shards) : default_shard_count();
    min_shift_ = static_cast<unsigned>(std::countr_zero(options_.min_block_bytes));
    class_count_ =
        static_cast<unsigned>(std::countr_zero(options_.max_block_bytes)) - min_shift_ + 1;
    shard_idle_budget_ = options_.max_idle_bytes / shard_count_;
    shards_ = std::make_unique<detail::shard[]>(shard_count_);
    for (unsigned s = 0; s < shard_count_; ++s) {
        auto& sh = shards_[s];
        sh.free.resize(class_count_);
        for (unsigned c = 0; c < class_count_; ++c) {
            const std::size_t class_bytes = options_.min_block_bytes << c;
            // Never keep more blocks of a class than the shard's idle budget could hold.
            const std::size_t fit = class_bytes > 0 ? shard_idle_budget_ / class_bytes : 0;
            sh.free[c].reserve(std::min(options_.max_idle_blocks_per_class, fit));
        }
    }
}

block_pool::~block_pool() {
    assert(stats().live_blocks == 0 && "a pool must outlive its buffers");
    trim(0);
}

detail::shard& block_pool::local_shard() const noexcept {
    return shards_[thread_slot() & (shard_count_ - 1)];
}

unsigned block_pool::class_of(std::size_t bytes) const noexcept {
    const std::size_t rounded = std::bit_ceil(std::max(bytes, options_.min_block_bytes));
    return static_cast<unsigned>(std::countr_zero(rounded)) - min_shift_;
}

block_pool::block block_pool::acquire(std::size_t bytes) {
    auto& home = local_shard();
    if (bytes > options_.max_block_bytes) {
        const std::size_t exact = round_up_aligned(bytes);
        void* p = allocate_block(exact);
        home.oversize.fetch_add(1, std::memory_order_relaxed);
        home.live_bytes.fetch_add(static_cast<std::int64_t>(exact), std::memory_order_relaxed);
        home.live_blocks.fetch_add(1, std::memory_order_relaxed);
        return {p, exact};
    }
    const unsigned c = class_of(bytes);
    const std::size_t class_bytes = options_.min_block_bytes << c;

    // Own shard first, then steal from the others (a block returned on another thread still hits).
    const unsigned first = static_cast<unsigned>(&home - shards_.get());
    for (unsigned i = 0; i < shard_count_; ++i) {
        auto& sh = shards_[(first + i) & (shard_count_ - 1)];
        void* p = nullptr;
        {
            std::lock_guard lock(sh.mutex);
            auto& list = sh.free[c];
            if (!list.empty()) {
                p = list.back();
                list.pop_back();
                sh.idle_bytes -= class_bytes;
                sh.idle_bytes_seen.store(sh.idle_bytes, std::memory_order_relaxed);
                sh.idle_blocks_seen.fetch_sub(1, std::memory_order_relaxed);
            }
        }
        if (p != nullptr) {
            home.hits.fetch_add(1, std::memory_order_relaxed);
            home.live_bytes.fetch_add(static_cast<std::int64_t>(class_bytes),
                                      std::memory_order_relaxed);
            home.live_blocks.fetch_add(1, std::memory_order_relaxed);
            return {p, class_bytes};
        }
    }
    void* p = allocate_block(class_bytes);
    home.misses.fetch_add(1, std::memory_order_relaxed);
    home.live_bytes.fetch_add(static_cast<std::int64_t>(class_bytes), std::memory_order_relaxed);
    home.live_blocks.fetch_add(1, std::memory_order_relaxed);
    return {p, class_bytes};
}

void block_pool::release(void* data, std::size_t bytes) noexcept {
    if (data == nullptr) return;
    auto& home = local_shard();
    home.live_bytes.fetch_sub(static_cast<std::int64_t>(bytes), std::memory_order_relaxed);
    home.live_blocks.fetch_sub(1, std::memory_order_relaxed);
    if (bytes > options_.max_block_bytes) {
        free_block(data, bytes);
        return;
    }
    const unsigned c = class_of(bytes);
    assert((options_.min_block_bytes << c) == bytes && "released size is not the block's size");
    {
        std::lock_guard lock(home.mutex);
        auto& list = home.free[c];
        if (list.size() < list.capacity() && home.idle_bytes + bytes <= shard_idle_budget_) {
            list.push_back(data);  // never allocates: capacity reserved at construction
            home.idle_bytes += bytes;
            home.idle_bytes_seen.store(home.idle_bytes, std::memory_order_relaxed);
            home.idle_blocks_seen.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    home.dropped.fetch_add(1, std::memory_order_relaxed);
    free_block(data, bytes);
}

void block_pool::trim(std::size_t keep_idle_bytes) noexcept {
    const std::size_t keep_per_shard = keep_idle_bytes / shard_count_;
    std::vector<std::pair<void*, std::size_t>> victims;
    for (unsigned s = 0; s < shard_count_; ++s) {
        auto& sh = shards_[s];
        {
            std::lock_guard lock(sh.mutex);
            // Largest classes first: frees the most memory for the fewest blocks.
            for (unsigned c = class_count_; c-- > 0 && sh.idle_bytes > keep_per_shard;) {
                const std::size_t class_bytes = options_.min_block_bytes << c;
                auto& list = sh.free[c];
                while (!list.empty() && sh.idle_bytes > keep_per_shard) {
                    victims.emplace_back(list.back(), class_bytes);
                    list.pop_back();
                    sh.idle_bytes -= class_bytes;
                    sh.idle_blocks_seen.fetch_sub(1, std::memory_order_relaxed);
                }
            }
            sh.idle_bytes_seen.store(sh.idle_bytes, std::memory_order_relaxed);
        }
        for (auto [p, n] : victims) free_block(p, n);  // outside the lock
        victims.clear();
    }
}

pool_stats block_pool::stats() const noexcept {
    pool_stats st;
    std::int64_t live_bytes = 0;
    std::int64_t live_blocks = 0;
    for (unsigned s = 0; s < shard_count_; ++s) {
        const auto& sh = shards_[s];
        st.hits += sh.hits.load(std::memory_order_relaxed);
        st.misses += sh.misses.load(std::memory_order_relaxed);
        st.oversize += sh.oversize.load(std::memory_order_relaxed);
        st.dropped += sh.dropped.load(std::memory_order_relaxed);
        st.idle_bytes += sh.idle_bytes_seen.load(std::memory_order_relaxed);
        st.idle_blocks += sh.idle_blocks_seen.load(std::memory_order_relaxed);
        live_bytes += sh.live_bytes.load(std::memory_order_relaxed);
        live_blocks += sh.live_blocks.load(std::memory_order_relaxed);
    }
    st.allocations = st.misses + st.oversize;
    st.live_bytes = static_cast<std::size_t>(std::max<std::int64_t>(live_bytes, 0));
    st.live_blocks = static_cast<std::size_t>(std::max<std::int64_t>(live_blocks, 0));
    return st;
}

byte_pool& default_byte_pool() {
    static auto* p = new byte_pool();  // immortal: buffers may outlive static destruction
    return *p;
}

sample_pool& default_sample_pool() {
    static auto* p = new sample_pool();
    return *p;
}

}  // namespace kithara::bufpool
