#!/usr/bin/env bash
# Generates the HLS fixtures once per content key and links a build tree's fixture directory to
# them, so the build trees of one checkout (default, asan, tsan) share one generation (about two
# minutes on two cores) instead of repeating it.
#   tests/media/hls/cached_generate.sh <cache-dir> <link> [fixture ...]
# <cache-dir> is named by CMake after a hash of generate_hls.sh and the ffmpeg/openssl versions:
# the same name means bit-identical output (generate_hls.sh is deterministic). A lock serialises
# concurrent builds; a generation cut short leaves no stamp and is redone.
set -eu
cache=${1:?usage: cached_generate.sh cache-dir link [fixture ...]}
link=${2:?usage: cached_generate.sh cache-dir link [fixture ...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$(dirname "$cache")" "$(dirname "$link")"
exec 9>"$cache.lock"
flock 9
if [ ! -f "$cache/stamp" ]; then
    rm -rf "$cache"
    "$here/generate_hls.sh" "$cache" "$@"
fi
exec 9>&-
if [ -e "$link" ] && [ ! -L "$link" ]; then rm -rf "$link"; fi # a tree from before the cache
ln -sfn "$cache" "$link"
