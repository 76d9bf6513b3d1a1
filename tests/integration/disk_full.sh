#!/usr/bin/env bash
# file_playback with its cache on a 1 MiB tmpfs, smaller than the 2 MiB demo track: the download
# hits ENOSPC mid-file and the program must fail loudly (non-zero exit, an error naming the
# cause) instead of delivering a short result. Needs root (mount), as CI has.
#   disk_full.sh <file_playback>
set -u
player=$1
dir=$(mktemp -d)
trap 'umount "$dir" 2>/dev/null; rmdir "$dir"' EXIT
if ! mount -t tmpfs -o size=1m kithara-disk-full "$dir"; then
  echo "disk_full: cannot mount a tmpfs (this test needs root)" >&2
  exit 2
fi
out=$("$player" --cache-dir "$dir/cache" --out null --quiet 2>&1)
rc=$?
echo "$out"
if [[ $rc -eq 0 ]]; then
  echo "disk_full: file_playback exited 0 although the cache disk was full" >&2
  exit 1
fi
grep -q "No space left on device" <<<"$out" || { echo "disk_full: no ENOSPC in the error" >&2; exit 1; }
echo "disk_full: failed loudly as it must (exit $rc)"
