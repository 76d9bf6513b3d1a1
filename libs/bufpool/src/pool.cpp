#include <kithara/bufpool/pool.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

namespace kithara::bufpool {

namespace detail {

inline constexpr std::size_t block_alignment = 64;

// One shard: free lists per size class and the shard's counters, all guarded by `mutex`. A get
// or put takes exactly one uncontended lock on the hot path; stats() locks each shard briefly.
struct alignas(64) shard {
    std::mutex mutex;
    std::vector<std::vector<void*>> free;  // [class] -> idle blocks; capacity reserved up front
    std::size_t idle_bytes = 0;
    std::size_t idle_blocks = 0;
    std::size_t credit = 0;  // idle-bound bytes reserved from the pool's global count, unused
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t oversize = 0;
    std::uint64_t dropped = 0;
    // Signed: a block taken through one shard may come back through another.
    std::int64_t live_bytes = 0;
    std::int64_t live_blocks = 0;
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

// Twice the hardware threads: consecutive threads land on distinct shards.
unsigned default_shard_count() noexcept {
    const unsigned hw = std::max(1U, std::thread::hardware_concurrency());
    return std::clamp(std::bit_ceil(2 * hw), 4U, 32U);
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
    credit_chunk_ = options_.max_idle_bytes / (4 * std::size_t{shard_count_});
    shards_ = std::make_unique<detail::shard[]>(shard_count_);
    for (unsigned s = 0; s < shard_count_; ++s) {
        auto& sh = shards_[s];
        sh.free.resize(class_count_);
        for (unsigned c = 0; c < class_count_; ++c) {
            const std::size_t class_bytes = options_.min_block_bytes << c;
            // Never keep more blocks of a class than the idle bound could hold.
            const std::size_t fit = options_.max_idle_bytes / class_bytes;
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

bool block_pool::take_credit(detail::shard& sh, std::size_t bytes) noexcept {
    if (sh.credit >= bytes) {
        sh.credit -= bytes;
        return true;
    }
    const std::size_t need = bytes - sh.credit;
    for (const std::size_t want : {need + credit_chunk_, need}) {
        if (idle_total_.fetch_add(want, std::memory_order_relaxed) + want <=
            options_.max_idle_bytes) {
            sh.credit = sh.credit + want - bytes;
            return true;
        }
        idle_total_.fetch_sub(want, std::memory_order_relaxed);
    }
    return false;
}

void block_pool::give_credit(detail::shard& sh, std::size_t bytes) noexcept {
    sh.credit += bytes;
    if (sh.credit > 2 * credit_chunk_) {
        idle_total_.fetch_sub(sh.credit - credit_chunk_, std::memory_order_relaxed);
        sh.credit = credit_chunk_;
    }
}

block_pool::block block_pool::acquire(std::size_t bytes) {
    auto& home = local_shard();
    const auto note_live = [](detail::shard& sh, std::size_t n) {
        sh.live_bytes += static_cast<std::int64_t>(n);
        sh.live_blocks += 1;
    };
    if (bytes > options_.max_block_bytes) {
        const std::size_t exact = round_up_aligned(bytes);
        void* p = allocate_block(exact);
        std::lock_guard lock(home.mutex);
        home.oversize += 1;
        note_live(home, exact);
        return {p, exact};
    }
    const unsigned c = class_of(bytes);
    const std::size_t class_bytes = options_.min_block_bytes << c;

    // Own shard first, then steal from the others (a block returned on another thread still hits).
    const unsigned first = static_cast<unsigned>(&home - shards_.get());
    for (unsigned i = 0; i < shard_count_; ++i) {
        auto& sh = shards_[(first + i) & (shard_count_ - 1)];
        std::lock_guard lock(sh.mutex);
        auto& list = sh.free[c];
        if (!list.empty()) {
            void* p = list.back();
            list.pop_back();
            sh.idle_bytes -= class_bytes;
            sh.idle_blocks -= 1;
            give_credit(sh, class_bytes);
            sh.hits += 1;
            note_live(sh, class_bytes);
            return {p, class_bytes};
        }
    }
    void* p = allocate_block(class_bytes);
    std::lock_guard lock(home.mutex);
    home.misses += 1;
    note_live(home, class_bytes);
    return {p, class_bytes};
}

void block_pool::release(void* data, std::size_t bytes) noexcept {
    if (data == nullptr) return;
    auto& home = local_shard();
    {
        std::lock_guard lock(home.mutex);
        home.live_bytes -= static_cast<std::int64_t>(bytes);
        home.live_blocks -= 1;
        if (bytes <= options_.max_block_bytes) {
            const unsigned c = class_of(bytes);
            assert((options_.min_block_bytes << c) == bytes && "released size is not the block's");
            auto& list = home.free[c];
            // The idle bound is global (one thread may use all of it); shards reserve it in
            // chunks so that the shared counter is touched rarely.
            if (list.size() < list.capacity() && take_credit(home, bytes)) {
                list.push_back(data);  // never allocates: capacity reserved at construction
                home.idle_bytes += bytes;
                home.idle_blocks += 1;
                return;
            }
            home.dropped += 1;
        }
    }
    free_block(data, bytes);  // outside the lock
}

void block_pool::trim(std::size_t keep_idle_bytes) noexcept {
    // Unused reservations first, so that the global count is the bytes actually idle.
    for (unsigned s = 0; s < shard_count_; ++s) {
        std::lock_guard lock(shards_[s].mutex);
        idle_total_.fetch_sub(shards_[s].credit, std::memory_order_relaxed);
        shards_[s].credit = 0;
    }
    // Then one block at a time, largest classes first (the most memory for the fewest frees);
    // each is freed outside the lock.
    for (unsigned s = 0; s < shard_count_; ++s) {
        auto& sh = shards_[s];
        for (unsigned c = class_count_; c-- > 0;) {
            const std::size_t class_bytes = options_.min_block_bytes << c;
            for (;;) {
                void* victim = nullptr;
                {
                    std::lock_guard lock(sh.mutex);
                    auto& list = sh.free[c];
                    if (list.empty() ||
                        idle_total_.load(std::memory_order_relaxed) <= keep_idle_bytes) {
                        break;
                    }
                    victim = list.back();
                    list.pop_back();
                    sh.idle_bytes -= class_bytes;
                    sh.idle_blocks -= 1;
                    idle_total_.fetch_sub(class_bytes, std::memory_order_relaxed);
                }
                free_block(victim, class_bytes);
            }
        }
    }
}

pool_stats block_pool::stats() const noexcept {
    pool_stats st;
    std::int64_t live_bytes = 0;
    std::int64_t live_blocks = 0;
    for (unsigned s = 0; s < shard_count_; ++s) {
        auto& sh = shards_[s];
        std::lock_guard lock(sh.mutex);
        st.hits += sh.hits;
        st.misses += sh.misses;
        st.oversize += sh.oversize;
        st.dropped += sh.dropped;
        st.idle_bytes += sh.idle_bytes;
        st.idle_blocks += sh.idle_blocks;
        live_bytes += sh.live_bytes;
        live_blocks += sh.live_blocks;
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
