#!/usr/bin/env bash
# Installs the Debian 12 packages Kithara's build, tests and examples need, and fetches Debian's
# FFmpeg source for the bundled audio-only build (KITHARA_FFMPEG=bundled) into .deps/ffmpeg.
# Idempotent: asks dpkg what is missing and runs `apt-get update` once, only when something is;
# fetches the source again only when Debian ships a newer version.
#   scripts/install-deps.sh            # build + tests + examples
#   scripts/install-deps.sh --bench    # also the whole-process benchmark tools
set -euo pipefail

packages=(
  # toolchains and build
  g++ clang libclang-rt-14-dev cmake ninja-build make pkg-config git clang-format
  # the bundled FFmpeg build: assembler, and dpkg-source for `apt-get source`
  nasm dpkg-dev
  # libraries
  libcurl4-openssl-dev libssl-dev libasio-dev libspdlog-dev libexpected-dev
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev libsamplerate0-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # test media generation and the interoperability HTTP server
  ffmpeg nginx-light openssl
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(hyperfine valgrind curl gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav
             vlc-bin vlc-plugin-base mpv)  # peers of bench/file_vs_peers.sh --shared-link
fi

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
    as_root apt-get update -qq
    updated=1
  fi
}

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  apt_update_once
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- FFmpeg source for the bundled build ---------------------------------------------------------
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

src_version() { { apt-cache showsrc ffmpeg 2>/dev/null || true; } | sed -n "s/^Version: //p" | sort -V | tail -n 1; }

root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/.deps/ffmpeg
want=$(src_version)
if [[ -z "$want" ]]; then
  enable_deb_src
  want=$(src_version)
fi
[[ -n "$want" ]] || { echo "install-deps: no source package for ffmpeg in the apt sources" >&2; exit 1; }
have=$(cat "$dest/version" 2>/dev/null || true)
if [[ "$have" == "$want" && -x "$dest/source/configure" ]]; then
  echo "install-deps: FFmpeg source $want present"
else
  echo "install-deps: fetching Debian's FFmpeg source $want"
  rm -rf "$dest"
  mkdir -p "$dest"
  (cd "$dest" && apt-get source -qq "ffmpeg=$want" >/dev/null)
  dir=$(find "$dest" -mindepth 1 -maxdepth 1 -type d -name 'ffmpeg-*' | head -n 1)
  [[ -x "$dir/configure" ]] || { echo "install-deps: apt-get source ffmpeg gave no source tree" >&2; exit 1; }
  ln -sfn "$(basename "$dir")" "$dest/source"
  echo "$want" >"$dest/version"
fi
