#!/usr/bin/env bash
# Start-up of programs linked with Kithara over the bundled lean libcurl and over Debian's
# libcurl4 (KITHARA_CURL=bundled|system), against the floor: an empty C program.
#   bench/curl_modes.sh <bundled-build-dir> <system-build-dir> [runs=300]
# Programs (each build dir's own): bench/net_fetch (linked with kithara::net alone) and
# examples/play (the whole family through kithara::kithara; with no argument it prints its usage
# and exits). Prints a Markdown table: shared objects loaded (the loader's list, without the vDSO),
# start-up time (hyperfine -N, mean of `runs`, process start to exit), peak RSS (GNU time).
# Two more floors show what no libcurl build can remove: an empty C++ program (libstdc++) and one
# that also links the system OpenSSL (libssl, libcrypto), which the lean libcurl and Kithara use.
# Needs: hyperfine, cc, GNU time (scripts/install-deps.sh --bench).
set -euo pipefail
bundled=${1:?usage: bench/curl_modes.sh bundled-build system-build [runs]}
system=${2:?usage: bench/curl_modes.sh bundled-build system-build [runs]}
runs=${3:-300}
for b in "$bundled" "$system"; do
  for p in bench/net_fetch examples/play; do
    [[ -x $b/$p ]] || { echo "missing $b/$p (build the targets net_fetch and play)" >&2; exit 1; }
  done
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo 'int main(void) { return 0; }' >"$tmp/empty.c"
cc -O2 -o "$tmp/empty" "$tmp/empty.c"
echo '#include <string>
int main(int argc, char** argv) { return argc > 9 ? static_cast<int>(std::string(argv[0]).size()) : 0; }' >"$tmp/cxx.cpp"
c++ -O2 -o "$tmp/cxx" "$tmp/cxx.cpp"
c++ -O2 -o "$tmp/cxx_openssl" "$tmp/cxx.cpp" -Wl,--no-as-needed -lssl -lcrypto

objects() { LD_TRACE_LOADED_OBJECTS=1 "$1" | grep -vc 'linux-vdso'; }
rss() { /usr/bin/time -f '%M' "$1" 2>&1 >/dev/null | tail -n 1; }
json=$tmp/startup.json
# play exits 2 without a URL: -i keeps hyperfine measuring.
hyperfine -N -i -w 30 -r "$runs" --export-json "$json" "$tmp/empty" "$tmp/cxx" "$tmp/cxx_openssl" \
  "$bundled/bench/net_fetch" "$system/bench/net_fetch" \
  "$bundled/examples/play" "$system/examples/play" >/dev/null 2>&1
mapfile -t means < <(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("%.2f" % (r["mean"] * 1e3))' "$json")
floor=${means[0]}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); runs: $runs"
printf '| program | curl | shared objects | start-up | × empty | peak RSS |\n|---|---|---|---|---|---|\n'
printf '| empty C program | — | %s | %s ms | 1.0 | %s KiB |\n' \
  "$(objects "$tmp/empty")" "$floor" "$(rss "$tmp/empty")"
row() {  # row <name> <mode> <binary> <mean-ms>
  printf '| %s | %s | %s | %s ms | %s | %s KiB |\n' "$1" "$2" "$(objects "$3")" "$4" \
    "$(python3 -c "print('%.1f' % ($4 / $floor))")" "$(rss "$3")"
}
row "empty C++ program" — "$tmp/cxx" "${means[1]}"
row "C++ program + OpenSSL" — "$tmp/cxx_openssl" "${means[2]}"
row "net_fetch (kithara::net)" bundled "$bundled/bench/net_fetch" "${means[3]}"
row "net_fetch (kithara::net)" system "$system/bench/net_fetch" "${means[4]}"
row "play (whole family)" bundled "$bundled/examples/play" "${means[5]}"
row "play (whole family)" system "$system/examples/play" "${means[6]}"
