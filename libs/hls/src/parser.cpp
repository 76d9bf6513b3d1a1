// The line loop, the tags master and media playlists share, typed attribute access with errors
// that name the line and the rule, and the final checks.
#include <kithara/hls/parser.hpp>

#include "detail/parser_state.hpp"

#include <kithara/core/url.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

namespace kithara::hls {
namespace detail {
namespace {

// The byte offset of the first byte that breaks UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or npos when the text is valid.
std::size_t utf8_error_at(std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned c = p[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned lo = 0x80;
        unsigned hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;  // overlong
            if (c == 0xED) hi = 0x9F;  // surrogates
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;  // overlong
            if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
        } else {
            return i;
        }
        if (n - i < len || p[i + 1] < lo || p[i + 1] > hi) return i;
        for (std::size_t k = 2; k < len; ++k) {
            if (p[i + k] < 0x80 || p[i + k] > 0xBF) return i;
        }
        i += len;
    }
    return std::string_view::npos;
}

struct tag_entry {
    std::string_view name;
    tag_id id;
};

// Most frequent first: a media playlist is mostly EXTINF (and BYTERANGE / PART).
constexpr tag_entry tag_table[] = {
    {"EXTINF", tag_id::extinf},
    {"EXT-X-BYTERANGE", tag_id::byterange},
    {"EXT-X-PART", tag_id::part},
    {"EXT-X-PROGRAM-DATE-TIME", tag_id::program_date_time},
    {"EXT-X-KEY", tag_id::key},
    {"EXT-X-DISCONTINUITY", tag_id::discontinuity},
    {"EXT-X-MAP", tag_id::map},
    {"EXT-X-GAP", tag_id::gap},
    {"EXT-X-BITRATE", tag_id::bitrate},
    {"EXT-X-DATERANGE", tag_id::daterange},
    {"EXT-X-STREAM-INF", tag_id::stream_inf},
    {"EXT-X-MEDIA", tag_id::media},
    {"EXT-X-I-FRAME-STREAM-INF", tag_id::iframe_stream_inf},
    {"EXT-X-SESSION-DATA", tag_id::session_data},
    {"EXT-X-SESSION-KEY", tag_id::session_key},
    {"EXTM3U", tag_id::extm3u},
    {"EXT-X-VERSION", tag_id::version},
    {"EXT-X-INDEPENDENT-SEGMENTS", tag_id::independent_segments},
    {"EXT-X-START", tag_id::start},
    {"EXT-X-DEFINE", tag_id::define},
    {"EXT-X-TARGETDURATION", tag_id::targetduration},
    {"EXT-X-MEDIA-SEQUENCE", tag_id::media_sequence},
    {"EXT-X-DISCONTINUITY-SEQUENCE", tag_id::discontinuity_sequence},
    {"EXT-X-ENDLIST", tag_id::endlist},
    {"EXT-X-PLAYLIST-TYPE", tag_id::playlist_type},
    {"EXT-X-I-FRAMES-ONLY", tag_id::i_frames_only},
    {"EXT-X-PART-INF", tag_id::part_inf},
    {"EXT-X-SERVER-CONTROL", tag_id::server_control},
    {"EXT-X-PRELOAD-HINT", tag_id::preload_hint},
    {"EXT-X-RENDITION-REPORT", tag_id::rendition_report},
    {"EXT-X-SKIP", tag_id::skip},
};

bool is_master_tag(tag_id id) noexcept {
    return id >= tag_id::stream_inf && id <= tag_id::session_key;
}
bool is_media_tag(tag_id id) noexcept {
    return id >= tag_id::extinf && id < tag_id::unknown;
}

// A relative reference that RFC 3986 resolution turns into base-directory + ref unchanged: no
// scheme, no authority, not absolute-path, no query-only or fragment-only, no dot segments.
bool is_plain_relative(std::string_view ref) noexcept {
    if (ref.empty() || ref[0] == '/' || ref[0] == '?' || ref[0] == '#') return false;
    const std::size_t end = std::min(ref.find_first_of("?#"), ref.size());
    const std::string_view path = ref.substr(0, end);
    const std::size_t slash = path.find('/');
    if (path.substr(0, slash).find(':') != std::string_view::npos) return false;
    std::size_t seg = 0;
    while (seg <= path.size()) {
        std::size_t next = path.find('/', seg);
        if (next == std::string_view::npos) next = path.size();
        const std::string_view s = path.substr(seg, next - seg);
        if (s == "." || s == "..") return false;
        seg = next + 1;
    }
    return true;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

}  // namespace

tag_id lookup_tag(std::string_view name) noexcept {
    for (const auto& e : tag_table) {
        if (e.name.size() == name.size() && e.name == name) return e.id;
    }
    return tag_id::unknown;
}

parser::parser(std::string_view url, const parse_options& options)
    : url_(url), options_(options), limits_(options.limits), vars_(options.limits) {
    if (!url_.empty()) {
        base_prefix_ = resolve_url(url_, "x");
        base_prefix_.pop_back();
    }
}

bool parser::fail_at(std::size_t line, errc code, std::string rule) {
    error_ = error(code, "line " + std::to_string(line) + ": " + std::move(rule));
    return false;
}

bool parser::fail(errc code, std::string rule) {
    return fail_at(line_, code, std::move(rule));
}

void parser::warn(warning_kind k, std::string message, std::size_t line) {
    auto& w = warnings_[static_cast<std::size_t>(k)];
    if (!w) {
        w = warning{k, line == 0 ? line_ : line, 0, std::move(message)};
    }
    ++w->count;
}

void parser::need_version(int version, std::string_view feature) {
    if (version > needed_version_) {
        needed_version_ = version;
        needed_version_line_ = line_;
        needed_version_feature_ = std::string(feature);
    }
}

bool parser::set_kind(kind k, std::string_view tag) {
    if (kind_ == kind::unknown) {
        kind_ = k;
        if (k == kind::master && import_line_ != 0) {
            return fail_at(import_line_, errc::misplaced_tag,
                           "EXT-X-DEFINE:IMPORT in a master playlist; IMPORT is for media "
                           "playlists");
        }
        return true;
    }
    if (kind_ == k) return true;
    return fail(errc::mixed_playlist,
                std::string(tag) +
                    (k == kind::master ? " (a master playlist tag)"
                                       : " (a media playlist tag or segment)") +
                    " in a " + (kind_ == kind::master ? "master" : "media") +
                    " playlist; a playlist MUST NOT be both (RFC 8216 4.1)");
}

bool parser::once(tag_id id, std::string_view name) {
    auto& seen = seen_[static_cast<std::size_t>(id)];
    if (seen) {
        return fail(errc::duplicate_tag,
                    std::string(name) + " appears more than once; it MUST NOT (RFC 8216 4.3)");
    }
    seen = true;
    return true;
}

bool parser::parse_attributes(std::string_view value, std::string_view tag) {
    std::string what = attrs_.parse(value, limits_.max_attributes);
    if (what.empty()) return true;
    const bool limit = what.find("limit max_attributes") != std::string::npos;
    return fail(limit ? errc::limit_exceeded : errc::invalid_attribute_list,
                std::string(tag) + ": " + what + " (RFC 8216 4.2)");
}

const attribute* parser::required(std::string_view name, std::string_view tag) {
    const attribute* a = attrs_.find(name);
    if (a == nullptr) {
        fail(errc::missing_attribute,
             std::string(tag) + " without its REQUIRED attribute " + std::string(name));
    }
    return a;
}

bool parser::substitute(std::string_view in, std::string& out) {
    std::string what;
    switch (vars_.substitute(in, out, what)) {
        case variables::outcome::ok:
            return true;
        case variables::outcome::limit:
            return fail(errc::limit_exceeded, what);
        default:
            return fail(errc::undefined_variable, what + " (rfc8216bis 4.3)");
    }
}

bool parser::quoted(const attribute* a, std::string& out, std::string_view tag) {
    if (!a->quoted) {
        return fail(errc::invalid_value,
                    std::string(tag) + ": " + std::string(a->name) + " must be a quoted-string");
    }
    if (!variables::has_reference(a->value)) {
        out.assign(a->value);
        return true;
    }
    return substitute(a->value, out);
}

bool parser::quoted_opt(std::string_view name, std::optional<std::string>& out,
                        std::string_view tag) {
    const attribute* a = attrs_.find(name);
    if (a == nullptr) return true;
    out.emplace();
    return quoted(a, *out, tag);
}

bool parser::integer(const attribute* a, std::uint64_t& out, std::string_view tag) {
    auto v = a->quoted ? std::nullopt : parse_decimal_integer(a->value);
    if (!v) {
        return fail(errc::invalid_value, std::string(tag) + ": " + std::string(a->name) +
                                             " must be a decimal-integer, not \"" +
                                             std::string(a->value) + "\"");
    }
    out = *v;
    return true;
}

bool parser::decimal(const attribute* a, double& out, std::string_view tag, bool sign) {
    auto v = a->quoted ? std::nullopt : parse_decimal_float(a->value, sign);
    if (!v) {
        return fail(errc::invalid_value, std::string(tag) + ": " + std::string(a->name) +
                                             " must be a " + (sign ? "signed-" : "") +
                                             "decimal-floating-point, not \"" +
                                             std::string(a->value) + "\"");
    }
    out = *v;
    return true;
}

bool parser::enumerated(const attribute* a, std::string_view& out, std::string_view tag) {
    if (a->quoted) {
        return fail(errc::invalid_value, std::string(tag) + ": " + std::string(a->name) +
                                             " must be an enumerated-string (unquoted)");
    }
    out = a->value;
    return true;
}

bool parser::yes_no(std::string_view name, bool& out, std::string_view tag) {
    const attribute* a = attrs_.find(name);
    if (a == nullptr) return true;
    std::string_view v;
    if (!enumerated(a, v, tag)) return false;
    if (v == "YES") {
        out = true;
    } else if (v == "NO") {
        out = false;
    } else {
        return fail(errc::invalid_value, std::string(tag) + ": " + std::string(name) +
                                             " must be YES or NO, not \"" + std::string(v) + "\"");
    }
    return true;
}

std::string parser::resolve(std::string_view uri) const {
    if (url_.empty()) return std::string(uri);
    if (is_plain_relative(uri)) {
        std::string out;
        out.reserve(base_prefix_.size() + uri.size());
        out.append(base_prefix_).append(uri);
        return out;
    }
    return resolve_url(url_, uri);
}

result<playlist> parser::run(std::string_view text) {
    if (text.size() > limits_.max_input_bytes) {
        line_ = 1;
        fail(errc::limit_exceeded, "the playlist is " + std::to_string(text.size()) +
                                       " bytes, over " + std::to_string(limits_.max_input_bytes) +
                                       " (limit max_input_bytes)");
        return kithara::fail(error_);
    }
    if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) {
        line_ = 1;
        warn(warning_kind::byte_order_mark, "a UTF-8 byte order mark precedes #EXTM3U");
        text.remove_prefix(3);
        line_ = 0;
    }
    std::size_t pos = 0;
    if (text.empty()) {
        line_ = 1;
        fail(errc::missing_header,
             "empty input; a playlist starts with #EXTM3U (RFC 8216 4.3.1.1)");
        return kithara::fail(error_);
    }
    while (pos < text.size()) {
        const char* begin = text.data() + pos;
        const void* nl = std::memchr(begin, '\n', text.size() - pos);
        const std::size_t len =
            nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - begin) : text.size() - pos;
        pos += len + 1;
        rest_ = pos < text.size() ? text.substr(pos) : std::string_view{};
        ++line_;
        if (!line(std::string_view(begin, len))) return kithara::fail(error_);
    }
    if (!finish()) return kithara::fail(error_);

    playlist out;
    for (auto& w : warnings_) {
        if (w) out.warnings.push_back(std::move(*w));
    }
    std::sort(out.warnings.begin(), out.warnings.end(),
              [](const warning& a, const warning& b) { return a.line < b.line; });
    if (kind_ == kind::master) {
        master_.url = url_;
        master_.variables = vars_.take();
        out.content = std::move(master_);
    } else {
        media_.url = url_;
        media_.variables = vars_.take();
        out.content = std::move(media_);
    }
    return out;
}

bool parser::line(std::string_view text) {
    if (text.size() > limits_.max_line_length) {
        return fail(errc::limit_exceeded,
                    "line of " + std::to_string(text.size()) + " bytes, over " +
                        std::to_string(limits_.max_line_length) + " (limit max_line_length)");
    }
    if (const auto bad = utf8_error_at(text); bad != std::string_view::npos) {
        return fail(errc::invalid_value, "byte " + std::to_string(bad + 1) +
                                             " is not UTF-8 (RFC 8216 4.1: a playlist MUST be "
                                             "UTF-8; a client SHOULD fail to parse it otherwise)");
    }
    if (!text.empty() && text.back() == '\r') {
        text.remove_suffix(1);
        warn(warning_kind::crlf_line_ends, "CR LF line ends");
    }
    if (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
        warn(warning_kind::trailing_whitespace, "whitespace at the end of a line");
    }
    if (line_ == 1) {
        if (text != "#EXTM3U") {
            return fail(errc::missing_header, "the first line MUST be #EXTM3U (RFC 8216 4.3.1.1)");
        }
        seen_[static_cast<std::size_t>(tag_id::extm3u)] = true;
        return true;
    }
    if (text.empty()) return true;
    if (text[0] != '#') return uri_line(text);
    if (text.size() < 4 || std::memcmp(text.data(), "#EXT", 4) != 0) return true;  // comment
    const std::size_t colon = text.find(':');
    const std::string_view name =
        text.substr(1, colon == std::string_view::npos ? std::string_view::npos : colon - 1);
    const std::string_view value =
        colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
    const tag_id id = lookup_tag(name);
    if (id == tag_id::unknown) return true;  // unknown tags are ignored (RFC 8216 6.3.1)
    return tag(id, name, value);
}

bool parser::tag(tag_id id, std::string_view name, std::string_view value) {
    if (is_master_tag(id)) {
        if (!set_kind(kind::master, name)) return false;
        return master_tag(id, name, value);
    }
    if (is_media_tag(id)) {
        if (!set_kind(kind::media, name)) return false;
        return media_tag(id, name, value);
    }
    switch (id) {
        case tag_id::extm3u:
            return once(id, name);
        case tag_id::version:
            return once(id, name) && on_version(value);
        case tag_id::independent_segments:
            if (!once(id, name)) return false;
            master_.independent_segments = media_.independent_segments = true;
            return true;
        case tag_id::start:
            return once(id, name) && on_start(value, name);
        case tag_id::define:
            return on_define(value);
        default:
            return true;
    }
}

bool parser::uri_line(std::string_view text) {
    if (kind_ == kind::master) return master_uri(text);
    kind_ = kind::media;
    return media_uri(text);
}

bool parser::on_version(std::string_view value) {
    auto v = parse_decimal_integer(value);
    if (!v || *v == 0 || *v > 1000) {
        return fail(
            errc::invalid_value,
            "EXT-X-VERSION must be a positive decimal-integer, not \"" + std::string(value) + "\"");
    }
    master_.version = media_.version = static_cast<int>(*v);
    return true;
}

bool parser::on_start(std::string_view value, std::string_view tag) {
    if (!parse_attributes(value, tag)) return false;
    start_point s;
    const attribute* t = required("TIME-OFFSET", tag);
    if (t == nullptr || !decimal(t, s.time_offset, tag, true)) return false;
    if (!yes_no("PRECISE", s.precise, tag)) return false;
    master_.start = media_.start = s;
    return true;
}

bool parser::on_define(std::string_view value) {
    constexpr std::string_view tag = "EXT-X-DEFINE";
    need_version(8, tag);
    if (!parse_attributes(value, tag)) return false;
    const attribute* name = attrs_.find("NAME");
    const attribute* val = attrs_.find("VALUE");
    const attribute* import = attrs_.find("IMPORT");
    const attribute* query = attrs_.find("QUERYPARAM");
    const int forms = (name != nullptr) + (import != nullptr) + (query != nullptr);
    if (forms != 1 || (name != nullptr) != (val != nullptr)) {
        return fail(errc::invalid_attribute_list,
                    "EXT-X-DEFINE needs exactly one of NAME+VALUE, IMPORT or QUERYPARAM "
                    "(rfc8216bis 4.4.2.3)");
    }
    std::string var_name;
    std::string var_value;
    const attribute* which = name ? name : import ? import : query;
    if (!which->quoted) {
        return fail(errc::invalid_value,
                    "EXT-X-DEFINE: " + std::string(which->name) + " must be a quoted-string");
    }
    var_name.assign(which->value);
    if (name != nullptr) {
        // VALUE is taken literally: values are never expanded, so definitions cannot nest.
        if (!val->quoted) {
            return fail(errc::invalid_value, "EXT-X-DEFINE: VALUE must be a quoted-string");
        }
        var_value.assign(val->value);
    } else if (import != nullptr) {
        if (kind_ == kind::master) {
            return fail(errc::misplaced_tag,
                        "EXT-X-DEFINE:IMPORT in a master playlist; IMPORT is for media playlists");
        }
        if (import_line_ == 0) import_line_ = line_;  // checked when the kind is known
        const variable* found = nullptr;
        for (const auto& v : options_.imports) {
            if (v.name == var_name) found = &v;
        }
        if (found == nullptr) {
            return fail(errc::undefined_variable,
                        "EXT-X-DEFINE:IMPORT=\"" + var_name +
                            "\" but the master playlist defines no such variable");
        }
        var_value = found->value;
    } else {
        const auto q = split_url(url_).query;
        bool found = false;
        std::string_view rest = q ? *q : std::string_view{};
        while (!rest.empty() && !found) {
            const std::size_t amp = rest.find('&');
            const std::string_view pair = rest.substr(0, amp);
            rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
            const std::size_t eq = pair.find('=');
            if (percent_decode(pair.substr(0, eq)) == var_name) {
                var_value = eq == std::string_view::npos ? std::string{}
                                                         : percent_decode(pair.substr(eq + 1));
                found = true;
            }
        }
        if (!found) {
            return fail(errc::undefined_variable,
                        "EXT-X-DEFINE:QUERYPARAM=\"" + var_name +
                            "\" but the playlist URL has no such query parameter");
        }
    }
    std::string what;
    switch (vars_.define(var_name, var_value, what)) {
        case variables::outcome::ok:
            return true;
        case variables::outcome::duplicate:
            return fail(errc::duplicate_variable, "EXT-X-DEFINE: " + what);
        case variables::outcome::limit:
            return fail(errc::limit_exceeded, "EXT-X-DEFINE: " + what);
        default:
            return fail(errc::invalid_value, "EXT-X-DEFINE: " + what);
    }
}

bool parser::parse_key(std::string_view value, std::string_view tag, key& k) {
    if (!parse_attributes(value, tag)) return false;
    k.line = line_;
    const attribute* m = required("METHOD", tag);
    std::string_view method;
    if (m == nullptr || !enumerated(m, method, tag)) return false;
    if (method == "NONE") {
        k.method = key_method::none;
    } else if (method == "AES-128") {
        k.method = key_method::aes_128;
    } else if (method == "SAMPLE-AES") {
        k.method = key_method::sample_aes;
    } else if (method == "SAMPLE-AES-CTR") {
        k.method = key_method::sample_aes_ctr;
    } else {
        return fail(errc::invalid_value, std::string(tag) + ": METHOD \"" + std::string(method) +
                                             "\" is not NONE, AES-128, SAMPLE-AES or "
                                             "SAMPLE-AES-CTR");
    }
    k.method_text.assign(method);
    if (k.method == key_method::none) {
        for (const auto& a : attrs_.all()) {
            if (a.name != "METHOD") {
                warn(warning_kind::attribute_ignored,
                     std::string(tag) + ": " + std::string(a.name) + " ignored on METHOD=NONE");
                break;
            }
        }
        return true;
    }
    const attribute* u = required("URI", tag);
    if (u == nullptr || !quoted(u, k.uri, tag)) return false;
    k.resolved_uri = resolve(k.uri);
    if (const attribute* iv = attrs_.find("IV")) {
        k.iv = iv->quoted ? std::nullopt : parse_iv(iv->value);
        if (!k.iv) {
            return fail(errc::invalid_value, std::string(tag) +
                                                 ": IV must be a hexadecimal-sequence of at most "
                                                 "128 bits, not \"" +
                                                 std::string(iv->value) + "\"");
        }
        k.iv_text.assign(iv->value);
        need_version(2, "the IV attribute");
    }
    if (const attribute* f = attrs_.find("KEYFORMAT")) {
        if (!quoted(f, k.keyformat, tag)) return false;
        need_version(5, "the KEYFORMAT attribute");
    }
    if (const attribute* f = attrs_.find("KEYFORMATVERSIONS")) {
        if (!quoted(f, k.keyformatversions, tag)) return false;
        need_version(5, "the KEYFORMATVERSIONS attribute");
    }
    return true;
}

bool parser::finish() {
    line_ = line_ == 0 ? 1 : line_;
    if (kind_ == kind::master) {
        if (pending_variant_) {
            return fail_at(pending_variant_->line, errc::missing_uri,
                           "EXT-X-STREAM-INF is not followed by its URI line (RFC 8216 4.3.4.2)");
        }
    } else if (!finish_media()) {
        return false;
    }
    const auto declared = kind_ == kind::master ? master_.version : media_.version;
    if (!declared) {
        warn(warning_kind::missing_version,
             needed_version_ > 1 ? "no EXT-X-VERSION, but " + needed_version_feature_ +
                                       " needs version " + std::to_string(needed_version_)
                                 : std::string("no EXT-X-VERSION (version 1 assumed)"),
             needed_version_ > 1 ? needed_version_line_ : 1);
    } else if (needed_version_ > 1) {
        if (*declared < needed_version_) {
            warn(warning_kind::version_too_low,
                 needed_version_feature_ + " needs EXT-X-VERSION " +
                     std::to_string(needed_version_) + ", the playlist declares " +
                     std::to_string(*declared),
                 needed_version_line_);
        }
    }
    return true;
}

}  // namespace detail

const char* to_string(warning_kind k) noexcept {
    switch (k) {
        case warning_kind::byte_order_mark:
            return "byte_order_mark";
        case warning_kind::crlf_line_ends:
            return "crlf_line_ends";
        case warning_kind::trailing_whitespace:
            return "trailing_whitespace";
        case warning_kind::missing_version:
            return "missing_version";
        case warning_kind::version_too_low:
            return "version_too_low";
        case warning_kind::missing_target_duration:
            return "missing_target_duration";
        case warning_kind::extinf_exceeds_target:
            return "extinf_exceeds_target";
        case warning_kind::attribute_ignored:
            return "attribute_ignored";
        case warning_kind::tag_after_endlist:
            return "tag_after_endlist";
        case warning_kind::empty_title_comma:
            return "empty_title_comma";
    }
    return "unknown";
}

result<playlist> parse_playlist(std::string_view text, std::string_view url,
                                const parse_options& options) {
    detail::parser p(url, options);
    return p.run(text);
}

}  // namespace kithara::hls
