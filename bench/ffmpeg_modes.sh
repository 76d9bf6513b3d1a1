#!/usr/bin/env bash
# Start-up and whole-file decode of the same program linked with kithara::decode over the bundled
# (audio-only, static) and the system (Debian, shared) FFmpeg, against the ffmpeg CLI.
#   bench/ffmpeg_modes.sh [build-dir]        (default: build/default; needs hyperfine, GNU time)
# The programs are tests/pcm_digest_{bundled,system}: with no argument they start and exit; with a
# file they decode it to float32 PCM (native rate) and hash it.
set -euo pipefail
build=${1:-build/default}
fixtures=$build/tests/media/fixtures
bundled=$build/tests/pcm_digest_bundled
system=$build/tests/pcm_digest_system
for p in "$bundled" "$system"; do [[ -x $p ]] || { echo "missing $p (build the default preset)"; exit 1; }; done

echo "## shared objects loaded"
echo "bundled: $(ldd "$bundled" | wc -l)  system: $(ldd "$system" | wc -l)"

echo "## start-up (process start to exit, no work)"
hyperfine -N -w 20 -r 200 "$bundled" "$system" | grep -E 'Benchmark|Time \(mean|faster' 

rss() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1; }
echo "## start-up peak RSS (KiB): bundled $(rss "$bundled")  system $(rss "$system")"

echo "## whole-file decode to float32 (wall, mean of hyperfine runs; peak RSS KiB)"
printf '| file | bundled | system | ffmpeg CLI | bundled RSS | system RSS | ffmpeg RSS |\n|---|---|---|---|---|---|---|\n'
for f in chirp.mp3 chirp.flac chirp.m4a chirp.opus chirp.ogg tone_aac.ts tone_frag.mp4; do
  json=$(mktemp)
  hyperfine -N -w 3 -r 20 --export-json "$json" \
    "$bundled $fixtures/$f" "$system $fixtures/$f" \
    "ffmpeg -v error -nostdin -i $fixtures/$f -f f32le -y /dev/null" >/dev/null
  means=$(python3 -c 'import json,sys; print(" ".join("%.1f ms"%(r["mean"]*1e3) for r in json.load(open(sys.argv[1]))["results"]))' "$json" 2>/dev/null ||
          sed -n 's/.*"mean": *\([0-9.]*\).*/\1/p' "$json" | awk '{printf "%.1f ms ", $1*1000}')
  rm -f "$json"
  read -r b bu s su c cu <<<"$means"
  printf '| %s | %s %s | %s %s | %s %s | %s | %s | %s |\n' "$f" "$b" "$bu" "$s" "$su" "$c" "$cu" \
    "$(rss "$bundled" "$fixtures/$f")" "$(rss "$system" "$fixtures/$f")" \
    "$(rss ffmpeg -v error -nostdin -i "$fixtures/$f" -f f32le -y /dev/null)"
done
