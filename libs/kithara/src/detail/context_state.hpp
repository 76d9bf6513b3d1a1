// What a context and every stream opened from it share (see context.hpp): the threads, the HTTP
// client and the cache. Streams hold it by shared_ptr, so it dies after the last of them.
#pragma once

#include <kithara/assets/asset_store.hpp>
#include <kithara/kithara/context.hpp>
#include <kithara/net/client.hpp>
#include <kithara/worker/blocking_pool.hpp>
#include <kithara/worker/io_runtime.hpp>

#include <memory>
#include <mutex>
#include <optional>

namespace kithara::detail {

class turn_pool;

struct context_state {
    explicit context_state(context_options o);
    // Client first (its transfers end on the running io thread), then the store (its index is
    // written), then the background pool (drained), then the io thread.
    ~context_state();
    context_state(const context_state&) = delete;
    context_state& operator=(const context_state&) = delete;

    context_options options;
    worker::io_runtime io;
    worker::blocking_pool background;
    std::optional<assets::asset_store> store;
    std::optional<net::client> client;

    // The decode pool, started by the first stream that decodes ahead.
    turn_pool& decode_pool();

private:
    std::once_flag decode_pool_once_;
    std::unique_ptr<turn_pool> decode_pool_;  // destroyed first: no stream is left by then
};

}  // namespace kithara::detail
