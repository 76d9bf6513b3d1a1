#!/usr/bin/env bash
# A soak of many streams through one kithara::context under a faulty server (issue 18):
#
#   bench/scale_soak.sh [--streams N=64] [--seconds S=600] [--out DIR] BUILD_DIR
#
# The media of bench/scale_vs_peers.sh (progressive MP3 and AAC, HLS MPEG-TS and fMP4 AAC) from
# two kithara_serve processes over the same files: a clean one, from which kithara_scale records
# each media's whole-play PCM (frames and FNV-1a hash) as the reference, and a faulty one
# (--drop-every 29: every 29th response is cut 8 KiB into its body; --status-every 31: every 31st
# request is answered 503: 6.7 % of all requests fail, and net's 6 attempts of one request all
# fail about once in 10^7. At --drop-every 7 --status-every 11, 23 % fail: 3 plays of 8958 in
# a 10-minute run had a request exhaust its retries, an error each, never short audio).
# Then N streams play as fast as they decode for S seconds, each opening again under a new URL
# when it ends (a new download into a 200 MB cache, so eviction runs too), every whole play
# checked against the reference: zero corrupt and zero failed plays is the pass. kithara_scale's JSON (OUT/soak.json) adds the largest anonymous memory of each half
# of the run and the descriptor range after a 10 % warm-up; OUT/series.txt has every sample.
set -euo pipefail
streams=64 seconds=600 out=""
while [[ $# -gt 1 ]]; do
  case $1 in
    --streams) streams=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--streams N] [--seconds S] [--out DIR] BUILD_DIR" >&2; exit 2 ;;
  esac
done
build=$(realpath "${1:?usage: $0 [--streams N] [--seconds S] [--out DIR] BUILD_DIR}")
out=${out:-$(mktemp -d /tmp/kithara-soak-XXXX)}
mkdir -p "$out/media"
serve=$build/tests/support/kithara_serve
scale=$build/bench/kithara_scale
ln -sfn "$build/tests/integration/file_media/long.mp3" "$out/media/long.mp3"
ln -sfn "$build/tests/integration/file_media/long.m4a" "$out/media/long.m4a"
ln -sfn "$build/tests/media/hls_fixtures/ts_aac" "$out/media/ts_aac"
ln -sfn "$build/tests/media/hls_fixtures/abr" "$out/media/abr"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
urls() {  # urls PORT
  printf 'http://127.0.0.1:%s/%s\n' "$1" long.mp3 "$1" long.m4a "$1" ts_aac/index.m3u8 \
    "$1" abr/a128.m3u8
}
# Each server prints its port on its first line: read it from the pipe (blocks until then).
exec {clean_fd}< <(exec "$serve" "$out/media")
pids+=($!)
read -r clean <&"$clean_fd"
exec {faulty_fd}< <(exec "$serve" "$out/media" --drop-every 29 --status-every 31)
pids+=($!)
read -r faulty <&"$faulty_fd"
urls "$clean" > "$out/clean-urls.txt"
urls "$faulty" > "$out/faulty-urls.txt"

echo "reference: each media played once from the clean server" >&2
"$scale" --urls "$out/clean-urls.txt" --streams 4 --mode fast --seconds 300 --new-streams 0 \
  --cache-dir "$out/cache-ref" --write-reference "$out/reference.txt" > "$out/reference.json"
cat "$out/reference.txt" >&2

echo "soak: $streams streams for $seconds s against the faulty server" >&2
rc=0
KITHARA_SCALE_SERIES=1 "$scale" --urls "$out/faulty-urls.txt" --streams "$streams" --mode fast \
  --seconds "$seconds" --replay yes --reference "$out/reference.txt" --cache-bytes 200000000 \
  --cache-dir "$out/cache-soak" --json "$out/soak.json" 2> "$out/soak.err" || rc=$?
grep '^series' "$out/soak.err" > "$out/series.txt" || true
grep -v '^series' "$out/soak.err" | tail -20 >&2 || true
cat "$out/soak.json"
echo "exit $rc (0: every play whole and equal to the reference); output in $out" >&2
exit $rc
