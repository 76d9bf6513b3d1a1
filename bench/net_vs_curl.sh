#!/usr/bin/env bash
# Loopback download throughput: kithara::net (net_bench --fetch) against the curl CLI, same file,
# same server (nginx from tests/support/nginx.sh, or the Kithara test server with --test-server).
#
#   bench/net_vs_curl.sh [build-dir=build/default] [size-MiB=256] [--test-server]
#
# Needs hyperfine (apt-get install -y hyperfine). Prints hyperfine's table; the ratio is
# curl's mean over kithara's mean (> 1: kithara faster).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/default}
size=${2:-256}
mode=${3:-nginx}
bench=$build/bench/net_bench
[[ -x $bench ]] || { echo "build net_bench first: cmake --build --preset default --target net_bench kithara_serve" >&2; exit 1; }
work=$(mktemp -d)
cleanup() {
    [[ -n ${serve_pid:-} ]] && kill "$serve_pid" 2>/dev/null || true
    [[ $mode == nginx ]] && bash "$root/tests/support/nginx.sh" stop "$work/nginx" > /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/nginx/root"
head -c $((size * 1048576)) /dev/urandom > "$work/nginx/root/big.bin"
if [[ $mode == --test-server ]]; then
    mode=test-server
    "$build/tests/support/kithara_serve" "$work/nginx/root" --port-file "$work/port" > /dev/null &
    serve_pid=$!
    for _ in $(seq 50); do [[ -s $work/port ]] && break; sleep 0.1; done
    port=$(cat "$work/port")
else
    bash "$root/tests/support/nginx.sh" start "$work/nginx" > /dev/null
    port=$(cat "$work/nginx/port")
fi
url=http://127.0.0.1:$port/big.bin
echo "server: $mode, file: $size MiB, url: $url"
hyperfine -N --warmup 2 --runs 10 \
    -n curl "curl -s -o /dev/null $url" \
    -n kithara "$bench --fetch $url" \
    --export-json "$work/result.json"
python3 - "$work/result.json" "$size" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
size = float(sys.argv[2])
for name in ("curl", "kithara"):
    print(f"{name}: mean {r[name]['mean']*1000:.1f} ms, {size / r[name]['mean']:.0f} MiB/s")
print(f"ratio curl/kithara time: {r['curl']['mean'] / r['kithara']['mean']:.2f}")
PY
