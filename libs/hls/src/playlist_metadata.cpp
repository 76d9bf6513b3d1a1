// EXT-X-DATERANGE and EXTINF titles as timed metadata on the stream timeline.
#include "detail/timed_metadata.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

namespace kithara::hls {

namespace detail {

namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (years counted from March so
// that the leap day ends a year).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(std::int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

class cursor {
public:
    explicit cursor(std::string_view s) : s_(s) {}
    // Exactly `n` decimal digits.
    std::optional<unsigned> digits(std::size_t n) {
        if (s_.size() - pos_ < n) return std::nullopt;
        unsigned v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = s_[pos_ + i];
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        pos_ += n;
        return v;
    }
    bool take(char c) {
        if (pos_ < s_.size() && s_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    [[nodiscard]] bool done() const { return pos_ == s_.size(); }
    [[nodiscard]] char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

std::string label(const date_range& d) {
    return "DATERANGE ID=" + d.id + " (line " + std::to_string(d.line) + ")";
}

}  // namespace

std::optional<double> parse_date_time(std::string_view text) {
    cursor c(text);
    const auto y = c.digits(4);
    if (!y || !c.take('-')) return std::nullopt;
    const auto mo = c.digits(2);
    if (!mo || !c.take('-')) return std::nullopt;
    const auto d = c.digits(2);
    if (!d || !(c.take('T') || c.take('t') || c.take(' '))) return std::nullopt;
    const auto h = c.digits(2);
    if (!h || !c.take(':')) return std::nullopt;
    const auto mi = c.digits(2);
    if (!mi || !c.take(':')) return std::nullopt;
    const auto s = c.digits(2);
    if (!s) return std::nullopt;
    static constexpr unsigned month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (*mo < 1 || *mo > 12 || *d < 1 || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
    if (*d > month_days[*mo - 1] + (*mo == 2 && leap(*y) ? 1 : 0)) return std::nullopt;
    double frac = 0;
    if (c.take('.') || c.take(',')) {
        double scale = 0.1;
        std::size_t n = 0;
        while (const auto digit = c.digits(1)) {
            if (n++ < 9) frac += *digit * scale;
            scale /= 10;
        }
        if (n == 0) return std::nullopt;
    }
    int offset = 0;  // seconds east of UTC
    if (c.take('Z') || c.take('z')) {
    } else if (c.peek() == '+' || c.peek() == '-') {
        const int sign = c.peek() == '-' ? -1 : 1;
        c.take(c.peek());
        const auto oh = c.digits(2);
        if (!oh || *oh > 23) return std::nullopt;
        unsigned om = 0;
        if (!c.done()) {
            c.take(':');
            const auto m2 = c.digits(2);
            if (!m2 || *m2 > 59) return std::nullopt;
            om = *m2;
        }
        offset = sign * static_cast<int>(*oh * 3600 + om * 60);
    } else {
        return std::nullopt;  // RFC 3339 requires the offset
    }
    if (!c.done()) return std::nullopt;
    const std::int64_t secs = days_from_civil(*y, *mo, *d) * 86400 + *h * 3600 + *mi * 60 + *s;
    return static_cast<double>(secs - offset) + frac;
}

}  // namespace detail

playlist_metadata_result playlist_metadata(const media_playlist& m, double start) {
    playlist_metadata_result out;
    const std::size_t n = m.segments.size();
    std::vector<double> starts(n);
    std::vector<std::optional<double>> dates(n);
    double t = start;
    for (std::size_t i = 0; i < n; ++i) {
        const auto& s = m.segments[i];
        starts[i] = t;
        if (s.program_date_time_tagged && s.program_date_time < m.program_date_times.size())
            dates[i] = detail::parse_date_time(m.program_date_times[s.program_date_time]);
        if (!dates[i] && i > 0 && dates[i - 1])
            dates[i] = *dates[i - 1] + m.segments[i - 1].duration;
        t += s.duration;
    }

    // EXTINF titles: a run of segments with the same title is one item.
    for (std::size_t i = 0; i < n;) {
        const auto& title = m.segments[i].title;
        if (!title) {
            ++i;
            continue;
        }
        std::size_t j = i + 1;
        double duration = m.segments[i].duration;
        while (j < n && m.segments[j].title == title) duration += m.segments[j++].duration;
        timed_metadata item;
        item.from = timed_metadata::source::extinf;
        item.time = starts[i];
        item.duration = duration;
        detail::names_from_text(item, *title);
        out.items.push_back(std::move(item));
        i = j;
    }

    // DATERANGEs through the segments' program date times.
    std::optional<std::size_t> first_dated;
    for (std::size_t i = 0; i < n && !first_dated; ++i)
        if (dates[i]) first_dated = i;
    auto place = [&](double date) {
        std::size_t at = *first_dated;
        for (std::size_t i = *first_dated; i < n; ++i)
            if (dates[i] && *dates[i] <= date) at = i;
        return starts[at] + (date - *dates[at]);
    };
    std::vector<std::optional<double>> range_dates;
    for (const auto& d : m.date_ranges)
        range_dates.push_back(d.start_date ? detail::parse_date_time(*d.start_date) : std::nullopt);
    for (std::size_t k = 0; k < m.date_ranges.size(); ++k) {
        const auto& d = m.date_ranges[k];
        if (!d.start_date) {
            out.skipped.push_back(detail::label(d) + ": no START-DATE");
            continue;
        }
        if (!range_dates[k]) {
            out.skipped.push_back(detail::label(d) + ": START-DATE \"" + *d.start_date +
                                  "\" is not a date");
            continue;
        }
        if (!first_dated) {
            out.skipped.push_back(detail::label(d) +
                                  ": no EXT-X-PROGRAM-DATE-TIME to map START-DATE");
            continue;
        }
        const double begin = *range_dates[k];
        timed_metadata item;
        item.from = timed_metadata::source::daterange;
        item.time = place(begin);
        if (d.duration) {
            item.duration = *d.duration;
        } else if (auto end = d.end_date ? detail::parse_date_time(*d.end_date) : std::nullopt;
                   end && *end >= begin) {
            item.duration = *end - begin;
        } else if (d.end_on_next) {
            std::optional<double> next;
            for (std::size_t o = 0; o < m.date_ranges.size(); ++o)
                if (o != k && range_dates[o] && *range_dates[o] > begin &&
                    m.date_ranges[o].class_name == d.class_name &&
                    (!next || *range_dates[o] < *next))
                    next = range_dates[o];
            if (next) item.duration = *next - begin;
        }
        if (!item.duration && d.planned_duration) item.duration = *d.planned_duration;
        for (const auto& a : d.attributes) {
            if (a.value.find("StreamTitle=") != std::string::npos)
                detail::names_from_text(item, a.value);
        }
        for (const auto& a : d.attributes) {
            if (a.name == "X-TITLE") item.title = a.value;
            if (a.name == "X-ARTIST") item.artist = a.value;
        }
        item.daterange = daterange_event{d.id, d.class_name, *d.start_date, d.attributes, d.line};
        out.items.push_back(std::move(item));
    }
    std::stable_sort(
        out.items.begin(), out.items.end(),
        [](const timed_metadata& a, const timed_metadata& b) { return a.time < b.time; });
    return out;
}

}  // namespace kithara::hls
