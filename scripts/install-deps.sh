#!/usr/bin/env bash
# Installs the Debian 12 packages Kithara needs, by profile, and fetches Debian's FFmpeg and curl
# sources for the bundled builds (KITHARA_FFMPEG=bundled: audio-only FFmpeg; KITHARA_CURL=bundled:
# lean libcurl) into .deps/ffmpeg and .deps/curl.
# Idempotent: asks dpkg what is missing and runs `apt-get update` once, only when something is;
# fetches the source again only when Debian ships a newer version. apt's output goes to
# build/install-deps.log (its tail is printed if a step fails); a few lines say what happens.
#   scripts/install-deps.sh --demo     # build and run the examples (scripts/dev demo)
#   scripts/install-deps.sh [--test]   # also the test toolchain: clang, sanitizers, GoogleTest...
#   scripts/install-deps.sh --bench    # also the whole-process benchmark tools
set -euo pipefail

profile=test
case "${1:-}" in
  --demo) profile=demo ;;
  "" | --test) profile=test ;;
  --bench) profile=bench ;;
  *) echo "usage: scripts/install-deps.sh [--demo|--test|--bench]" >&2; exit 2 ;;
esac

# What building and running the demo needs.
packages=(
  # compiler and build
  g++ cmake ninja-build make pkg-config
  # the bundled FFmpeg build: assembler, and dpkg-source for `apt-get source`
  nasm dpkg-dev
  # libraries (libcurl4-openssl-dev for KITHARA_CURL=system; the bundled libcurl links the system
  # OpenSSL, nghttp2 and zlib)
  libcurl4-openssl-dev libssl-dev libnghttp2-dev zlib1g-dev libasio-dev libspdlog-dev libexpected-dev
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev libsamplerate0-dev
  # the tools' and examples' command lines and JSON output (never the libraries)
  libcli11-dev nlohmann-json3-dev
  # demo and test media generation
  ffmpeg
)
if [[ $profile != demo ]]; then
  packages+=(
    # the test toolchain: clang with sanitizer runtimes, formatting, git for the format check
    clang libclang-rt-14-dev clang-format git
    # test and benchmark libraries
    libgtest-dev libgmock-dev libbenchmark-dev
    # the interoperability HTTP server, test certificates, test scripts
    nginx-light openssl python3
  )
fi
if [[ $profile == bench ]]; then
  packages+=(hyperfine valgrind curl gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav
             vlc-bin vlc-plugin-base mpv  # peers of bench/file_vs_peers.sh --shared-link and bench/hls_vs_peers.sh (-bad: tsdemux, hlsdemux)
             python3-gi gir1.2-gstreamer-1.0  # bench/hls_abr_vs_peers.sh drives playbin from Python
             python3-numpy)  # bench/lib/live_measure.py locates PCM by cross-correlation
fi

root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/build"
log=$root/build/install-deps.log
: >"$log"
# quietly <what> <cmd...>: runs cmd with its output in the log; on failure prints the log's tail.
quietly() {
  local what=$1
  shift
  if ! "$@" >>"$log" 2>&1; then
    echo "install-deps: $what failed; the end of $log:" >&2
    tail -n 25 "$log" >&2
    exit 1
  fi
}

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi
as_root() {
  if ((${#sudo[@]})) && ! command -v sudo >/dev/null; then
    echo "install-deps: need root or sudo for: $*" >&2
    exit 1
  fi
  "${sudo[@]}" "$@"
}

updated=0
apt_update_once() {
  if ((updated == 0)); then
    echo "install-deps: apt-get update (log: build/install-deps.log)"
    quietly "apt-get update" as_root apt-get update
    updated=1
  fi
}

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps ($profile): all ${#packages[@]} packages present"
else
  echo "install-deps ($profile): installing ${#missing[@]} of ${#packages[@]} packages: ${missing[*]}"
  apt_update_once
  quietly "apt-get install" as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
  echo "install-deps: installed"
fi

# --- FFmpeg and curl sources for the bundled builds --------------------------------------------
# Enables deb-src entries mirroring the configured deb ones (same mirror and suites) if needed.
enable_deb_src() {
  local list=/etc/apt/sources.list.d/kithara-deb-src
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    sed 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
      as_root tee "$list.sources" >/dev/null
  elif [[ -f /etc/apt/sources.list ]]; then
    sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list | as_root tee "$list.list" >/dev/null
  fi
  updated=0
  apt_update_once
}

src_version() { { apt-cache showsrc "$1" 2>/dev/null || true; } | sed -n "s/^Version: //p" | sort -V | tail -n 1; }

# fetch_source <package> <file the tree must have> <what it is for>: Debian's newest source of
# <package> in .deps/<package>/source, fetched again only when Debian ships a newer version.
fetch_source() {
  local pkg=$1 check=$2 why=$3
  local dest=$root/.deps/$pkg want have dir
  want=$(src_version "$pkg")
  if [[ -z "$want" ]]; then
    enable_deb_src
    want=$(src_version "$pkg")
  fi
  [[ -n "$want" ]] || { echo "install-deps: no source package for $pkg in the apt sources" >&2; exit 1; }
  have=$(cat "$dest/version" 2>/dev/null || true)
  if [[ "$have" == "$want" && -e "$dest/source/$check" ]]; then
    echo "install-deps: $pkg source $want present"
    return
  fi
  echo "install-deps: fetching Debian's $pkg source $want (for $why)"
  rm -rf "$dest"
  mkdir -p "$dest"
  quietly "apt-get source $pkg" bash -c 'cd "$1" && apt-get source "$2=$3"' _ "$dest" "$pkg" "$want"
  dir=$(find "$dest" -mindepth 1 -maxdepth 1 -type d -name "$pkg-*" | head -n 1)
  [[ -e "$dir/$check" ]] || { echo "install-deps: apt-get source $pkg gave no source tree" >&2; exit 1; }
  ln -sfn "$(basename "$dir")" "$dest/source"
  echo "$want" >"$dest/version"
}

fetch_source ffmpeg configure "the bundled audio-only build"
fetch_source curl CMakeLists.txt "the bundled lean libcurl"
