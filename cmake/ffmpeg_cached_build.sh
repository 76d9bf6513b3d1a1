#!/usr/bin/env bash
# Builds the bundled audio-only FFmpeg once per content key into <cache-dir>, which the build trees
# of one checkout share (cmake/KitharaFFmpeg.cmake names it after a hash of the FFmpeg source
# version and patches, the configure arguments, the C compiler and this script).
#   cmake/ffmpeg_cached_build.sh <cache-dir> <source-dir> <make> [configure-arg ...]
# A lock serialises concurrent builds (a second tree waits, then finds the stamp); the stamp is
# written last, so a build cut short leaves none and is redone from scratch. Configure, make and
# install output go to <cache-dir>.build/build.log (kept in <cache-dir>/build.log on success); on
# failure the end of the log is printed.
set -eu
usage='usage: ffmpeg_cached_build.sh cache-dir source-dir make [configure-arg ...]'
cache=${1:?$usage}
source=${2:?$usage}
make=${3:?$usage}
shift 3
libs="avformat avcodec swresample avutil"

complete() {
    [ -f "$cache/stamp" ] || return 1
    for lib in $libs; do [ -f "$cache/lib/lib$lib.a" ] || return 1; done
}

mkdir -p "$(dirname "$cache")"
exec 9>"$cache.lock"
flock 9
if complete; then
    echo "FFmpeg: reusing $cache"
    exit 0
fi

build=$cache.build
log=$build/build.log
rm -rf "$cache" "$build"
mkdir -p "$build"
fail() {
    echo "FFmpeg: $1 failed; the end of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
}
echo "FFmpeg: building into $cache (log: $log)"
start=$SECONDS
cd "$build"
"$source/configure" --prefix="$cache" "$@" >"$log" 2>&1 || fail configure
"$make" -j2 >>"$log" 2>&1 || fail make
"$make" install >>"$log" 2>&1 || fail "make install"
for lib in $libs; do
    [ -f "$cache/lib/lib$lib.a" ] || { echo "missing lib$lib.a" >>"$log"; fail "make install"; }
done
mv "$log" "$cache/build.log"
cd "$cache"
rm -rf "$build"
{
    echo "source: $source"
    head -n 1 "$source/debian/changelog" 2>/dev/null || true
    echo "configure: $*"
    echo "built in $((SECONDS - start)) s"
} >"$cache/stamp.tmp"
mv "$cache/stamp.tmp" "$cache/stamp"
echo "FFmpeg: built in $((SECONDS - start)) s"
