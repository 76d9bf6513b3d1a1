#!/usr/bin/env bash
# Whole-process HLS VOD playback: hls_playback against ffmpeg, GStreamer playbin and playbin3,
# VLC (cvlc) and mpv, the same streams from the same loopback servers, PCM as raw s16le stereo
# 44.1 kHz on stdout for every player (command lines: bench/lib/hls_bench.sh, hls_bench_cmd).
#
#   bench/hls_vs_peers.sh [build-dir=build/default] [runs=5]
#   KITHARA_BENCH_SECTIONS="check loopback link seek full" (the default: all, in that order)
#
# Sections (each prints a Markdown table; every figure is a median of `runs`, with the load
# average at the start and end of its row, because the reference machine is shared):
#   check     every player plays every stream to its end: PCM frames against the local decode
#             (exact for kithara; peers within 0.1 s), not silent; a seek to 150 s plays the
#             last 30 s. A player that fails a stream is marked "fails" in the other tables.
#   loopback  time to first PCM over nginx (tests/support/nginx.sh): the fixtures of
#             tests/media/hls (fMP4 master and media playlist, TS, AES-128 TS and fMP4,
#             BYTERANGE TS and fMP4).
#   link      time to first PCM through one 1 Mbit/s link shared by every connection of the
#             client (kithara_serve --link-rate 1M; KITHARA_BENCH_LINK_BITS), fMP4 and TS, and
#             the 180 s stream's master; "no link" = the same server without the link.
#   seek      first PCM of a start at 150 s of the 180 s stream over nginx: kithara uncached and
#             cached (after a whole run into the same cache dir), peers with their start option
#             (ffmpeg -ss, cvlc --start-time, mpv --start; gst-launch has none).
#   full      whole decode of the 180 s stream over nginx: wall, CPU (user+sys) and peak RSS
#             from /usr/bin/time -v, PCM to /dev/null.
# Time to first PCM = process spawn to the first PCM byte on stdout; a fresh cache dir per
# kithara run unless marked cached. Run it under `nice -n -15` on a shared machine.
# KITHARA_BENCH_PLAYERS chooses the players, e.g. "kithara kithara-tmpfs ffmpeg": kithara-tmpfs
# is hls_playback with its cache directory on /dev/shm (tmpfs: fsync costs nothing), to show
# what the cache's durability costs on the machine's disk.
# Needs: ffmpeg, gst-launch-1.0 with gstreamer1.0-plugins-good/-bad/-libav, cvlc, mpv, nginx-light
# (scripts/install-deps.sh --bench), and the build targets hls_playback, kithara_serve and
# kithara_hls_fixtures.
# shellcheck disable=SC2154 # www, nport, lport, uport: set through printf -v by bench/lib/hls_bench.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/default}
runs=${2:-5}
sections=${KITHARA_BENCH_SECTIONS:-check loopback link seek full}
source "$root/bench/lib/hls_bench.sh"
hls_bench_init "$build"
hls_bench_nginx www nport
read -r -a players <<< "$(hls_bench_players)"
measure=$root/bench/lib/hls_measure.py
# "player:stream" pairs the check found failing (KITHARA_BENCH_FAILED: known ones, to run the
# other sections without the check)
failed=" ${KITHARA_BENCH_FAILED:-} "
declare -A seek_start  # "player:stream" -> where a start at 150 s really started (check)

echo "machine: $(nproc) cores, shared; $(hls_bench_load); nginx :$nport; medians of $runs;" \
    "players: ${players[*]}; $(date -u '+%F %H:%M') UTC"

# run <mode> <player> <url> [seek]: hls_measure.py's line for that player (empty: no command).
run() {
    local mode=$1 p=$2 url=$3 seek=${4:-}
    local -a c
    mapfile -t c < <(hls_bench_cmd "$p" "$url" "$seek")
    ((${#c[@]})) || return 0
    if [[ $mode == check ]]; then
        python3 "$measure" check "$work" "$5" -- "${c[@]}"
    else
        python3 "$measure" "$mode" "$runs" "$work" -- "${c[@]}"
    fi
}
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<< "$2"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

# ttfs_table <title> <base-url> <no-link-url-or-empty> <stream...>
ttfs_table() {
    local title=$1 base=$2 nolink=$3
    shift 3
    local header="| $title |" rule="|---|" p s
    [[ -n $nolink ]] && { header+=" no link: kithara / ffmpeg |"; rule+="---|"; }
    for p in "${players[@]}"; do header+=" $p |"; rule+="---|"; done
    echo
    echo "$header best peer / kithara | load |"
    echo "$rule---|---|"
    for s in "$@"; do
        local row="| $s |" best="" bestp="" kithara="" l0 line ms
        l0=$(cut -d' ' -f1 /proc/loadavg)
        if [[ -n $nolink ]]; then
            local bk bf
            bk=$(field ms "$(run ttfs kithara "$nolink/$s")")
            bf=$(field ms "$(run ttfs ffmpeg "$nolink/$s")")
            row+=" ${bk:-failed} / ${bf:-failed} ms |"
        fi
        for p in "${players[@]}"; do
            if [[ $failed == *" $p:$s "* ]]; then
                row+=" fails |"
                continue
            fi
            line=$(run ttfs "$p" "$base/$s")
            ms=$(field ms "$line")
            if [[ -z $ms ]]; then
                row+=" failed |"
                continue
            fi
            row+=" $ms ms |"
            if [[ $p == kithara ]]; then
                kithara=$ms
            elif [[ $p == kithara* ]]; then
                :  # a variant of kithara (kithara-tmpfs), not a peer
            elif [[ -z $best ]] || python3 -c "import sys; sys.exit(not $ms < $best)"; then
                best=$ms bestp=$p
            fi
        done
        if [[ -n $best && -n $kithara ]]; then
            row+=" $(ratio "$best" "$kithara") ($bestp) |"
        else
            row+=" — |"
        fi
        echo "$row $l0–$(cut -d' ' -f1 /proc/loadavg) |"
    done
}

fixture_streams="fx/fmp4_multi/master.m3u8 fx/fmp4_multi/a128.m3u8 fx/ts_aac/index.m3u8
fx/aes_ts/iv_explicit.m3u8 fx/aes_fmp4/iv_explicit.m3u8 fx/byterange_ts/index.m3u8
fx/byterange_fmp4/index.m3u8"
link_streams=${KITHARA_BENCH_LINK_STREAMS:-fx/fmp4_multi/master.m3u8 fx/fmp4_multi/a64.m3u8 fx/ts_aac/index.m3u8 long/master.m3u8}
long_streams="long/a128.m3u8 long/ts128.m3u8"

for section in $sections; do
    case $section in
    check)
        echo
        echo "== check: every player plays every stream to its end (frames vs the local decode) =="
        for s in $fixture_streams fx/fmp4_multi/a64.m3u8 long/master.m3u8 $long_streams; do
            frames=$(hls_bench_frames "$www" "$s")
            for p in "${players[@]}"; do
                line=$(run check "$p" "http://127.0.0.1:$nport/$s" "" "$frames")
                printf '%-30s %-9s %s\n' "$s" "$p" "$line"
                [[ $line == ok* ]] || failed+="$p:$s "
            done
        done
        # A start at 150 s: the PCM's length says where the player really started (some start
        # at the segment's beginning, 144 s); no PCM at all is a failure.
        for s in $long_streams; do
            frames=$(($(hls_bench_frames "$www" "$s") - 150 * 44100))
            for p in "${players[@]}"; do
                line=$(run check "$p" "http://127.0.0.1:$nport/$s" 150 "$frames")
                [[ -n $line ]] || continue
                got=$(field frames "$line")
                start=$(python3 -c "print(f'{150 - ($got - $frames) / 44100:.3f}')")
                printf '%-30s %-9s started at %s s: %s\n' "$s@150" "$p" "$start" "${line#* }"
                if [[ $got == 0 || $line == *exit=* ]]; then
                    failed+="$p:$s@150 "
                else
                    seek_start[$p:$s]=$start
                fi
            done
        done
        echo "failing: ${failed:- none}"
        ;;
    loopback)
        # shellcheck disable=SC2086
        ttfs_table "time to first PCM, nginx" "http://127.0.0.1:$nport" "" $fixture_streams
        ;;
    link)
        link_bits=${KITHARA_BENCH_LINK_BITS:-1000000}
        hls_bench_serve "$www" lport --link-rate "$link_bits"
        hls_bench_serve "$www" uport
        echo
        echo "shared link: $link_bits bit/s for every connection together (kithara_serve :$lport)"
        # shellcheck disable=SC2086
        ttfs_table "time to first PCM, shared $((link_bits / 1000)) kbit/s" \
            "http://127.0.0.1:$lport" "http://127.0.0.1:$uport" $link_streams
        ;;
    seek)
        echo
        echo "| seek to 150 s, first PCM | kithara uncached | kithara cached | peers | load |"
        echo "|---|---|---|---|---|"
        for s in $long_streams; do
            url=http://127.0.0.1:$nport/$s
            l0=$(cut -d' ' -f1 /proc/loadavg)
            ku=$(field ms "$(run ttfs kithara "$url" 150)")
            rm -rf "$work/cache"
            "$hp" "$url" --out null --quiet --cache-dir "$work/cache" || echo "kithara: caching run failed" >&2
            kc=$(field ms "$(CACHED=1 run ttfs kithara "$url" 150)")
            peers=""
            for p in "${players[@]}"; do
                [[ $p == kithara* ]] && continue
                [[ $failed == *" $p:$s@150 "* ]] && { peers+="$p fails, "; continue; }
                line=$(run ttfs "$p" "$url" 150)
                [[ -n $line ]] || continue
                ms=$(field ms "$line")
                peers+="$p ${ms:+$ms ms}${ms:-failed}"
                [[ -n $ms && -n $ku ]] && peers+=" ($(ratio "$ms" "$ku"))"
                st=${seek_start[$p:$s]:-}
                [[ -n $st && $st != 150.000 ]] && peers+=" [starts at $st s]"
                peers+=", "
            done
            echo "| $s | ${ku:-failed} ms | ${kc:-failed} ms | ${peers%, } | $l0–$(cut -d' ' -f1 /proc/loadavg) |"
        done
        ;;
    full)
        echo
        echo "| full decode, 180 s | player | wall | CPU | peak RSS | wall / CPU / RSS vs kithara | load |"
        echo "|---|---|---|---|---|---|---|"
        for s in $long_streams; do
            url=http://127.0.0.1:$nport/$s
            kw="" kc="" kr=""
            for p in "${players[@]}"; do
                [[ $failed == *" $p:$s "* ]] && { echo "| $s | $p | fails | | | | |"; continue; }
                l0=$(cut -d' ' -f1 /proc/loadavg)
                line=$(run full "$p" "$url")
                w=$(field wall "$line") cpu=$(field cpu "$line") r=$(field rss "$line")
                if [[ -z $w ]]; then
                    echo "| $s | $p | failed | | | | $l0 |"
                    continue
                fi
                rel=""
                if [[ $p == kithara ]]; then
                    kw=$w kc=$cpu kr=$r
                elif [[ -n $kw ]]; then
                    rel="$(ratio "$w" "$kw") / $(ratio "$cpu" "$kc") / $(ratio "$r" "$kr")"
                fi
                echo "| $s | $p | $w ms | $cpu ms | $r MiB | $rel | $l0–$(cut -d' ' -f1 /proc/loadavg) |"
            done
        done
        ;;
    *)
        echo "unknown section $section" >&2
        exit 2
        ;;
    esac
done
