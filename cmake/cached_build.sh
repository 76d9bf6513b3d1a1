#!/usr/bin/env bash
# Builds a bundled third-party library (FFmpeg, libcurl) once per content key into <cache-dir>,
# which the build trees of one checkout share (cmake/KitharaFFmpeg.cmake and KitharaCurl.cmake name
# it after a hash of the source version and patches, the build arguments, the C compiler and this
# script).
#   cmake/cached_build.sh <name> <cache-dir> <source-dir> "<lib ...>" configure <make> [configure-arg ...]
#   cmake/cached_build.sh <name> <cache-dir> <source-dir> "<lib ...>" cmake <cmake> [cache-arg ...]
# configure: <source>/configure --prefix=<cache-dir> args; make -j2; make install.
# cmake: cmake -S <source> -B . -DCMAKE_INSTALL_PREFIX=<cache-dir> args; build -j2; install.
# Either must leave <cache-dir>/lib/lib<lib>.a for every named lib.
# A lock serialises concurrent builds (a second tree waits, then finds the stamp); the stamp is
# written last, so a build cut short leaves none and is redone from scratch. The build's output
# goes to <cache-dir>.build/build.log (kept in <cache-dir>/build.log on success); on failure the end
# of the log is printed.
set -eu
usage='usage: cached_build.sh name cache-dir source-dir "libs" configure|cmake tool [arg ...]'
name=${1:?$usage}
cache=${2:?$usage}
source=${3:?$usage}
libs=${4:?$usage}
kind=${5:?$usage}
tool=${6:?$usage}
shift 6

complete() {
    [ -f "$cache/stamp" ] || return 1
    for lib in $libs; do [ -f "$cache/lib/lib$lib.a" ] || return 1; done
}

mkdir -p "$(dirname "$cache")"
exec 9>"$cache.lock"
flock 9
if complete; then
    echo "$name: reusing $cache"
    exit 0
fi

build=$cache.build
log=$build/build.log
rm -rf "$cache" "$build"
mkdir -p "$build"
fail() {
    echo "$name: $1 failed; the end of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
}
echo "$name: building into $cache (log: $log)"
start=$SECONDS
cd "$build"
case $kind in
configure)
    "$source/configure" --prefix="$cache" "$@" >"$log" 2>&1 || fail configure
    "$tool" -j2 >>"$log" 2>&1 || fail make
    "$tool" install >>"$log" 2>&1 || fail "make install"
    ;;
cmake)
    "$tool" -S "$source" -B . -DCMAKE_INSTALL_PREFIX="$cache" -DCMAKE_INSTALL_LIBDIR=lib "$@" \
        >"$log" 2>&1 || fail "cmake configure"
    "$tool" --build . -j 2 >>"$log" 2>&1 || fail "cmake build"
    "$tool" --install . >>"$log" 2>&1 || fail "cmake install"
    ;;
*)
    echo "$usage" >&2
    exit 2
    ;;
esac
for lib in $libs; do
    [ -f "$cache/lib/lib$lib.a" ] || { echo "missing lib$lib.a" >>"$log"; fail install; }
done
mv "$log" "$cache/build.log"
cd "$cache"
rm -rf "$build"
{
    echo "source: $source"
    head -n 1 "$source/debian/changelog" 2>/dev/null || true
    echo "$kind: $*"
    echo "built in $((SECONDS - start)) s"
} >"$cache/stamp.tmp"
mv "$cache/stamp.tmp" "$cache/stamp"
echo "$name: built in $((SECONDS - start)) s"
