# Shared by bench/file_vs_peers.sh and bench/file_alloc.sh (sourced, not run):
#   file_bench_init <build-dir>     fp, serve (checked), work (a temp dir removed on exit)
#   file_bench_tracks <dir>         the four 180 s tracks: MP3, M4A (moov at the end), FLAC, Opus
#   file_bench_serve <dir> <var> [kithara_serve args...]   starts the test server; port in <var>
# A script may define file_bench_cleanup, run before the temp dir is removed.
bench_seconds=180

file_bench_init() {
    fp=$1/examples/file_playback
    serve=$1/tests/support/kithara_serve
    [[ -x $fp && -x $serve ]] || {
        echo "build first: cmake --build --preset default --target file_playback kithara_serve" >&2
        exit 1
    }
    work=$(mktemp -d)
    serve_pids=()
    trap file_bench_exit EXIT
}

file_bench_exit() {
    local pid
    for pid in "${serve_pids[@]}"; do kill "$pid" 2> /dev/null || true; done
    if declare -F file_bench_cleanup > /dev/null; then file_bench_cleanup || true; fi
    rm -rf "$work"
}

file_bench_tracks() {
    local ff="ffmpeg -nostdin -hide_banner -loglevel error -y"
    local src="-f lavfi -i aevalsrc=exprs=0.5*sin(2*PI*(200*t+3*t*t))|0.4*sin(2*PI*(300*t+2*t*t)):s=44100:d=$bench_seconds"
    mkdir -p "$1"
    $ff $src -c:a libmp3lame -b:a 192k "$1/track.mp3"
    $ff $src -c:a aac -b:a 160k "$1/track.m4a"  # moov at the end
    $ff $src -c:a flac "$1/track.flac"
    $ff $src -c:a libopus -b:a 128k "$1/track.opus"
}

file_bench_serve() {
    local dir=$1 var=$2 port_file
    shift 2
    port_file=$(mktemp -p "$work")
    rm -f "$port_file"
    "$serve" "$dir" "$@" --port-file "$port_file" > /dev/null &
    serve_pids+=($!)
    for _ in $(seq 50); do [[ -s $port_file ]] && break; sleep 0.1; done
    printf -v "$var" '%s' "$(cat "$port_file")"
}
