#!/usr/bin/env bash
# Bytes downloaded again after kill -9 of a process downloading through kithara::file, at 20
# seeded random moments, with the range log (now) and without it (as before: only the range map
# synced every 4 MiB counts). Counted from the test server's request log by crash_resume_test.
#
#   bench/crash_refetch.sh [build-dir=build/default] [rounds=20]
#
# Prints the median and the worst refetch of each mode.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/default}
rounds=${2:-20}
test_bin=$build/tests/integration/crash_resume_test
[[ -x $test_bin ]] || { echo "build crash_resume_test first ($test_bin)" >&2; exit 1; }

summary() {
    local label=$1
    sort -n | awk -v label="$label" '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%-22s rounds %d  median %8.0f bytes (%6.1f KiB)  worst %8d bytes (%6.1f KiB)\n",
               label, NR, m, m / 1024, v[NR], v[NR] / 1024 }'
}

for mode in log no-log; do
    env_args=(KITHARA_CRASH_ROUNDS="$rounds")
    [[ $mode == no-log ]] && env_args+=(KITHARA_CRASH_NO_LOG=1)
    env "${env_args[@]}" "$test_bin" 2>/dev/null | sed -n 's/^refetched \([0-9]*\).*/\1/p' |
        summary "$([[ $mode == log ]] && echo 'range log (now)' || echo 'map only (before)')"
done
