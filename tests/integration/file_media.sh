#!/bin/sh
# Fixtures for the kithara::file end-to-end tests: a 20 s stereo chirp (200 Hz..3 kHz, so every
# part of the file differs) in each progressive format. Deterministic (bit-exact flags).
#   tests/integration/file_media.sh <out-dir>
set -eu
out=${1:?usage: file_media.sh out-dir}
mkdir -p "$out"
cd "$out"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
bx="-fflags +bitexact -flags:a +bitexact -map_metadata -1"
src() { echo "-f lavfi -i aevalsrc=exprs=0.5*sin(2*PI*(200*t+70*t*t))|0.4*sin(2*PI*(300*t+60*t*t)):s=$1:d=20"; }
ff $(src 44100) $bx -c:a libmp3lame -b:a 192k long.mp3
ff $(src 44100) $bx -c:a aac -b:a 160k long.m4a   # moov at the end (no faststart)
ff $(src 44100) $bx -c:a flac long.flac
ff $(src 48000) $bx -c:a libopus -b:a 128k long.opus
touch stamp
