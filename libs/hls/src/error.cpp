#include <kithara/hls/error.hpp>

#include <kithara/core/condition.hpp>

#include <string>

namespace kithara::hls {
namespace {
class category_impl final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "hls"; }
    [[nodiscard]] std::string message(int c) const override {
        switch (static_cast<errc>(c)) {
            case errc::ok_:
                return "ok";
            case errc::missing_header:
                return "not a playlist (no #EXTM3U)";
            case errc::missing_extinf:
                return "media segment without EXTINF";
            case errc::missing_uri:
                return "tag not followed by its URI line";
            case errc::invalid_value:
                return "invalid value";
            case errc::invalid_attribute_list:
                return "malformed attribute list";
            case errc::missing_attribute:
                return "required attribute missing";
            case errc::byterange_without_offset:
                return "byte range without offset and no previous range of the same URI";
            case errc::undefined_variable:
                return "undefined variable";
            case errc::duplicate_tag:
                return "tag may occur only once";
            case errc::duplicate_variable:
                return "variable defined twice";
            case errc::mixed_playlist:
                return "master and media playlist tags mixed";
            case errc::misplaced_tag:
                return "tag not allowed here";
            case errc::limit_exceeded:
                return "playlist limit exceeded";
            case errc::bad_response:
                return "unusable playlist response";
            case errc::bad_key:
                return "bad AES-128 key or IV";
            case errc::decrypt_failed:
                return "AES-128 decryption failed";
            case errc::not_supported:
                return "not supported";
            case errc::segment_failed:
                return "segment unavailable";
            case errc::offline_miss:
                return "not in the cache (offline)";
            case errc::content_changed:
                return "content changed on the server";
            case errc::bad_metadata:
                return "malformed timed metadata";
        }
        return "unknown hls error";
    }
    // The shared conditions (kithara/core/condition.hpp) this layer's codes mean.
    std::error_condition default_error_condition(int value) const noexcept override {
        switch (static_cast<errc>(value)) {
            case errc::offline_miss:
                return condition::unavailable;
            case errc::content_changed:
                return condition::content_changed;
            default:
                return {value, *this};
        }
    }
};
}  // namespace

const std::error_category& category() noexcept {
    static const category_impl c;
    return c;
}

}  // namespace kithara::hls
