// A transfer's attempts: setting up each easy handle, the response head (status, validators,
// Content-Range), delivering the body at resource offsets, resume/restart decisions, retries with
// backoff, deadlines and completion.
#include "detail/transfer.hpp"

#include "detail/http_util.hpp"

#include <kithara/detail/log.hpp>
#include <kithara/net/url.hpp>

#include <algorithm>

namespace kithara::net::detail {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr long buffer_size = 64 * 1024;

}  // namespace

void transfer::begin() {
    start_attempt();
}

void transfer::release_easy() {
    if (easy_) {
        curl_easy_cleanup(easy_);
        easy_ = nullptr;
    }
    if (slist_) {
        curl_slist_free_all(slist_);
        slist_ = nullptr;
    }
}

void transfer::start_attempt() {
    ++attempts_;
    status_ = 0;
    headers_.clear();
    head_done_ = false;
    got_first_byte_ = false;
    range_complete_ = false;
    abort_.reset();
    in_pos_ = 0;
    attempt_delivered_ = 0;
    attempt_received_ = 0;
    last_sample_bytes_ = 0;
    errbuf_[0] = '\0';

    easy_ = curl_easy_init();
    if (!easy_) {
        complete(fail(errc::transfer_failed, what() + ": curl_easy_init failed"));
        return;
    }
    const auto& o = req_.options;
    CURL* e = easy_;
    curl_easy_setopt(e, CURLOPT_URL, req_.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, this);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf_);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, buffer_size);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &transfer::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &transfer::on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &client_impl::on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, owner_.get());
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &client_impl::on_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, owner_.get());
    curl_easy_setopt(e, CURLOPT_USERAGENT, owner_->options().user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.timeout.connect.count()));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, o.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, o.verify_tls ? 2L : 0L);
    if (!o.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, o.ca_file.c_str());
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, o.max_redirects > 0 ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(o.max_redirects));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (!o.reuse_connection) {
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    }
    if (req_.verb == method::head) curl_easy_setopt(e, CURLOPT_NOBODY, 1L);

    for (const auto& h : req_.headers) {
        std::string line = h.name + ": " + h.value;
        slist_ = curl_slist_append(slist_, line.c_str());
    }
    if (req_.verb == method::get && (next_ > 0 || end_)) {
        std::string range = std::to_string(next_) + "-";
        if (end_) range += std::to_string(*end_ - 1);
        curl_easy_setopt(e, CURLOPT_RANGE, range.c_str());  // curl copies the string
        // Validate a resumed range against the entity we already hold.
        std::string validator = http::if_range_validator(etag_, last_modified_);
        if (!head_sent_) validator = req_.if_range;
        if (!validator.empty())
            slist_ = curl_slist_append(slist_, ("If-Range: " + validator).c_str());
    }
    if (slist_) curl_easy_setopt(e, CURLOPT_HTTPHEADER, slist_);

    attempt_start_ = clock::now();
    arm_deadline();
    owner_->attach(*this);
}

void transfer::arm_deadline() {
    const auto& t = req_.options.timeout;
    clock::time_point at = got_first_byte_ ? last_bytes_ + t.stall : attempt_start_ + t.first_byte;
    deadline_.expires_at(at);
    std::weak_ptr<transfer> weak = weak_from_this();
    deadline_.async_wait([weak](const std::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->deadline_fired();
    });
}

void transfer::deadline_fired() {
    if (!easy_ || done_) return;
    const auto& t = req_.options.timeout;
    auto now = clock::now();
    if (!got_first_byte_) {
        curl_off_t pretransfer = 0;
        curl_easy_getinfo(easy_, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
        if (pretransfer == 0) {
            abort_attempt({kithara::error(errc::timeout_connect,
                                          what() + ": not connected after " +
                                              std::to_string(t.first_byte.count()) + " ms"),
                           true,
                           {}});
        } else {
            abort_attempt({kithara::error(errc::timeout_first_byte,
                                          what() + ": no response after " +
                                              std::to_string(t.first_byte.count()) + " ms"),
                           true,
                           {}});
        }
        return;
    }
    if (now - last_bytes_ >= t.stall) {
        abort_attempt({kithara::error(errc::stalled, what() + ": no bytes for " +
                                                         std::to_string(t.stall.count()) +
                                                         " ms at offset " + std::to_string(next_)),
                       true,
                       {}});
        return;
    }
    arm_deadline();  // bytes arrived meanwhile: re-arm at last_bytes_ + stall
}

size_t transfer::on_header(char* data, size_t size, size_t n, void* userp) {
    auto* self = static_cast<transfer*>(userp);
    size_t len = size * n;
    self->last_bytes_ = clock::now();
    if (!self->got_first_byte_) {
        self->got_first_byte_ = true;
        self->arm_deadline();  // from now on the deadline watches for stalls
    }
    return self->header_line(std::string_view(data, len)) ? len : 0;
}

bool transfer::header_line(std::string_view line) {
    if (line.substr(0, 5) == "HTTP/") {
        // The throughput clock starts with the final response (a redirect's time is TTFB).
        first_byte_at_ = last_sample_at_ = last_body_at_ = clock::now();
        status_ = parse_status_line(line);
        headers_.clear();
        head_done_ = false;
        return true;
    }
    std::string_view trimmed = trim(line);
    if (trimmed.empty()) {
        if (status_ >= 100 && status_ < 200) return true;  // interim response
        if (status_ >= 300 && status_ < 400 && req_.options.max_redirects > 0 &&
            !http::header_value(headers_, "location").empty())
            return true;  // curl follows it (or fails with too_many_redirects)
        return finalize_head();
    }
    if (auto colon = trimmed.find(':'); colon != std::string_view::npos) {
        headers_.push_back({std::string(trim(trimmed.substr(0, colon))),
                            std::string(trim(trimmed.substr(colon + 1)))});
    }
    return true;
}

bool transfer::finalize_head() {
    head_done_ = true;
    const int status = status_;
    if (status == 416) {
        // A resume at the very end (the server lied about the length, or the body was complete
        // but the connection broke right after): the entity size in "bytes */N" proves it.
        auto cr = http::header_value(headers_, "content-range");
        if (head_sent_ && cr.substr(0, 8) == "bytes */" && parse_u64(cr.substr(8)) == next_) {
            range_complete_ = true;
            return false;
        }
        abort_ = failure{kithara::error(errc::range_not_satisfiable,
                                        what() + ": HTTP 416 for offset " + std::to_string(next_)),
                         false,
                         {}};
        return false;
    }
    if (status < 200 || status >= 300) {
        std::optional<milliseconds> retry_after;
        if (auto ra = http::header_value(headers_, "retry-after"); !ra.empty())
            retry_after = parse_retry_after(ra, std::chrono::system_clock::now());
        abort_ = http_failure(status, retry_after);
        return false;
    }

    response_head head;
    head.status = status;
    head.etag = std::string(http::header_value(headers_, "etag"));
    head.last_modified = std::string(http::header_value(headers_, "last-modified"));
    head.content_type = std::string(http::header_value(headers_, "content-type"));
    head.headers = headers_;
    char* eff = nullptr;
    curl_easy_getinfo(easy_, CURLINFO_EFFECTIVE_URL, &eff);
    head.url = redact_url(eff ? eff : req_.url);
    std::optional<std::uint64_t> content_length;
    if (auto cl = http::header_value(headers_, "content-length"); !cl.empty())
        content_length = parse_u64(cl);
    if (http::has_token(headers_, "transfer-encoding", "chunked")) content_length.reset();

    bool restart = false;
    if (status == 206) {
        auto cr = parse_content_range(http::header_value(headers_, "content-range"));
        if (!cr || cr->first != next_) {
            abort_ = failure{
                kithara::error(errc::protocol,
                               what() + ": Content-Range '" +
                                   std::string(http::header_value(headers_, "content-range")) +
                                   "' does not start at " + std::to_string(next_)),
                false,
                {}};
            return false;
        }
        in_pos_ = cr->first;
        head.entity_size = cr->size;
        if (head_sent_ && !etag_.empty() && !head.etag.empty() && head.etag != etag_) {
            // A server that ignored If-Range: these bytes belong to another entity.
            abort_ =
                failure{kithara::error(errc::content_changed, what() + ": ETag changed on resume"),
                        false,
                        {}};
            return false;
        }
    } else {
        // A whole entity (200 or another 2xx): it starts at resource offset 0.
        in_pos_ = 0;
        head.entity_size = content_length;
        if (req_.verb == method::get && head_sent_) {
            // A retry got the whole entity: Range ignored (same entity: skip the delivered
            // prefix), or If-Range did not match (changed: the sink restarts). Without any
            // validator, finish_attempt() already restarted at start_, so nothing can splice.
            bool same = etag_.empty() && last_modified_.empty();
            if (!etag_.empty() && !http::is_weak_etag(etag_))
                same = http::strong_etag_match(head.etag, etag_);
            else if (!last_modified_.empty())
                same = head.last_modified == last_modified_ && head.etag == etag_;
            if (!same) {
                restart = true;
                next_ = start_;
            } else if (next_ > 0) {
                head.range_ignored = true;
            }
        } else if (req_.verb == method::get && next_ > 0) {
            // First answer to a Range GET: skipping to the range is safe, unless the caller's
            // If-Range validator no longer matches (then deliver the new entity from 0).
            if (req_.if_range.empty() || req_.if_range == head.etag ||
                req_.if_range == head.last_modified) {
                head.range_ignored = true;
            } else {
                start_ = next_ = 0;
                end_.reset();
            }
        }
    }
    if (end_ && head.entity_size && *end_ > *head.entity_size) end_ = *head.entity_size;
    head.body_offset = next_;
    if (req_.verb == method::get) {
        std::optional<std::uint64_t> stop = end_ ? end_ : head.entity_size;
        if (stop && *stop >= next_)
            head.length = *stop - next_;
        else if (content_length && in_pos_ + *content_length >= next_)
            head.length = in_pos_ + *content_length - next_;
    } else {
        head.length = content_length;
    }

    const std::uint64_t max = req_.options.max_body_size;
    if (max > 0 && head.length && *head.length + (next_ - start_) > max) {
        abort_ = failure{kithara::error(errc::body_too_large,
                                        what() + ": " + std::to_string(*head.length) +
                                            " bytes over the limit of " + std::to_string(max)),
                         false,
                         {}};
        return false;
    }

    etag_ = head.etag;
    last_modified_ = head.last_modified;
    entity_size_ = head.entity_size;
    result<> r;
    if (!head_sent_) {
        head_sent_ = true;
        r = sink_->on_response(head);
    } else if (restart) {
        ++stats_.restarts;
        r = sink_->on_restart(head);
    }
    if (!r) {
        abort_ = failure{r.error(), false, {}};
        return false;
    }
    if (req_.verb == method::get && end_ && next_ >= *end_) range_complete_ = true;
    return true;
}

size_t transfer::on_write(char* data, size_t size, size_t n, void* userp) {
    auto* self = static_cast<transfer*>(userp);
    size_t len = size * n;
    self->last_bytes_ = clock::now();
    if (!self->head_done_ && !self->finalize_head()) return CURL_WRITEFUNC_ERROR;
    if (!self->body({reinterpret_cast<const std::byte*>(data), len})) return CURL_WRITEFUNC_ERROR;
    self->body_arrived(len);
    return len;
}

void transfer::body_arrived(std::size_t n) {
    last_body_at_ = last_bytes_;
    attempt_received_ += n;
    const auto& o = req_.options.sampling;
    const bool by_bytes =
        o.every_bytes > 0 && attempt_received_ - last_sample_bytes_ >= o.every_bytes;
    const bool by_time = o.every.count() > 0 && last_body_at_ - last_sample_at_ >= o.every;
    if (by_bytes || by_time) emit_sample(false, false);
}

void transfer::emit_sample(bool final, bool complete) {
    const auto& all = owner_->options().observer;
    if (!all && !req_.on_sample) return;
    auto rate = [](std::uint64_t bytes, microseconds t) {
        return t.count() > 0 ? static_cast<double>(bytes) * 1e6 / static_cast<double>(t.count())
                             : 0.0;
    };
    throughput_sample s;
    s.url = url_;
    s.attempt = attempts_;
    s.bytes = attempt_received_;
    s.time_to_first_byte = duration_cast<microseconds>(first_byte_at_ - attempt_start_);
    s.wire_time = duration_cast<microseconds>(last_body_at_ - first_byte_at_);
    s.bytes_per_second = rate(s.bytes, s.wire_time);
    s.interval_bytes = attempt_received_ - last_sample_bytes_;
    s.interval_time = duration_cast<microseconds>(last_body_at_ - last_sample_at_);
    s.interval_bytes_per_second = rate(s.interval_bytes, s.interval_time);
    s.final = final;
    s.complete = complete;
    s.below_floor = s.bytes < req_.options.sampling.floor_bytes;
    if (easy_) {
        long connects = 0;
        curl_easy_getinfo(easy_, CURLINFO_NUM_CONNECTS, &connects);
        s.connection_reused = connects == 0;
    }
    last_sample_bytes_ = attempt_received_;
    last_sample_at_ = last_body_at_;
    if (req_.on_sample) req_.on_sample(s);
    if (all) all(s);
}

bool transfer::body(std::span<const std::byte> bytes) {
    if (range_complete_) return false;  // everything wanted arrived; stop this transfer
    // Drop what precedes next_ (a prefix already delivered, or a range the server ignored).
    if (in_pos_ < next_) {
        std::uint64_t skip = std::min<std::uint64_t>(next_ - in_pos_, bytes.size());
        bytes = bytes.subspan(static_cast<std::size_t>(skip));
        in_pos_ += skip;
    }
    if (end_ && in_pos_ + bytes.size() > *end_)
        bytes = bytes.first(static_cast<std::size_t>(*end_ > in_pos_ ? *end_ - in_pos_ : 0));
    if (bytes.empty()) return !(end_ && in_pos_ >= *end_ && (range_complete_ = true));
    const std::uint64_t max = req_.options.max_body_size;
    if (max > 0 && next_ - start_ + bytes.size() > max) {
        abort_ = failure{kithara::error(errc::body_too_large,
                                        what() + ": more than " + std::to_string(max) + " bytes"),
                         false,
                         {}};
        return false;
    }
    if (auto r = sink_->on_data(next_, bytes); !r) {
        abort_ = failure{r.error(), false, {}};
        return false;
    }
    next_ += bytes.size();
    in_pos_ += bytes.size();
    attempt_delivered_ += bytes.size();
    stats_.bytes_delivered += bytes.size();
    if (end_ && next_ >= *end_) range_complete_ = true;
    return true;
}

void transfer::abort_attempt(failure f) {
    abort_ = std::move(f);
    CURL* e = easy_;
    owner_->detach(e);
    on_done(CURLE_ABORTED_BY_CALLBACK);
}

void transfer::on_done(CURLcode rc) {
    if (!easy_) return;
    deadline_.cancel();
    // Measurements of this attempt, from curl's own clocks on the transfer.
    curl_off_t down = 0, total_us = 0, start_us = 0;
    long header_bytes = 0, connects = 0, redirects = 0;
    curl_easy_getinfo(easy_, CURLINFO_SIZE_DOWNLOAD_T, &down);
    curl_easy_getinfo(easy_, CURLINFO_HEADER_SIZE, &header_bytes);
    curl_easy_getinfo(easy_, CURLINFO_TOTAL_TIME_T, &total_us);
    curl_easy_getinfo(easy_, CURLINFO_STARTTRANSFER_TIME_T, &start_us);
    curl_easy_getinfo(easy_, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(easy_, CURLINFO_REDIRECT_COUNT, &redirects);
    long version = 0;
    curl_easy_getinfo(easy_, CURLINFO_HTTP_VERSION, &version);
    switch (version) {
        case CURL_HTTP_VERSION_1_0:
            stats_.http_version = 10;
            break;
        case CURL_HTTP_VERSION_1_1:
            stats_.http_version = 11;
            break;
        case CURL_HTTP_VERSION_2_0:
            stats_.http_version = 20;
            break;
        case CURL_HTTP_VERSION_3:
            stats_.http_version = 30;
            break;
        default:
            stats_.http_version = 0;
            break;
    }
    if (rc != CURLE_OK)
        total_us = duration_cast<microseconds>(clock::now() - attempt_start_).count();
    const auto wire = static_cast<std::uint64_t>(std::max<curl_off_t>(down, 0)) +
                      static_cast<std::uint64_t>(std::max<long>(header_bytes, 0));
    stats_.bytes_on_wire += wire;
    stats_.attempts = attempts_;
    stats_.redirects = static_cast<int>(redirects);
    stats_.connection_reused = connects == 0;
    stats_.time_to_first_byte = microseconds(start_us);
    stats_.wire_duration = microseconds(total_us);
    stats_.throughput =
        total_us > 0 ? static_cast<double>(wire) * 1e6 / static_cast<double>(total_us) : 0.0;
    stats_.status = status_;
    const char* detail = errbuf_;
    std::optional<failure> f;
    if (range_complete_ || (rc == CURLE_OK && !abort_)) {
        f.reset();
    } else if (abort_) {
        f = std::move(abort_);
    } else {
        f = map_curl(rc, detail);
        f->err.add_context(what());
    }
    if (!f && rc == CURLE_OK && req_.verb == method::get && !head_done_) {
        f = failure{kithara::error(errc::protocol, what() + ": no response head"), false, {}};
    }
    if (rc == CURLE_OK && !f && req_.verb == method::get && !end_ && entity_size_ &&
        next_ < *entity_size_)
        end_ = entity_size_;
    if (rc == CURLE_OK && !f && req_.verb == method::get && end_ && next_ < *end_) {
        f = failure{kithara::error(errc::connection_lost, what() + ": body ended at " +
                                                              std::to_string(next_) + " before " +
                                                              std::to_string(*end_)),
                    true,
                    {}};
    }
    if (attempt_received_ > 0) emit_sample(true, !f);
    if (rc != CURLE_ABORTED_BY_CALLBACK) owner_->detach(easy_);
    release_easy();
    finish_attempt(std::move(f));
}

void transfer::finish_attempt(std::optional<failure> f) {
    if (!f) {
        complete(stats_);
        return;
    }
    if (done_) return;
    const auto& policy = req_.options.retry;
    if (!f->retryable || owner_->shutting_down() || policy.max_retries == 0) {
        complete(fail(std::move(f->err)));
        return;
    }
    if (attempts_ > policy.max_retries) {
        complete(fail(errc::retries_exhausted, "after " + std::to_string(attempts_) +
                                                   " attempts, last: " + f->err.message()));
        return;
    }
    milliseconds delay =
        backoff_delay(attempts_, policy.initial_backoff, policy.max_backoff, owner_->rng());
    if (f->retry_after) {
        if (*f->retry_after > policy.max_retry_after) {
            complete(fail(std::move(f->err.add_context("Retry-After too long"))));
            return;
        }
        delay = *f->retry_after;
    }
    // Resuming past start_ needs a validator; without one, restart from the beginning.
    if (next_ > start_ && etag_.empty() && last_modified_.empty()) {
        next_ = start_;
        ++stats_.restarts;
        response_head h;
        h.status = status_;
        h.body_offset = start_;
        h.url = url_;
        if (auto r = sink_->on_restart(h); !r) {
            complete(fail(r.error()));
            return;
        }
    }
    KITHARA_LOG_DEBUG("net: retry {} of {} in {} ms: {}", attempts_, url_, delay.count(),
                      f->err.message());
    backoff_.expires_after(delay);
    std::weak_ptr<transfer> weak = weak_from_this();
    backoff_.async_wait([weak](const std::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock(); self && !self->done_) self->start_attempt();
    });
}

void transfer::cancel(errc why) {
    if (done_) return;
    kithara::error e(why, what());
    if (easy_) {
        abort_attempt(failure{std::move(e), false, {}});
        return;
    }
    backoff_.cancel();
    complete(fail(std::move(e)));
}

void transfer::complete(result<transfer_stats> r) {
    if (done_) return;
    done_ = true;
    deadline_.cancel();
    backoff_.cancel();
    auto keep = shared_from_this();
    auto s = std::move(sink_);
    if (s) s->on_complete(std::move(r));
    stop_cb_.reset();
    owner_->forget(this);
}

}  // namespace kithara::net::detail
