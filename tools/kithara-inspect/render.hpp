// kithara-inspect's output: the --json document (the schema of docs/HLS.md, issue 14) and the
// human-readable summary. Pure functions of a parsed playlist; any thread.
#pragma once

#include <kithara/hls/parser.hpp>

#include <nlohmann/json.hpp>

#include <ostream>

namespace kithara::inspect {

// The --json object; URIs exactly as written in the playlist.
[[nodiscard]] nlohmann::ordered_json to_json(const hls::playlist& p);

// The summary: kind, version, target duration, segments (durations, byte ranges, keys, maps),
// variants sorted by bandwidth, renditions by group, warnings. `resolve`: absolute URIs.
void print_summary(std::ostream& out, const hls::playlist& p, bool resolve);

}  // namespace kithara::inspect
