// ID3v2.2/2.3/2.4 tags: header, extended header, frames, unsynchronisation, text encodings.
#include "detail/id3.hpp"

#include <kithara/hls/error.hpp>

#include <algorithm>
#include <cstring>
#include <string>

namespace kithara::hls::detail {

namespace {

using bytes = std::span<const std::uint8_t>;

unexpected bad(std::uint64_t at, const std::string& what) {
    return fail(errc::bad_metadata, "ID3 " + what + " at offset " + std::to_string(at));
}

std::uint32_t be32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
           static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}

std::uint32_t be24(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) << 16 | static_cast<std::uint32_t>(p[1]) << 8 | p[2];
}

// A 28-bit syncsafe integer (7 bits a byte), or nullopt when a byte has its high bit set.
std::optional<std::uint32_t> syncsafe32(const std::uint8_t* p) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        if (p[i] & 0x80) return std::nullopt;
        v = v << 7 | p[i];
    }
    return v;
}

// Unsynchronisation undone: every 0xFF 0x00 becomes 0xFF.
std::vector<std::uint8_t> resync(bytes in) {
    std::vector<std::uint8_t> out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        out.push_back(in[i]);
        if (in[i] == 0xFF && i + 1 < in.size() && in[i + 1] == 0x00) ++i;
    }
    return out;
}

bool frame_id_char(std::uint8_t c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Whether a frame may start at `pos` of `body` (or the frames end there: the end, or padding).
bool frame_boundary(bytes body, std::size_t pos, std::size_t id_len) {
    if (pos == body.size()) return true;
    if (pos > body.size()) return false;
    if (body[pos] == 0) return true;
    if (body.size() - pos < id_len) return false;
    for (std::size_t i = 0; i < id_len; ++i)
        if (!frame_id_char(body[pos + i])) return false;
    return true;
}

void append_utf8(std::string& out, char32_t c) {
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = 0xFFFD;
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

std::string latin1(bytes s) {
    std::string out;
    out.reserve(s.size());
    for (auto c : s) append_utf8(out, c);
    return out;
}

// UTF-8 checked: an invalid, overlong or truncated sequence becomes U+FFFD (one per bad byte).
std::string utf8(bytes s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const std::uint8_t c = s[i];
        std::size_t n = 0;
        char32_t v = 0;
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 1;
            v = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            v = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            v = c & 0x07;
        }
        bool ok = n > 0;
        for (std::size_t k = 1; ok && k <= n; ++k) {
            if (i + k >= s.size() || (s[i + k] & 0xC0) != 0x80) {
                ok = false;
                break;
            }
            v = v << 6 | (s[i + k] & 0x3F);
        }
        static constexpr char32_t min_for[] = {0, 0x80, 0x800, 0x10000};
        if (ok && v >= min_for[n] && v <= 0x10FFFF && !(v >= 0xD800 && v <= 0xDFFF)) {
            out.append(reinterpret_cast<const char*>(s.data() + i), n + 1);
            i += n + 1;
        } else {
            append_utf8(out, 0xFFFD);
            ++i;
        }
    }
    return out;
}

// UTF-16 (big endian unless `little`); a leading BOM, when `bom_allowed`, decides the order.
std::string utf16(bytes s, bool little, bool bom_allowed) {
    std::size_t i = 0;
    if (bom_allowed && s.size() >= 2) {
        if (s[0] == 0xFF && s[1] == 0xFE) {
            little = true;
            i = 2;
        } else if (s[0] == 0xFE && s[1] == 0xFF) {
            little = false;
            i = 2;
        }
    }
    auto unit = [&](std::size_t at) -> char32_t {
        return little ? static_cast<char32_t>(s[at] | s[at + 1] << 8)
                      : static_cast<char32_t>(s[at] << 8 | s[at + 1]);
    };
    std::string out;
    out.reserve(s.size());
    for (; i + 1 < s.size(); i += 2) {
        char32_t c = unit(i);
        if (c >= 0xD800 && c <= 0xDBFF && i + 3 < s.size()) {
            const char32_t lo = unit(i + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            }
        }
        append_utf8(out, c);  // a lone surrogate becomes U+FFFD there
    }
    if (i < s.size()) append_utf8(out, 0xFFFD);  // an odd trailing byte
    return out;
}

std::string decode_one(std::uint8_t encoding, bytes s) {
    switch (encoding) {
        case 0:
            return latin1(s);
        case 1:
            return utf16(s, false, true);
        case 2:
            return utf16(s, false, false);
        default:
            return utf8(s);
    }
}

bool is(const id3_frame& f, std::string_view v4, std::string_view v2) {
    return f.id == v4 || f.id == v2;
}

}  // namespace

std::optional<std::size_t> id3_tag_size(std::span<const std::uint8_t> head) {
    if (head.size() < id3_header_bytes || std::memcmp(head.data(), "ID3", 3) != 0)
        return std::nullopt;
    if (head[3] < 2 || head[3] > 4 || head[4] == 0xFF) return std::nullopt;
    const auto size = syncsafe32(head.data() + 6);
    if (!size) return std::nullopt;
    const bool footer = head[3] == 4 && (head[5] & 0x10);
    return id3_header_bytes + *size + (footer ? id3_header_bytes : 0);
}

std::size_t id3_text_end(std::uint8_t encoding, std::span<const std::uint8_t> text,
                         std::size_t* rest) {
    const bool wide = encoding == 1 || encoding == 2;
    if (wide) {
        for (std::size_t i = 0; i + 1 < text.size(); i += 2)
            if (text[i] == 0 && text[i + 1] == 0) {
                if (rest) *rest = i + 2;
                return i;
            }
    } else {
        for (std::size_t i = 0; i < text.size(); ++i)
            if (text[i] == 0) {
                if (rest) *rest = i + 1;
                return i;
            }
    }
    if (rest) *rest = text.size();
    return text.size();
}

std::optional<std::vector<std::string>> decode_id3_text(std::uint8_t encoding,
                                                        std::span<const std::uint8_t> text) {
    if (encoding > 3) return std::nullopt;
    std::vector<std::string> values;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t rest = 0;
        const auto rem = text.subspan(pos);
        const auto len = id3_text_end(encoding, rem, &rest);
        values.push_back(decode_one(encoding, rem.first(len)));
        pos += rest;
    }
    // A value list ending in a terminator has no empty value after it; drop trailing empties.
    while (!values.empty() && values.back().empty()) values.pop_back();
    return values;
}

result<id3_tag> parse_id3(std::span<const std::uint8_t> in, std::uint64_t offset, std::size_t limit,
                          std::size_t slack) {
    if (in.size() < id3_header_bytes)
        return bad(offset, "header truncated (" + std::to_string(in.size()) + " of 10 bytes)");
    if (std::memcmp(in.data(), "ID3", 3) != 0) return bad(offset, "header missing (no \"ID3\")");
    id3_tag tag;
    tag.version = in[3];
    tag.revision = in[4];
    tag.flags = in[5];
    if (tag.version < 2 || tag.version > 4 || tag.revision == 0xFF)
        return bad(offset + 3, "version 2." + std::to_string(tag.version) + "." +
                                   std::to_string(tag.revision) + " not supported");
    const auto declared = syncsafe32(in.data() + 6);
    if (!declared) return bad(offset + 6, "tag size is not a syncsafe integer");
    const bool footer = tag.version == 4 && (tag.flags & 0x10);
    const std::size_t total = id3_header_bytes + *declared + (footer ? id3_header_bytes : 0);
    if (total > limit)
        return bad(offset, "tag of " + std::to_string(total) + " bytes over the limit of " +
                               std::to_string(limit));
    if (in.size() < total)
        return bad(offset, "tag truncated: " + std::to_string(total) + " bytes declared, " +
                               std::to_string(in.size()) + " present");
    tag.size = total;
    if (footer) {
        const auto* f = in.data() + total - id3_header_bytes;
        if (std::memcmp(f, "3DI", 3) != 0 || f[3] != tag.version)
            return bad(offset + total - id3_header_bytes, "footer (\"3DI\") missing");
    }
    const std::uint64_t body_at = offset + id3_header_bytes;
    bytes body = in.subspan(id3_header_bytes, *declared);
    const bool tag_unsync = (tag.flags & 0x80) != 0;
    // ID3v2.2 and 2.3 unsynchronise the whole body; offsets below are then of the resynced body.
    std::vector<std::uint8_t> resynced;
    std::string where_suffix;
    if (tag_unsync && tag.version < 4) {
        resynced = resync(body);
        body = resynced;
        where_suffix = " (of the resynchronised body)";
    }
    auto bad_in_body = [&](std::size_t pos, const std::string& what) {
        return bad(body_at + pos, what + where_suffix);
    };
    if (tag.version == 2 && (tag.flags & 0x40)) return tag;  // compressed v2.2: no scheme exists
    std::size_t pos = 0;
    if (tag.flags & 0x40 && tag.version >= 3) {  // extended header: skipped
        if (body.size() < 6) return bad_in_body(0, "extended header truncated");
        std::size_t ext = 0;
        if (tag.version == 3) {
            ext = std::size_t{4} + be32(body.data());  // the size excludes itself
        } else {
            const auto s = syncsafe32(body.data());
            if (!s) return bad_in_body(0, "extended header size is not a syncsafe integer");
            ext = *s;  // the size includes itself
            if (ext < 6) return bad_in_body(0, "extended header smaller than 6 bytes");
        }
        if (ext > body.size()) return bad_in_body(0, "extended header runs past the tag");
        pos = ext;
    }
    const std::size_t id_len = tag.version == 2 ? 3 : 4;
    const std::size_t head_len = tag.version == 2 ? 6 : 10;
    while (pos < body.size()) {
        if (body[pos] == 0) break;  // padding
        if (body.size() - pos < head_len) {
            if (std::all_of(body.begin() + static_cast<std::ptrdiff_t>(pos), body.end(),
                            [](std::uint8_t b) { return b == 0; }))
                break;
            return bad_in_body(pos, "frame header truncated");
        }
        const std::uint8_t* h = body.data() + pos;
        for (std::size_t i = 0; i < id_len; ++i)
            if (!frame_id_char(h[i])) return bad_in_body(pos, "bad frame id");
        std::size_t size = 0;
        if (tag.version == 2) {
            size = be24(h + 3);
        } else if (tag.version == 3) {
            size = be32(h + 4);
        } else {
            // ID3v2.4 sizes are syncsafe; some writers (old iTunes) wrote plain integers: take the
            // plain reading when the syncsafe one is impossible or does not land on a frame.
            const auto ss = syncsafe32(h + 4);
            const std::size_t plain = be32(h + 4);
            size = ss ? *ss : plain;
            if (ss && *ss != plain && !frame_boundary(body, pos + head_len + *ss, id_len) &&
                frame_boundary(body, pos + head_len + plain, id_len))
                size = plain;
        }
        const std::size_t room = body.size() - pos - head_len;
        // A last frame may run into the bytes after a tag declared short (unsynchronised and
        // footed tags excepted: their end is not in doubt).
        const std::size_t after = in.size() - total;
        const bool overrun =
            size > room && resynced.empty() && !footer && size - room <= std::min(slack, after);
        if (size > room && !overrun)
            return bad_in_body(pos, "frame " + std::string(h, h + id_len) + " of " +
                                        std::to_string(size) + " bytes runs past the tag");
        if (tag.frames.size() == max_id3_frames)
            return bad_in_body(pos, "more than " + std::to_string(max_id3_frames) + " frames");
        id3_frame f;
        f.id.assign(h, h + id_len);
        bytes data = overrun ? in.subspan(id3_header_bytes + pos + head_len, size)
                             : body.subspan(pos + head_len, size);
        if (tag.version >= 3) {
            const std::uint8_t fmt = h[9];
            std::size_t extra = 0;
            bool unsync = false;
            if (tag.version == 3) {
                const bool compressed = fmt & 0x80, encrypted = fmt & 0x40, grouped = fmt & 0x20;
                extra = (compressed ? 4 : 0) + (encrypted ? 1 : 0) + (grouped ? 1 : 0);
                f.opaque = compressed || encrypted;
            } else {
                const bool grouped = fmt & 0x40, compressed = fmt & 0x08, encrypted = fmt & 0x04,
                           dli = fmt & 0x01;
                extra = (grouped ? 1 : 0) + (encrypted ? 1 : 0) + (dli ? 4 : 0);
                f.opaque = compressed || encrypted;
                unsync = (fmt & 0x02) || tag_unsync;
            }
            if (extra > data.size())
                return bad_in_body(pos, "frame " + f.id + " flags need " + std::to_string(extra) +
                                            " bytes, the frame has " + std::to_string(data.size()));
            data = data.subspan(extra);
            if (unsync) {
                f.data = resync(data);
            } else {
                f.data.assign(data.begin(), data.end());
            }
        } else {
            f.data.assign(data.begin(), data.end());
        }
        tag.frames.push_back(std::move(f));
        if (overrun) break;
        pos += head_len + size;
    }
    return tag;
}

std::optional<priv_frame> parse_priv(const id3_frame& f) {
    if (f.id != "PRIV" || f.opaque) return std::nullopt;
    const auto nul = std::find(f.data.begin(), f.data.end(), std::uint8_t{0});
    if (nul == f.data.end()) return std::nullopt;
    priv_frame p;
    p.owner.assign(f.data.begin(), nul);
    p.data = std::span<const std::uint8_t>(f.data).subspan(
        static_cast<std::size_t>(nul - f.data.begin()) + 1);
    return p;
}

std::optional<std::uint64_t> transport_stream_timestamp(const id3_tag& tag) {
    for (const auto& f : tag.frames) {
        const auto p = parse_priv(f);
        if (!p || p->owner != transport_stream_timestamp_owner || p->data.size() < 8) continue;
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < 8; ++i) v = v << 8 | p->data[i];
        return v & ((std::uint64_t{1} << 33) - 1);
    }
    return std::nullopt;
}

}  // namespace kithara::hls::detail

namespace kithara::hls {

std::optional<std::string> frame_text(const id3_frame& f) {
    using detail::decode_id3_text;
    using detail::id3_text_end;
    if (f.opaque || f.id.empty()) return std::nullopt;
    const std::span<const std::uint8_t> d(f.data);
    auto join = [](const std::vector<std::string>& v) {
        std::string out;
        for (const auto& s : v) {
            if (!out.empty()) out += " / ";
            out += s;
        }
        return out;
    };
    if (detail::is(f, "WXXX", "WXX")) {  // encoding, description, URL (ISO-8859-1)
        if (d.empty()) return std::nullopt;
        std::size_t rest = 0;
        (void)id3_text_end(d[0], d.subspan(1), &rest);
        const auto url = d.subspan(1 + rest);
        return detail::latin1(url.first(id3_text_end(0, url, nullptr)));
    }
    if (f.id[0] == 'W') return detail::latin1(d.first(id3_text_end(0, d, nullptr)));
    if (d.empty()) return std::nullopt;
    const std::uint8_t enc = d[0];
    if (enc > 3) return std::nullopt;
    if (detail::is(f, "TXXX", "TXX")) {  // encoding, description, value(s)
        std::size_t rest = 0;
        (void)id3_text_end(enc, d.subspan(1), &rest);
        return join(*decode_id3_text(enc, d.subspan(1 + rest)));
    }
    if (detail::is(f, "COMM", "COM")) {  // encoding, language, short description, text
        if (d.size() < 4) return std::nullopt;
        std::size_t rest = 0;
        (void)id3_text_end(enc, d.subspan(4), &rest);
        return join(*decode_id3_text(enc, d.subspan(4 + rest)));
    }
    if (f.id[0] == 'T') return join(*decode_id3_text(enc, d.subspan(1)));
    return std::nullopt;
}

}  // namespace kithara::hls
