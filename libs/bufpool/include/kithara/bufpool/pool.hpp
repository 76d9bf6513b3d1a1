// Size-classed, sharded buffer pools with RAII handles: layer 0 of Kithara.
//
//   kithara::bufpool::byte_pool pool;                 // or default_byte_pool()
//   kithara::bufpool::byte_buffer buf = pool.get(64 * 1024);
//   std::span<std::byte> bytes = buf;                 // returned to the pool when buf dies
//
// Requests are rounded up to a power-of-two size class (min_block_bytes .. max_block_bytes);
// larger requests are allocated exactly and never retained. Memory is 64-byte aligned and not
// initialised. Threads: every member is safe to call from any thread. Locks: one mutex per shard
// guards that shard's free lists and counters, and an atomic counts idle bytes against the bound; a
// thread gets and returns through its own shard and steals from the others on a miss; no lock is
// ever held across anything but a list push/pop. Ownership: a buffer owns its block until it is
// destroyed or reset(); the pool owns idle blocks. A pool must outlive its buffers (asserted in
// debug builds); the default pools live forever.
#pragma once

#include <kithara/bufpool/export.hpp>

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

namespace kithara::bufpool {

struct pool_options {
    std::size_t min_block_bytes = 256;              // smallest size class (a power of two)
    std::size_t max_block_bytes = 4 * 1024 * 1024;  // largest pooled class (a power of two)
    std::size_t max_idle_bytes = 16 * 1024 * 1024;  // idle bytes retained, all shards together
    std::size_t max_idle_blocks_per_class = 64;     // idle blocks per class and shard
    unsigned shards = 0;  // 0: twice the hardware threads, a power of two in [4, 32]
};

struct pool_stats {
    std::uint64_t hits = 0;         // gets served from an idle block
    std::uint64_t misses = 0;       // pooled-size gets that had to allocate
    std::uint64_t oversize = 0;     // gets above max_block_bytes (allocated, never retained)
    std::uint64_t allocations = 0;  // heap allocations made (misses + oversize)
    std::uint64_t dropped = 0;      // returned blocks freed because an idle bound was reached
    std::size_t idle_bytes = 0;     // bytes held idle by the pool now
    std::size_t idle_blocks = 0;
    std::size_t live_bytes = 0;  // bytes handed out and not yet returned
    std::size_t live_blocks = 0;
};

namespace detail {
struct shard;
}

// The untyped pool the typed ones wrap. Blocks are at least the requested size.
class KITHARA_BUFPOOL_EXPORT block_pool {
public:
    struct block {
        void* data = nullptr;
        std::size_t bytes = 0;  // usable capacity: the size class, or the exact oversize request
    };

    explicit block_pool(pool_options options = {});
    ~block_pool();
    block_pool(const block_pool&) = delete;
    block_pool& operator=(const block_pool&) = delete;

    [[nodiscard]] block acquire(std::size_t bytes);
    void release(void* data, std::size_t bytes) noexcept;

    // Frees idle blocks until at most keep_idle_bytes remain idle.
    void trim(std::size_t keep_idle_bytes = 0) noexcept;

    [[nodiscard]] pool_stats stats() const noexcept;
    [[nodiscard]] const pool_options& options() const noexcept { return options_; }

private:
    [[nodiscard]] detail::shard& local_shard() const noexcept;
    [[nodiscard]] unsigned class_of(std::size_t bytes) const noexcept;
    bool take_credit(detail::shard& sh, std::size_t bytes) noexcept;
    void give_credit(detail::shard& sh, std::size_t bytes) noexcept;

    pool_options options_;
    unsigned shard_count_ = 0;
    unsigned class_count_ = 0;
    unsigned min_shift_ = 0;
    std::size_t credit_chunk_ = 0;
    std::unique_ptr<detail::shard[]> shards_;
    // Idle bytes reserved by all shards (>= bytes actually idle); never above max_idle_bytes.
    alignas(64) std::atomic<std::size_t> idle_total_{0};
};

template <class T>
class pool;

// A pooled buffer of T: size() elements in use out of capacity(); movable, not copyable.
template <class T>
class buffer {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                  "pooled buffers hold plain data");

public:
    using value_type = T;

    buffer() noexcept = default;
    buffer(buffer&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)),
          data_(std::exchange(other.data_, nullptr)),
          size_(std::exchange(other.size_, 0)),
          capacity_(std::exchange(other.capacity_, 0)) {}
    buffer& operator=(buffer&& other) noexcept {
        if (this != &other) {
            reset();
            pool_ = std::exchange(other.pool_, nullptr);
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
            capacity_ = std::exchange(other.capacity_, 0);
        }
        return *this;
    }
    buffer(const buffer&) = delete;
    buffer& operator=(const buffer&) = delete;
    ~buffer() { reset(); }

    [[nodiscard]] T* data() noexcept { return data_; }
    [[nodiscard]] const T* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    explicit operator bool() const noexcept { return data_ != nullptr; }

    [[nodiscard]] std::span<T> span() noexcept { return {data_, size_}; }
    [[nodiscard]] std::span<const T> span() const noexcept { return {data_, size_}; }
    operator std::span<T>() noexcept { return span(); }
    operator std::span<const T>() const noexcept { return span(); }
    T& operator[](std::size_t i) noexcept {
        assert(i < size_);
        return data_[i];
    }
    const T& operator[](std::size_t i) const noexcept {
        assert(i < size_);
        return data_[i];
    }
    T* begin() noexcept { return data_; }
    T* end() noexcept { return data_ + size_; }
    const T* begin() const noexcept { return data_; }
    const T* end() const noexcept { return data_ + size_; }

    // Shrinks or grows the used size within capacity(); never reallocates.
    void resize(std::size_t n) noexcept {
        assert(n <= capacity_);
        size_ = n;
    }

    // Returns the block to its pool now; the buffer becomes empty.
    void reset() noexcept {
        if (pool_ != nullptr) pool_->release(data_, capacity_ * sizeof(T));
        pool_ = nullptr;
        data_ = nullptr;
        size_ = capacity_ = 0;
    }

private:
    friend class pool<T>;
    buffer(block_pool* p, T* d, std::size_t n, std::size_t cap) noexcept
        : pool_(p), data_(d), size_(n), capacity_(cap) {}

    block_pool* pool_ = nullptr;
    T* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

// A typed pool: get(n) returns a buffer of n elements (capacity may be larger).
template <class T>
class pool {
public:
    explicit pool(pool_options options = {}) : blocks_(options) {}

    [[nodiscard]] buffer<T> get(std::size_t count) {
        assert(count <= SIZE_MAX / sizeof(T));
        const auto b = blocks_.acquire(count * sizeof(T));
        return buffer<T>(&blocks_, static_cast<T*>(b.data), count, b.bytes / sizeof(T));
    }

    void trim(std::size_t keep_idle_bytes = 0) noexcept { blocks_.trim(keep_idle_bytes); }
    [[nodiscard]] pool_stats stats() const noexcept { return blocks_.stats(); }
    [[nodiscard]] const pool_options& options() const noexcept { return blocks_.options(); }

private:
    block_pool blocks_;
};

using byte_pool = pool<std::byte>;
using sample_pool = pool<float>;
using byte_buffer = buffer<std::byte>;
using sample_buffer = buffer<float>;

// Process-wide pools with default options; never destroyed.
[[nodiscard]] KITHARA_BUFPOOL_EXPORT byte_pool& default_byte_pool();
[[nodiscard]] KITHARA_BUFPOOL_EXPORT sample_pool& default_sample_pool();

}  // namespace kithara::bufpool
