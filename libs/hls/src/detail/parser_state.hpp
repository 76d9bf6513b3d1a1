// The playlist parser's state machine: one object per parse_playlist() call. parser.cpp holds
// the line loop, the tags both kinds share and the final checks; media_tags.cpp and
// master_tags.cpp the tags of each kind.
//
// Single-threaded; owns everything it builds and moves it into the result. Handlers return
// false after recording the error (line and rule) in error_.
#pragma once

#include "detail/attribute_list.hpp"
#include "detail/variables.hpp"

#include <kithara/hls/parser.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kithara::hls::detail {

enum class tag_id {
    extm3u,
    // Both kinds.
    version,
    independent_segments,
    start,
    define,
    // Master playlists.
    stream_inf,
    iframe_stream_inf,
    media,
    session_data,
    session_key,
    // Media playlists.
    extinf,
    targetduration,
    media_sequence,
    discontinuity_sequence,
    endlist,
    playlist_type,
    i_frames_only,
    key,
    map,
    byterange,
    discontinuity,
    program_date_time,
    daterange,
    gap,
    bitrate,
    part,
    part_inf,
    server_control,
    preload_hint,
    rendition_report,
    skip,
    unknown,
};
inline constexpr std::size_t tag_count = static_cast<std::size_t>(tag_id::unknown);

[[nodiscard]] tag_id lookup_tag(std::string_view name) noexcept;

class parser {
public:
    parser(std::string_view url, const parse_options& options);
    result<playlist> run(std::string_view text);

private:
    enum class kind { unknown, master, media };

    // parser.cpp: the loop, shared tags, helpers, final checks.
    bool line(std::string_view text);
    bool tag(tag_id id, std::string_view name, std::string_view value);
    bool uri_line(std::string_view text);
    bool finish();
    bool fail(errc code, std::string rule);
    bool fail_at(std::size_t line, errc code, std::string rule);
    void warn(warning_kind k, std::string message, std::size_t line = 0);
    void need_version(int version, std::string_view feature);
    bool set_kind(kind k, std::string_view tag);
    bool once(tag_id id, std::string_view name);
    bool parse_attributes(std::string_view value, std::string_view tag);
    const attribute* required(std::string_view name, std::string_view tag);
    bool quoted(const attribute* a, std::string& out, std::string_view tag);
    bool quoted_opt(std::string_view name, std::optional<std::string>& out, std::string_view tag);
    bool integer(const attribute* a, std::uint64_t& out, std::string_view tag);
    bool decimal(const attribute* a, double& out, std::string_view tag, bool sign = false);
    bool enumerated(const attribute* a, std::string_view& out, std::string_view tag);
    bool yes_no(std::string_view name, bool& out, std::string_view tag);
    bool substitute(std::string_view in, std::string& out);
    std::string resolve(std::string_view uri) const;
    bool on_version(std::string_view value);
    bool on_start(std::string_view value, std::string_view tag);
    bool on_define(std::string_view value);
    bool parse_key(std::string_view value, std::string_view tag, key& k);

    // media_tags.cpp
    bool media_tag(tag_id id, std::string_view name, std::string_view value);
    bool on_extinf(std::string_view value);
    bool on_byterange(std::string_view value);
    bool on_key(std::string_view value);
    bool on_map(std::string_view value);
    bool on_daterange(std::string_view value);
    bool on_part(std::string_view value);
    bool on_server_control(std::string_view value);
    bool on_preload_hint(std::string_view value);
    bool on_rendition_report(std::string_view value);
    bool on_skip(std::string_view value);
    bool media_uri(std::string_view uri);
    bool finish_media();

    // master_tags.cpp
    bool master_tag(tag_id id, std::string_view name, std::string_view value);
    bool on_stream_inf(std::string_view value, bool iframe);
    bool on_media(std::string_view value);
    bool on_session_data(std::string_view value);
    bool on_session_key(std::string_view value);
    bool master_uri(std::string_view uri);

    std::string url_;
    std::string base_prefix_;  // scheme://authority/dir/ of url_, for the fast resolution path
    const parse_options& options_;
    const parse_limits& limits_;
    attribute_list attrs_;
    variables vars_;
    std::string scratch_;  // substitution output, reused
    std::string value_;    // a quoted value after substitution, reused

    std::string_view rest_;  // the input after the current line
    kind kind_ = kind::unknown;
    std::size_t line_ = 0;
    error error_;
    std::array<bool, tag_count> seen_{};
    std::array<std::optional<warning>, 10> warnings_;
    int needed_version_ = 1;
    std::size_t needed_version_line_ = 0;
    std::string needed_version_feature_;

    master_playlist master_;
    media_playlist media_;

    // Master: the EXT-X-STREAM-INF waiting for its URI line.
    std::optional<variant_stream> pending_variant_;

    // Media: tags that apply to the next segment.
    bool has_extinf_ = false;
    double extinf_duration_ = 0;
    std::size_t extinf_line_ = 0;
    std::string extinf_title_;
    std::optional<byterange_text> pending_range_;
    std::size_t range_line_ = 0;
    std::size_t import_line_ = 0;  // the first EXT-X-DEFINE:IMPORT, before the kind was known
    bool pending_discontinuity_ = false;
    bool pending_key_or_map_ = false;  // EXT-X-KEY or EXT-X-MAP since the last segment URI
    bool pending_gap_ = false;
    bool pending_date_ = false;
    std::vector<part> pending_parts_;
    // Media: state in effect until changed.
    std::uint32_t key_first_ = no_index;
    std::uint32_t key_count_ = 0;
    std::size_t key_set_segments_ = 0;  // segments.size() when the current key set started
    std::uint32_t map_ = no_index;
    std::uint32_t date_ = no_index;
    std::uint64_t bitrate_ = 0;
    std::uint64_t discontinuities_ = 0;
    std::size_t parts_total_ = 0;
    // End of the last sub-range of each resource (EXT-X-BYTERANGE without offset).
    std::unordered_map<std::string, std::uint64_t> range_end_;
    std::unordered_map<std::string, std::uint64_t> part_range_end_;
};

}  // namespace kithara::hls::detail
