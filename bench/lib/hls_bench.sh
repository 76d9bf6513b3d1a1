# shellcheck shell=bash disable=SC2086 # $ff and $bx are split into arguments on purpose
# Shared by bench/hls_vs_peers.sh and bench/hls_alloc.sh (sourced, not run):
#   hls_bench_init <build-dir>      hp (hls_playback), serve (kithara_serve), fixtures (the HLS
#                                   fixtures of tests/media/hls), work (a temp dir removed on exit)
#   hls_bench_long <dir>            the 180 s stream (see below), generated once per build dir
#                                   and linked as <dir>/long
#   hls_bench_nginx <root-var> <port-var>   nginx (tests/support/nginx.sh) on 127.0.0.1 serving
#                                   the fixtures and the 180 s stream; stopped on exit
#   hls_bench_serve <dir> <var> [kithara_serve args...]   the test server; port in <var>
#   hls_bench_load                  "load 1.23 1.10 0.98" (the 1/5/15 min load averages now)
# Players (hls_bench_cmd <player> <url> [seek-seconds]): the command line that writes the
# stream's PCM as raw s16le on stdout (kithara: hls_playback; @CACHE@ = the cache dir;
# kithara-tmpfs: the same with its cache on /dev/shm, @TMPFS@), or
# "" when the player has no way to start at a position.
# A script may define hls_bench_cleanup, run before the temp dir is removed.
hls_bench_seconds=180

hls_bench_init() {
    set -- "$(cd "$1" && pwd)"
    hp=${KITHARA_BENCH_HP:-$1/examples/hls_playback}  # another hls_playback to measure
    serve=$1/tests/support/kithara_serve
    fixtures=$1/tests/media/hls_fixtures
    long_dir=$1/bench/hls_long180
    [[ -x $hp && -x $serve && -f $fixtures/stamp ]] || {
        echo "build first: cmake --build <build-dir> --target hls_playback kithara_serve kithara_hls_fixtures" >&2
        exit 1
    }
    work=$(mktemp -d)
    chmod 755 "$work"
    # kithara-tmpfs keeps its cache here (tmpfs, where fsync costs nothing); bench/lib/hls_measure.py
    # reads the variable.
    KITHARA_BENCH_TMPFS=$(mktemp -d -p /dev/shm 2> /dev/null || mktemp -d)
    export KITHARA_BENCH_TMPFS
    serve_pids=()
    nginx_dir=""
    trap hls_bench_exit EXIT
}

hls_bench_exit() {
    local pid
    for pid in "${serve_pids[@]}"; do kill "$pid" 2> /dev/null || true; done
    [[ -n $nginx_dir ]] && bash "$hls_bench_root/tests/support/nginx.sh" stop "$nginx_dir" > /dev/null 2>&1
    if declare -F hls_bench_cleanup > /dev/null; then hls_bench_cleanup || true; fi
    rm -rf "$work" "$KITHARA_BENCH_TMPFS"
}
hls_bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# The 180 s stream: the sweeps of bench/lib/file_bench.sh (stereo, 44.1 kHz), 6 s segments (the
# segment length Apple's authoring guide recommends), VOD: fMP4 AAC-LC at 64k, 128k and 256k
# (EXT-X-MAP), MPEG-TS AAC-LC 128k, and a master listing all four (BANDWIDTH ascending, the TS
# variant third as in the fmp4_multi fixture). Written to $long_dir once (a stamp names this
# recipe); bit-exact flags so every build dir gets the same bytes.
hls_bench_long() {
    local recipe="long180 v1: sweeps 44.1k, hls_time 6, a64/a128/a256 fmp4 + ts128"
    if [[ ! -f $long_dir/stamp || $(cat "$long_dir/stamp") != "$recipe" ]]; then
        rm -rf "$long_dir"
        mkdir -p "$long_dir"
        local ff="ffmpeg -nostdin -hide_banner -loglevel error -y"
        local bx="-fflags +bitexact -flags:a +bitexact -map_metadata -1"
        local src="aevalsrc=exprs=0.5*sin(2*PI*(200*t+3*t*t))|0.4*sin(2*PI*(300*t+2*t*t)):s=44100:d=$hls_bench_seconds"
        (
            cd "$long_dir" || exit 1
            $ff -f lavfi -i "$src" $bx -c:a pcm_f32le src.wav
            for b in 64 128 256; do
                $ff -i src.wav $bx -c:a aac -b:a ${b}k -f hls -hls_time 6 -hls_playlist_type vod \
                    -hls_segment_type fmp4 -hls_fmp4_init_filename a${b}_init.mp4 \
                    -hls_segment_filename "a${b}_%03d.m4s" a$b.m3u8
            done
            $ff -i src.wav $bx -c:a aac -b:a 128k -f hls -hls_time 6 -hls_playlist_type vod \
                -hls_segment_type mpegts -hls_segment_filename "ts128_%03d.ts" ts128.m3u8
            rm src.wav
            {
                printf '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n'
                for v in a64:70000 a128:136000 ts128:146000 a256:260000; do
                    printf '#EXT-X-STREAM-INF:BANDWIDTH=%s,CODECS="mp4a.40.2"\n%s.m3u8\n' "${v#*:}" "${v%%:*}"
                done
            } > master.m3u8
        )
        echo "$recipe" > "$long_dir/stamp"
    fi
    ln -sfn "$long_dir" "$1/long"
}

hls_bench_nginx() {
    nginx_dir=$work/nginx
    bash "$hls_bench_root/tests/support/nginx.sh" start "$nginx_dir" > /dev/null
    printf -v "$1" '%s' "$nginx_dir/root"
    printf -v "$2" '%s' "$(cat "$nginx_dir/port")"
    ln -sfn "$fixtures" "$nginx_dir/root/fx"
    hls_bench_long "$nginx_dir/root"
}

hls_bench_serve() {
    local dir=$1 var=$2 port_file
    shift 2
    port_file=$(mktemp -p "$work")
    rm -f "$port_file"
    "$serve" "$dir" "$@" --port-file "$port_file" > /dev/null &
    serve_pids+=($!)
    for _ in $(seq 50); do [[ -s $port_file ]] && break; sleep 0.1; done
    printf -v "$var" '%s' "$(cat "$port_file")"
}

hls_bench_load() { echo "load $(cut -d' ' -f1-3 /proc/loadavg)"; }

# PCM everywhere: s16le, stereo, 44.1 kHz (every bench stream is 44.1 kHz stereo).
hls_bench_gst_sink="audio-sink=audioconvert ! audioresample ! audio/x-raw,format=S16LE,channels=2,rate=44100 ! fdsink fd=1 sync=false"
hls_bench_vlc_sout="#transcode{acodec=s16l,channels=2,samplerate=44100}:std{access=file,mux=raw,dst=-}"

# hls_bench_players: the players installed here, kithara first (KITHARA_BENCH_PLAYERS: a list).
hls_bench_players() {
    [[ -n ${KITHARA_BENCH_PLAYERS:-} ]] && { echo "$KITHARA_BENCH_PLAYERS"; return; }
    local list=(kithara ffmpeg)
    command -v gst-launch-1.0 > /dev/null && list+=(playbin playbin3)
    command -v cvlc > /dev/null && command -v setpriv > /dev/null && list+=(vlc)
    command -v mpv > /dev/null && list+=(mpv)
    echo "${list[@]}"
}

# hls_bench_cmd <player> <url> [seek]: prints the command, one argument per line.
hls_bench_cmd() {
    local p=$1 url=$2 seek=${3:-}
    local args=()
    case $p in
    kithara | kithara-tmpfs)
        args=("$hp" "$url" --out - --format s16le --quiet --cache-dir @CACHE@)
        [[ $p == kithara-tmpfs ]] && args[-1]=@TMPFS@
        [[ -n $seek ]] && args+=(--seek "$seek") ;;
    ffmpeg)
        args=(ffmpeg -nostdin -loglevel error)
        [[ -n $seek ]] && args+=(-ss "$seek")
        args+=(-i "$url" -f s16le -ac 2 -ar 44100 -) ;;
    playbin | playbin3)
        [[ -n $seek ]] && return 0  # gst-launch has no start position
        args=(gst-launch-1.0 -q "$p" "uri=$url" "$hls_bench_gst_sink" video-sink=fakesink) ;;
    vlc)
        # VLC refuses to run as root: as nobody, with a writable HOME.
        mkdir -p "$work/vlc-home" && chmod 777 "$work/vlc-home"
        args=(setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$work/vlc-home"
              cvlc -q --intf dummy --no-video)
        [[ -n $seek ]] && args+=(--start-time "$seek")
        args+=("$url" --sout "$hls_bench_vlc_sout" vlc://quit) ;;
    mpv)
        args=(mpv --no-config --really-quiet --no-video --ao=pcm --ao-pcm-file=/dev/stdout
              --ao-pcm-waveheader=no --audio-format=s16 --audio-samplerate=44100 --audio-channels=stereo)
        [[ -n $seek ]] && args+=(--start="$seek")
        args+=("$url") ;;
    esac
    printf '%s\n' "${args[@]}"
}

# hls_bench_frames <root> <path>: the stream's PCM frames as the local decode counts them (the
# fixtures' reference.json; for the 180 s stream a local ffmpeg decode, cached in $long_dir; a
# master counts as its first variant, every variant having the same length).
hls_bench_frames() {
    python3 - "$1" "$2" <<'PY'
import json, os, subprocess, sys
root, path = sys.argv[1], sys.argv[2]
d, pl = os.path.split(os.path.join(root, path))
d = os.path.realpath(d)
ref = os.path.join(d, "reference.json")
if os.path.exists(ref):
    vs = json.load(open(ref))["variants"]
    v = next((v for v in vs if v["playlist"] == pl), vs[0])
    print(v["pcm_samples"])
    sys.exit()
if pl == "master.m3u8":
    pl = "a128.m3u8"
cache = os.path.join(d, f"frames_{pl}")
if not os.path.exists(cache):
    pcm = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-allowed_extensions", "ALL",
                          "-i", os.path.join(d, pl), "-map", "0:a:0", "-f", "s16le", "-"],
                         capture_output=True, check=True).stdout
    open(cache, "w").write(str(len(pcm) // 4))
print(open(cache).read().strip())
PY
}
