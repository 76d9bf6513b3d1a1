#!/usr/bin/env bash
# Installs the Debian 12 packages Kithara's build, tests and examples need. Idempotent: asks dpkg
# what is missing and runs `apt-get update` once, only when something is.
#   scripts/install-deps.sh            # build + tests + examples
#   scripts/install-deps.sh --bench    # also the whole-process benchmark tools
set -euo pipefail

packages=(
  # toolchains and build
  g++ clang libclang-rt-14-dev cmake ninja-build pkg-config git clang-format
  # libraries
  libcurl4-openssl-dev libssl-dev libasio-dev libspdlog-dev libexpected-dev
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev libsamplerate0-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # test media generation and the interoperability HTTP server
  ffmpeg nginx-light openssl
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(hyperfine valgrind curl gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
