// kithara::decode::session: a decoder running on its own worker thread into a bounded PCM queue
// (bounded in chunks and bytes); the application pulls chunks, or takes them by callback.
//
//   auto s = kithara::decode::session::start(src, {}).value();
//   while (auto c = s->pull(std::chrono::milliseconds(100))) { if (!*c) break; play(**c); }
//   s->seek(std::chrono::seconds(42));   // later pulls never return PCM from before the seek
//
// The decoder opens on the calling thread inside start() (it reads the container header), then
// decodes on a worker::job thread, blocking while the queue is full. seek() bumps the queue's
// epoch: queued chunks of older epochs are dropped before seek() returns, chunks still in flight
// are rejected, and the decode thread repositions before producing more. The end of the stream
// and a decode error are delivered in order after the last chunk (pull: nullopt / the error);
// after them the thread idles until a seek or stop.
//
// Threads: pull/try_pull from one consumer thread; seek/stop/stats/info from any thread.
// Callback mode (options.on_item set): the callback runs on the decode thread, must not block for
// long and must not call pull; seek/stop may be called from it. Locks: mutex_ guards the pending
// seek and the stats copy; the queue has its own lock (worker::channel); neither is held across
// decoding or a callback. Buffers: chunks are pooled (see decoder_options::pool); the queue owns
// queued chunks; a pulled chunk belongs to the caller.
#pragma once

#include <kithara/core/deadline.hpp>
#include <kithara/core/result.hpp>
#include <kithara/decode/decoder.hpp>
#include <kithara/decode/export.hpp>
#include <kithara/decode/types.hpp>
#include <kithara/stream/source.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

namespace kithara::decode {

// What a pull returns: a chunk, nullopt at the end of the stream, or an error.
using pull_result = result<std::optional<pcm_chunk>>;

struct session_options {
    decoder_options decoder;
    std::size_t max_chunks = 16;          // queue bound in chunks
    std::size_t max_bytes = 1024 * 1024;  // queue bound in sample bytes (chunk capacity)
    std::string thread_name = "kithara-decode";
    // Callback mode: every item goes here (on the decode thread) instead of the queue.
    std::function<void(pull_result)> on_item;
};

class KITHARA_DECODE_EXPORT session {
public:
    // Opens the decoder (on this thread) and starts decoding. Errors: those of decoder::open, or
    // worker errors starting the thread.
    [[nodiscard]] static result<std::unique_ptr<session>> start(std::shared_ptr<stream::source> src,
                                                                session_options options = {});
    ~session();  // stop()
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    // Blocks until a chunk, the end (nullopt) or an error. Errors: the decoder's; the queue's
    // (worker::errc) for the rest: e == kithara::condition::timed_out (timeout passed; try
    // again), condition::cancelled (stop token), condition::closed (after stop()).
    [[nodiscard]] pull_result pull(std::optional<std::chrono::milliseconds> timeout = std::nullopt,
                                   std::stop_token stop = {});
    // Never blocks: worker::errc::empty when nothing is queued now.
    [[nodiscard]] pull_result try_pull();

    // Repositions; returns at once. No chunk of an earlier epoch is delivered afterwards.
    void seek(std::chrono::nanoseconds position);

    // Stops the decode thread and closes the queue; pulls then fail with condition::closed.
    void stop();

    [[nodiscard]] stream_info info() const;
    [[nodiscard]] decode_stats stats() const;
    // Blocks until the decode thread has decoded at least `frames` frames in all (stats()'s
    // pcm_frames), the stream ended or failed first, or `until` passed; true when it got there.
    // For prebuffering: an application can wait for N frames before starting its audio device.
    // In queue mode decoding stops at the queue bound, so ask for no more than the queue holds.
    [[nodiscard]] bool wait_decoded(std::uint64_t frames, kithara::deadline until) const;
    // The current epoch (chunks carry the epoch they were decoded for).
    [[nodiscard]] std::uint64_t epoch() const;

    struct impl;

private:
    explicit session(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace kithara::decode
