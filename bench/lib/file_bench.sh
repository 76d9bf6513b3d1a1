# Shared by bench/file_vs_peers.sh and bench/file_alloc.sh (sourced, not run):
#   file_bench_init <build-dir>     fp (KITHARA_BENCH_FP overrides), serve (checked), work (a temp dir removed on exit)
#   file_bench_tracks <dir>         the 180 s tracks: MP3, M4A (moov at the end; track_fs.m4a with
#                                   faststart), FLAC, Opus
#   file_bench_floor <file>         bytes a decoder needs before its first sample (see below)
#   file_bench_serve <dir> <var> [kithara_serve args...]   starts the test server; port in <var>
# A script may define file_bench_cleanup, run before the temp dir is removed.
bench_seconds=180

file_bench_init() {
    fp=${KITHARA_BENCH_FP:-$1/examples/file_playback}  # another file_playback to measure
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
    $ff -i "$1/track.m4a" -c copy -movflags +faststart "$1/track_fs.m4a"
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

# The physical floor of a file's start-up: the bytes that must cross the link before any decoder
# can produce its first sample, whatever it does. Everything up to the end of the first audio
# packet (ID3 tags, Xing frame, FLAC metadata, MP4 boxes before it), for MP4 plus a `moov` that
# comes after that packet (moov at the end). Prints "<bytes> <page-bytes>": for Ogg the second is
# up to the end of the first page that completes an audio packet (demuxers that read pages whole,
# as FFmpeg's does, need it: the CRC covers the page; libopus' muxer puts ~1 s in a page); for
# other formats both are the same.
file_bench_floor() {
    python3 - "$1" <<'PY'
import json, struct, subprocess, sys
f = sys.argv[1]
data = open(f, "rb").read()

def first_packet_end():
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                          "packet=pos,size", "-read_intervals", "%+#1", "-of", "json", f],
                         capture_output=True, text=True, check=True).stdout
    p = json.loads(out)["packets"][0]
    return int(p["pos"]) + int(p["size"])

page = None
if data[:4] == b"OggS":
    off = need = 0
    while off + 27 <= len(data):
        granule = struct.unpack_from("<q", data, off + 6)[0]
        nseg = data[off + 26]
        lacing = data[off + 27:off + 27 + nseg]
        end = off + 27 + nseg + sum(lacing)
        if granule > 0:  # header pages have 0, a page completing no packet has -1
            first = 0  # the first packet: lacing values up to one below 255
            for v in lacing:
                first += v
                if v < 255:
                    break
            need, page = off + 27 + nseg + first, end
            break
        off = end
elif data[4:8] == b"ftyp":
    need = first_packet_end()
    off = 0
    while off + 8 <= len(data):
        size, typ = struct.unpack_from(">I4s", data, off)
        if size == 1:
            size = struct.unpack_from(">Q", data, off + 8)[0]
        elif size == 0:
            size = len(data) - off
        if typ == b"moov" and off >= need:
            need += size
        off += size
else:
    need = first_packet_end()
print(need, page or need)
PY
}
