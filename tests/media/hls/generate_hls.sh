#!/usr/bin/env bash
# shellcheck disable=SC2046 # $(src ...) and $(hlsin ...) are split into arguments on purpose
# Generates Kithara's HLS VOD test fixtures and the hls_playback demo deterministically with the
# ffmpeg CLI (Debian 12's ffmpeg 5.1), plus a reference.json per fixture (see README.md).
#   tests/media/hls/generate_hls.sh <out-dir> [fixture ...]     (no fixture names: all of them)
# Needs: ffmpeg, ffprobe, openssl, sha256sum, od, awk. Every run gives bit-identical output.
set -eu
set -f # no globbing: the aevalsrc expressions contain '*'
export LC_ALL=C

out=${1:?usage: generate_hls.sh out-dir [fixture ...]}
shift
all="fmp4_multi ts_aac ts_mp3 packed_adts packed_mp3 byterange_ts byterange_fmp4 aes_ts aes_fmp4
discontinuity rate48 gap short_tail flac_fmp4 opus_fmp4 ac3_ts demo abr renditions"
want=${*:-$all}
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
bx="-fflags +bitexact -flags:a +bitexact -map_metadata -1"
pcm_file_limit=1000000 # PCM_FILE=1 ref_variant ... writes the reference PCM as .f32 up to this size

# --- Content (non-periodic, never silent) -----------------------------------------------------
# main: two gliding tones (220 Hz + 30 Hz/s, 330 Hz + 20 Hz/s) over a slowly beating C5/E5 pair.
src_expr() { # rate seconds
    echo "aevalsrc=exprs=0.3*sin(2*PI*(220*t+15*t*t))+0.12*sin(2*PI*523.25*t)*(0.6+0.4*sin(2*PI*0.31*t))+0.06*sin(2*PI*(1760*t-20*t*t))|0.3*sin(2*PI*(330*t+10*t*t))+0.12*sin(2*PI*659.25*t)*(0.6+0.4*cos(2*PI*0.23*t))+0.05*sin(2*PI*(2500*t+35*t*t)):s=$1:d=$2"
}
# other: a falling sweep with a 3:2 partial and a 5 Hz tremolo, for the second half of a
# discontinuity.
src_b_expr() { # rate seconds
    echo "aevalsrc=exprs=0.35*sin(2*PI*(1200*t-60*t*t))*(0.8+0.2*sin(2*PI*5*t))+0.1*sin(2*PI*(1800*t-90*t*t))|0.3*sin(2*PI*(900*t-40*t*t))+0.12*sin(2*PI*392*t):s=$1:d=$2"
}
# demo: I-vi-IV-V (C Am F G) every 2.5 s, bass an octave below, soft attack and decay.
chords_expr() { # rate seconds
    local m="st(0,mod(floor(t/2.5),4))"
    local f1="if(eq(ld(0),0),261.63,if(eq(ld(0),1),220,if(eq(ld(0),2),174.61,196)))"
    local f2="if(eq(ld(0),0),329.63,if(eq(ld(0),1),261.63,if(eq(ld(0),2),220,246.94)))"
    local f3="if(eq(ld(0),0),392,if(eq(ld(0),1),329.63,if(eq(ld(0),2),261.63,293.66)))"
    local env="min(1,mod(t,2.5)*25)*(0.3+0.7*exp(-1.2*mod(t,2.5)))"
    local l="$m+0.25*$env*(sin(2*PI*$f1*t)+0.8*sin(2*PI*$f2*t)+0.6*sin(2*PI*$f3*t)+0.7*sin(PI*$f1*t))"
    local r="$m+0.25*$env*(0.8*sin(2*PI*$f1*t)+sin(2*PI*$f2*t)+0.7*sin(2*PI*$f3*t)+0.7*sin(PI*$f1*t+0.3))"
    # st() returns its value (0..3): subtract it again so it adds nothing. Commas escaped for
    # the filter graph parser.
    l="${l//,/\\,}-ld(0)"
    r="${r//,/\\,}-ld(0)"
    echo "aevalsrc=exprs=$l|$r:s=$1:d=$2"
}
# src/src_b/chords <rate> <seconds>: input arguments for that content, rendered once per run to a
# float WAV in $tmp (evaluating the expressions once instead of per encode).
cached() { # kind rate seconds
    local f=$tmp/$1_$2_$3.wav
    [ -f "$f" ] || ff -f lavfi -i "$("$1_expr" "$2" "$3")" $bx -c:a pcm_f32le "$f"
    echo "-i $f"
}
src() { cached src "$@"; }
src_b() { cached src_b "$@"; }
chords() { cached chords "$@"; }

# --- Encoders ---------------------------------------------------------------------------------
# hls_media <dir> <name> <fmp4|mpegts> <src args> -- <codec args>: <dir>/<name>.m3u8, segments
# <name>_NNN.{m4s,ts}, init <name>_init.mp4; 2 s target duration; VOD.
hls_media() {
    local dir=$1 name=$2 type=$3
    shift 3
    local srcargs=() codecargs=()
    while [ "$1" != "--" ]; do srcargs+=("$1"); shift; done
    shift
    codecargs=("$@")
    local extra=()
    if [ "$type" = fmp4 ]; then
        extra=(-hls_segment_type fmp4 -hls_fmp4_init_filename "${name}_init.mp4"
               -hls_segment_filename "${name}_%03d.m4s")
    else
        extra=(-hls_segment_type mpegts -hls_segment_filename "${name}_%03d.ts")
    fi
    (cd "$dir" && ff "${srcargs[@]}" $bx "${codecargs[@]}" -f hls -hls_time 2 \
        -hls_playlist_type vod "${extra[@]}" "$name.m3u8")
}

# --- Playlist inspection ----------------------------------------------------------------------
# segments <playlist>: one line per segment, tab-separated:
#   uri len off method keyuri iv mapuri maplen mapoff extinf seq gap disc
# ('-' for absent; len/off from EXT-X-BYTERANGE; iv is 32 hex digits, from the tag or the media
# sequence number).
segments() {
    awk -v OFS='\t' '
    function attr(line, name,   s) {
        if (match(line, "[:,]" name "=\"[^\"]*\"")) {
            s = substr(line, RSTART + length(name) + 3, RLENGTH - length(name) - 4); return s }
        if (match(line, "[:,]" name "=[^,]*")) return substr(line, RSTART + length(name) + 2, RLENGTH - length(name) - 2)
        return "-"
    }
    BEGIN { seq = 0; method = "NONE"; keyuri = "-"; iv = "-"; mapuri = "-"; maplen = "-"; mapoff = "-" }
    /^#EXT-X-MEDIA-SEQUENCE:/ { seq = substr($0, 23) + 0 }
    /^#EXTINF:/ { d = substr($0, 9); sub(/,.*/, "", d) }
    /^#EXT-X-BYTERANGE:/ { v = substr($0, 18); n = split(v, b, "@"); len = b[1]; off = (n > 1) ? b[2] : "+" }
    /^#EXT-X-KEY:/ { method = attr($0, "METHOD"); keyuri = attr($0, "URI"); iv = attr($0, "IV")
                     if (iv != "-") iv = tolower(substr(iv, 3)) }
    /^#EXT-X-MAP:/ { mapuri = attr($0, "URI"); br = attr($0, "BYTERANGE")
                     if (br == "-") { maplen = "-"; mapoff = "-" } else { split(br, b, "@"); maplen = b[1]; mapoff = b[2] } }
    /^#EXT-X-GAP/ { gap = 1 }
    /^#EXT-X-DISCONTINUITY$/ { disc = 1 }
    /^[^#]/ && NF {
        if (len != "" && off == "+") off = next_off[$0]
        if (len != "") next_off[$0] = off + len
        v = iv; if (method != "NONE" && v == "-") v = sprintf("%032x", seq)
        print $0, (len == "" ? "-" : len), (len == "" ? "-" : off), method, keyuri, (method == "NONE" ? "-" : v),
              mapuri, maplen, mapoff, d, seq, gap + 0, disc + 0
        len = ""; off = ""; gap = 0; disc = 0; seq++
    }' "$1"
}

# strip_id3 <file>: the file without a leading ID3v2 tag.
strip_id3() {
    local h
    h=$(head -c 10 "$1" | od -An -v -tu1 | tr -s ' \n' ' ')
    set -- "$1" $h
    if [ $# -eq 11 ] && [ "$2" = 73 ] && [ "$3" = 68 ] && [ "$4" = 51 ]; then
        tail -c +$((((${8} << 21) | (${9} << 14) | (${10} << 7) | ${11}) + 11)) "$1"
    else
        cat "$1"
    fi
}

hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# extract <base-dir> <uri> <len|-> <off|-> > bytes
extract() {
    if [ "$3" = - ]; then cat "$1/$2"; else tail -c +$(($4 + 1)) "$1/$2" | head -c "$3"; fi
}

# count_packets <file> [segment-start-offsets]: samples of the first audio stream as ffprobe
# counts them: the sum over packets of round(duration * time_base * sample_rate) (exact per frame
# also for 90 kHz TS); a packet whose duration is N/A (mov reports it for the first packet) takes
# the pts step to the next one. With offsets (byte positions where segments start in <file>, '-'
# for a gap), one count per segment: a packet is in the segment its byte position falls in, and a
# TS packet without a position in the PES (and segment) of the one before it.
count_packets() {
    ffprobe -v error -select_streams a:0 \
        -show_entries packet=pts,duration,pos:stream=sample_rate,time_base -of default=nw=1 "$1" |
        awk -F= -v starts="${2:-0}" 'BEGIN { n = 0 }
        $1 == "pts" { t[n] = $2 } $1 == "duration" { d[n] = $2 }
        $1 == "pos" { p[n] = ($2 == "N/A" && n > 0) ? p[n - 1] : $2; n++ }
        $1 == "sample_rate" { r = $2 } $1 == "time_base" { split($2, tb, "/") }
        END {
            ns = split(starts, st, " ")
            for (i = 0; i < n; i++) {
                if (d[i] == "N/A") d[i] = (i + 1 < n && t[i + 1] != "N/A" && t[i] != "N/A") ? t[i + 1] - t[i] : d[i - 1]
                k = 1
                for (j = 1; j <= ns; j++) if (st[j] != "-" && st[j] + 0 <= p[i] + 0) k = j
                c[k] += int(d[i] * tb[1] * r / tb[2] + 0.5)
            }
            for (j = 1; j <= ns; j++) printf "%s%s", (j > 1 ? " " : ""), (st[j] == "-" ? "-" : c[j] + 0)
            printf "\n"
        }'
}
probe_samples() { count_packets "$1"; }

# bandwidth <playlist>: "peak average" in bit/s (segment bytes * 8 / EXTINF; init not counted).
bandwidth() {
    local dir uri len off m k iv mu ml mo d seq gap disc bytes
    dir=$(dirname "$1")
    segments "$1" | while IFS=$'\t' read -r uri len off m k iv mu ml mo d seq gap disc; do
        [ "$gap" = 1 ] && continue
        if [ "$len" = - ]; then bytes=$(wc -c < "$dir/$uri"); else bytes=$len; fi
        echo "$bytes $d"
    done | awk '{ b = $1 * 8 / $2; if (b > p) p = b; tb += $1 * 8; td += $2 }
                END { printf "%d %d\n", int(p) + 1, int(tb / td) + 1 }'
}

# --- reference.json ---------------------------------------------------------------------------
# ref_begin <dir> <description>; ref_variant ...; ref_end
ref_json=
ref_first=1
ref_begin() {
    ref_json="$1/reference.json"
    ref_first=1
    printf '{\n  "fixture": "%s",\n  "description": "%s",\n  "decode": "ffmpeg -allowed_extensions ALL -protocol_whitelist file,crypto -i PLAYLIST -map 0:a:0 -f f32le -ac 2 - (native sample rate; interleaved float32)",\n  "variants": [' \
        "$(basename "$1")" "$2" > "$ref_json"
}
ref_end() { printf '\n  ]\n}\n' >> "$ref_json"; }

hlsin() { case $1 in *.m3u8) echo "-allowed_extensions ALL -protocol_whitelist file,crypto" ;; esac; }
# fMP4: the init's edit list (segment_duration 0, media_time 0) declares no end, so the last frame
# is kept whole, as kithara::decode does too (docs/DECODE.md, "Gapless"); ffmpeg gives the same
# samples for the playlist and for init + segments concatenated.
decode() { # playlist-or-file output: prints the output sample rate
    ffmpeg -nostdin -hide_banner -y $(hlsin "$1") -i "$1" -map 0:a:0 -f f32le -ac 2 "$2" 2> "$tmp/decode.log" ||
        { cat "$tmp/decode.log" >&2; return 1; }
    ! grep -i -e 'error' -e 'invalid' "$tmp/decode.log" >&2 # any decode complaint fails the run
    sed -n '/^Output #0/,$s/.*Audio: pcm_f32le, \([0-9]*\) Hz.*/\1/p' "$tmp/decode.log"
}

# ref_variant <dir> <playlist> <codec> <container> [decode-source ...]
# The reference PCM is the concatenation of the decodes of the decode sources (default: the
# playlist itself; a playlist relative to <dir>, or an absolute path to a media file made in $tmp,
# recorded by its file name); each is also recorded as a part with its own sample count and rate.
ref_variant() {
    local dir=$1 pl=$2 codec=$3 container=$4
    shift 4
    local parts=("$@")
    [ ${#parts[@]} -eq 0 ] && parts=("$pl")
    local name=${pl%.m3u8}
    : > "$tmp/pcm"
    local partjson="" p rate n total=0
    local path
    for p in "${parts[@]}"; do
        case $p in /*) path=$p; p=$(basename "$p") ;; *) path=$dir/$p ;; esac
        # A decode source shared by several variants (packed audio) is decoded once.
        local cache_key
        cache_key=$(printf '%s' "$path" | sha256sum | cut -c1-16)
        if [ ! -f "$tmp/dec_$cache_key.f32" ]; then
            decode "$path" "$tmp/dec_$cache_key.f32" > "$tmp/dec_$cache_key.rate"
        fi
        cp "$tmp/dec_$cache_key.f32" "$tmp/part.f32"
        rate=$(cat "$tmp/dec_$cache_key.rate")
        n=$(($(wc -c < "$tmp/part.f32") / 8))
        total=$((total + n))
        cat "$tmp/part.f32" >> "$tmp/pcm"
        [ -n "$partjson" ] && partjson="$partjson, "
        partjson="$partjson{\"playlist\": \"$p\", \"sample_rate\": $rate, \"samples\": $n}"
    done
    local sha bytes pcmfile=null
    sha=$(sha256sum < "$tmp/pcm" | cut -d' ' -f1)
    bytes=$(wc -c < "$tmp/pcm")
    if [ "${PCM_FILE:-0}" = 1 ] && [ "$bytes" -le $pcm_file_limit ]; then
        cp "$tmp/pcm" "$dir/$name.f32"
        pcmfile="\"$name.f32\""
    fi
    # Segments: bytes, EXTINF and samples as ffprobe counts them. fMP4 and TS variants without
    # discontinuities are probed in one pass over init + decrypted segments, each packet counted
    # in the segment its byte position falls in; others segment by segment (init prepended).
    local whole=0
    case $container in fmp4 | mpegts | adts | mp3) whole=1 ;; esac
    segments "$dir/$pl" | awk -F'\t' '$13 == 1 { f = 1 } END { exit !f }' && whole=0
    local rows=() uri len off m k iv mu ml mo d seq gap disc sbytes key starts="" initdone=0
    : > "$tmp/all"
    while IFS=$'\t' read -r uri len off m k iv mu ml mo d seq gap disc; do
        rows+=("$uri"$'\t'"$len"$'\t'"$off"$'\t'"$m"$'\t'"$k"$'\t'"$iv"$'\t'"$d"$'\t'"$gap"$'\t'"$disc")
        [ "$gap" = 1 ] && { starts="$starts -"; continue; }
        extract "$dir" "$uri" "$len" "$off" > "$tmp/seg"
        sbytes=$(wc -c < "$tmp/seg")
        rows[-1]="${rows[-1]}"$'\t'"$sbytes"
        if [ "$m" = AES-128 ]; then
            key=$(hexof "$dir/$k")
            openssl enc -d -aes-128-cbc -K "$key" -iv "$iv" -in "$tmp/seg" -out "$tmp/seg.dec"
            mv "$tmp/seg.dec" "$tmp/seg"
        fi
        if [ $whole = 1 ]; then
            if [ "$mu" != - ] && [ $initdone = 0 ]; then
                extract "$dir" "$mu" "$ml" "$mo" >> "$tmp/all"
                initdone=1
            fi
            starts="$starts $(wc -c < "$tmp/all")"
            case $container in
            adts | mp3) strip_id3 "$tmp/seg" >> "$tmp/all" ;;
            *) cat "$tmp/seg" >> "$tmp/all" ;;
            esac
        else
            : > "$tmp/probe"
            [ "$mu" != - ] && extract "$dir" "$mu" "$ml" "$mo" > "$tmp/probe"
            cat "$tmp/seg" >> "$tmp/probe"
            starts="$starts $(probe_samples "$tmp/probe")"
        fi
    done < <(segments "$dir/$pl")
    local counts
    if [ $whole = 1 ]; then
        counts=$(count_packets "$tmp/all" "$starts")
    else
        counts=$starts
    fi
    local segjson="" row f i=0 samples
    read -r -a samples <<< "$counts"
    for row in "${rows[@]}"; do
        IFS=$'\t' read -r -a f <<< "$row"
        [ -n "$segjson" ] && segjson="$segjson,"
        segjson="$segjson"$'\n'"        {\"uri\": \"${f[0]}\""
        if [ "${f[7]}" = 1 ]; then
            segjson="$segjson, \"extinf\": ${f[6]}, \"gap\": true}"
        else
            [ "${f[1]}" != - ] && segjson="$segjson, \"byterange\": \"${f[1]}@${f[2]}\""
            [ "${f[8]}" = 1 ] && segjson="$segjson, \"discontinuity\": true"
            [ "${f[3]}" != NONE ] && segjson="$segjson, \"key\": \"${f[4]}\", \"iv\": \"${f[5]}\""
            segjson="$segjson, \"extinf\": ${f[6]}, \"bytes\": ${f[9]}, \"samples\": ${samples[$i]}}"
        fi
        i=$((i + 1))
    done
    [ $ref_first = 1 ] || printf ',' >> "$ref_json"
    ref_first=0
    printf '\n    {\n      "playlist": "%s",\n      "codec": "%s",\n      "container": "%s",\n      "pcm_samples": %s,\n      "pcm_sha256": "%s",\n      "pcm_file": %s,\n      "decode_parts": [%s],\n      "segments": [%s\n      ]\n    }' \
        "$pl" "$codec" "$container" "$total" "$sha" "$pcmfile" "$partjson" "$segjson" >> "$ref_json"
}

# master <file> <version> then lines "playlist codecs" on stdin.
master() {
    local file=$1 version=$2 pl codecs bw
    {
        printf '#EXTM3U\n#EXT-X-VERSION:%s\n#EXT-X-INDEPENDENT-SEGMENTS\n' "$version"
        while read -r pl codecs; do
            read -r -a bw <<< "$(bandwidth "$(dirname "$file")/$pl")"
            printf '#EXT-X-STREAM-INF:BANDWIDTH=%s,AVERAGE-BANDWIDTH=%s,CODECS="%s"\n%s\n' \
                "${bw[0]}" "${bw[1]}" "$codecs" "$pl"
        done
    } > "$file"
}

# id3_priv <90kHz-value>: an ID3v2.4 tag with one PRIV frame
# com.apple.streaming.transportStreamTimestamp (8 bytes big endian), 73 bytes.
id3_priv() {
    local hex i
    hex=$(printf '%016x' "$1")
    printf 'ID3\004\000\000\000\000\000\077PRIV\000\000\000\065\000\000'
    printf 'com.apple.streaming.transportStreamTimestamp\000'
    for i in 0 2 4 6 8 10 12 14; do printf "\\x${hex:$i:2}"; done
}
# id3_title: an ID3v2.4 tag with only a TIT2 frame (no timestamp), 27 bytes.
id3_title() { printf 'ID3\004\000\000\000\000\000\021TIT2\000\000\000\007\000\000\003kithara'; }

# packed_raw <dir> <name> <adts|mp3> <ext> <codec args...>: raw segments <name>_NNN.<ext> cut by
# the segment muxer (2 s) and the list $tmp/<name>.csv; PRIV prefixes are added by packed_playlist.
packed_raw() {
    local dir=$1 name=$2 fmt=$3 ext=$4
    shift 4
    local opts=()
    [ "$fmt" = mp3 ] && opts=(-segment_format_options id3v2_version=0:write_xing=0)
    (cd "$dir" && ff $(src 44100 9) $bx "$@" -f segment -segment_time 2 -segment_format "$fmt" \
        "${opts[@]}" -segment_list "$tmp/${name}.csv" -segment_list_type csv "${name}_%03d.$ext")
}

# packed_playlist <dir> <raw-name> <ext> <out-name> <base> <mode>: segments <out-name>_NNN.<ext>
# = ID3 PRIV (base + first sample of the segment in 90 kHz, 33-bit masked) + raw segment, EXTINF
# = the raw segment's samples / rate; $tmp/<raw-name>_concat.<ext> = the raw segments concatenated;
# mode
# 'all' (every segment tagged), 'some' (segment 2 untagged, segment 4 with an ID3 tag without
# PRIV), 'junk' (like all, but segment 1's value carries junk above bit 33 that readers mask).
packed_playlist() {
    local dir=$1 raw=$2 ext=$3 name=$4 base=$5 mode=$6
    local i=0 cum=0 rate f ts seg n starts="" counts
    rate=$(ffprobe -v error -show_entries stream=sample_rate -of csv=p=0 "$dir/${raw}_000.$ext")
    : > "$tmp/${raw}_concat.$ext"
    while IFS=, read -r f _ _; do
        starts="$starts $(wc -c < "$tmp/${raw}_concat.$ext")"
        cat "$dir/$f" >> "$tmp/${raw}_concat.$ext"
    done < "$tmp/${raw}.csv"
    read -r -a counts <<< "$(count_packets "$tmp/${raw}_concat.$ext" "$starts")"
    {
        printf '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n'
        while IFS=, read -r f _ _; do
            seg=$(printf '%s_%03d.%s' "$name" $i "$ext")
            ts=$(((base + cum * 90000 / rate) & 0x1FFFFFFFF))
            if [ "$mode" = some ] && [ $i = 2 ]; then
                : > "$dir/$seg"
            elif [ "$mode" = some ] && [ $i = 4 ]; then
                id3_title > "$dir/$seg"
            elif [ "$mode" = junk ] && [ $i = 1 ]; then
                id3_priv $((ts | 0x5A00000000000)) > "$dir/$seg"
            else
                id3_priv $ts > "$dir/$seg"
            fi
            cat "$dir/$f" >> "$dir/$seg"
            n=${counts[$i]}
            cum=$((cum + n))
            printf '#EXTINF:%.6f,\n%s\n' "$(awk -v n="$n" -v r="$rate" 'BEGIN { printf "%.6f", n / r }')" "$seg"
            i=$((i + 1))
        done < "$tmp/${raw}.csv"
        printf '#EXT-X-ENDLIST\n'
    } > "$dir/$name.m3u8"
}

has() { case " $(echo $want) " in *" $1 "*) return 0 ;; esac; return 1; }
fresh() { rm -rf "${out:?}/$1"; mkdir -p "$out/$1"; }

# --- Fixtures ---------------------------------------------------------------------------------
if has fmp4_multi; then
    d=$out/fmp4_multi; fresh fmp4_multi
    for b in 64 128 256; do
        hls_media "$d" a$b fmp4 $(src 44100 19.5) -- -c:a aac -b:a ${b}k
    done
    hls_media "$d" ts128 mpegts $(src 44100 19.5) -- -c:a aac -b:a 128k
    printf '%s\n' 'a64.m3u8 mp4a.40.2' 'a128.m3u8 mp4a.40.2' 'ts128.m3u8 mp4a.40.2' \
        'a256.m3u8 mp4a.40.2' | master "$d/master.m3u8" 7
    ref_begin "$d" "master: AAC-LC 44.1 kHz stereo fMP4 64k/128k/256k + MPEG-TS 128k, 19.5 s, 2 s segments at the same boundaries"
    ref_variant "$d" a64.m3u8 aac fmp4
    ref_variant "$d" a128.m3u8 aac fmp4
    ref_variant "$d" ts128.m3u8 aac mpegts
    ref_variant "$d" a256.m3u8 aac fmp4
    ref_end
fi

if has ts_aac; then
    d=$out/ts_aac; fresh ts_aac
    hls_media "$d" index mpegts $(src 44100 9.5) -- -c:a aac -b:a 96k
    ref_begin "$d" "media playlist: MPEG-TS, AAC-LC 96k 44.1 kHz stereo, 9.5 s"
    ref_variant "$d" index.m3u8 aac mpegts
    ref_end
fi

if has ts_mp3; then
    d=$out/ts_mp3; fresh ts_mp3
    hls_media "$d" index mpegts $(src 44100 9.5) -- -c:a libmp3lame -b:a 96k
    ref_begin "$d" "media playlist: MPEG-TS, MP3 96k 44.1 kHz stereo, 9.5 s"
    ref_variant "$d" index.m3u8 mp3 mpegts
    ref_end
fi

if has packed_adts; then
    d=$out/packed_adts; fresh packed_adts
    packed_raw "$d" raw adts aac -c:a aac -b:a 64k
    packed_playlist "$d" raw aac index 126000 all
    packed_playlist "$d" raw aac some_untagged 126000 some
    packed_playlist "$d" raw aac wrap $((0x200000000 - 3 * 90000)) junk
    ref_begin "$d" "packed ADTS AAC-LC 64k 44.1 kHz stereo, 9 s, ID3 PRIV transportStreamTimestamp per segment; reference: the segments without ID3 concatenated (index: base 126000; some_untagged: segment 2 without ID3, segment 4 with an ID3 TIT2 only; wrap: 33-bit wrap after 3 s and junk above bit 33 in segment 1)"
    for v in index some_untagged wrap; do
        ref_variant "$d" $v.m3u8 aac adts "$tmp/raw_concat.aac"
    done
    ref_end
    find "$d" -name 'raw_*' -delete
fi

if has packed_mp3; then
    d=$out/packed_mp3; fresh packed_mp3
    packed_raw "$d" raw mp3 mp3 -c:a libmp3lame -b:a 64k
    packed_playlist "$d" raw mp3 index 126000 all
    packed_playlist "$d" raw mp3 some_untagged 126000 some
    ref_begin "$d" "packed MP3 64k 44.1 kHz stereo, 9 s, ID3 PRIV transportStreamTimestamp per segment; reference: the segments without ID3 concatenated (some_untagged: segment 2 without ID3, segment 4 with an ID3 TIT2 only)"
    for v in index some_untagged; do
        ref_variant "$d" $v.m3u8 mp3 mp3 "$tmp/raw_concat.mp3"
    done
    ref_end
    find "$d" -name 'raw_*' -delete
fi

if has byterange_ts; then
    d=$out/byterange_ts; fresh byterange_ts
    (cd "$d" && ff $(src 44100 9.5) $bx -c:a aac -b:a 96k -f hls -hls_time 2 -hls_playlist_type vod \
        -hls_flags single_file -hls_segment_filename media.ts index.m3u8)
    ref_begin "$d" "media playlist: one MPEG-TS file (AAC-LC 96k 44.1 kHz), segments as EXT-X-BYTERANGE, 9.5 s"
    ref_variant "$d" index.m3u8 aac mpegts
    ref_end
fi

if has byterange_fmp4; then
    d=$out/byterange_fmp4; fresh byterange_fmp4
    (cd "$d" && ff $(src 44100 9.5) $bx -c:a aac -b:a 96k -f hls -hls_time 2 -hls_playlist_type vod \
        -hls_segment_type fmp4 -hls_flags single_file -hls_segment_filename media.mp4 index.m3u8)
    ref_begin "$d" "media playlist: one fMP4 file (AAC-LC 96k 44.1 kHz), EXT-X-MAP with BYTERANGE, segments as EXT-X-BYTERANGE, 9.5 s"
    ref_variant "$d" index.m3u8 aac fmp4
    ref_end
fi

# Keys: fixed bytes, never random.
key_a() { printf '\x6b\x69\x74\x68\x61\x72\x61\x2d\x6b\x65\x79\x2d\x41\x41\x41\x41'; }
key_b() { printf '\x0f\x1e\x2d\x3c\x4b\x5a\x69\x78\x87\x96\xa5\xb4\xc3\xd2\xe1\xf0'; }
iv_x=000102030405060708090a0b0c0d0e0f

if has aes_ts; then
    d=$out/aes_ts; fresh aes_ts
    key_a > "$d/key_a.bin"
    key_b > "$d/key_b.bin"
    printf 'key_a.bin\n%s\n%s\n' "$d/key_a.bin" $iv_x > "$tmp/info_iv"
    hls_media "$d" iv_explicit mpegts $(src 44100 9.5) -- -c:a aac -b:a 64k -hls_key_info_file "$tmp/info_iv"
    # Given no IV, ffmpeg 5.1's hls muxer encrypts every segment with IV 0 and writes IV=0x0...0:
    # iv_sequence (no IV attribute, IV = media sequence number) is encrypted here with openssl.
    hls_media "$tmp" clear95 mpegts $(src 44100 9.5) -- -c:a aac -b:a 64k
    {
        printf '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n'
        printf '#EXT-X-KEY:METHOD=AES-128,URI="key_a.bin"\n'
        while IFS=$'\t' read -r uri len off m k iv mu ml mo dur seq gap disc; do
            seg=$(printf 'iv_sequence_%03d.ts' "$seq")
            openssl enc -aes-128-cbc -K "$(hexof "$d/key_a.bin")" -iv "$(printf '%032x' "$seq")" \
                -in "$tmp/$uri" -out "$d/$seg"
            printf '#EXTINF:%s,\n%s\n' "$dur" "$seg"
        done < <(segments "$tmp/clear95.m3u8")
        printf '#EXT-X-ENDLIST\n'
    } > "$d/iv_sequence.m3u8"
    # mixed: segments 0-1 clear, 2-3 AES-128 key_a (sequence IV), 4-5 AES-128 key_b (explicit
    # IV), encrypted here with openssl from a clear encode; media sequence starts at 7.
    hls_media "$tmp" clear mpegts $(src 44100 11.5) -- -c:a aac -b:a 64k
    {
        printf '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-PLAYLIST-TYPE:VOD\n'
        printf '#EXT-X-KEY:METHOD=NONE\n'
        i=0
        while IFS=$'\t' read -r uri len off m k iv mu ml mo dur seq gap disc; do
            seg=$(printf 'mixed_%03d.ts' $i)
            case $i in
            0 | 1) cp "$tmp/$uri" "$d/$seg" ;;
            2 | 3)
                [ $i = 2 ] && printf '#EXT-X-KEY:METHOD=AES-128,URI="key_a.bin"\n'
                openssl enc -aes-128-cbc -K "$(hexof "$d/key_a.bin")" -iv "$(printf '%032x' $((7 + i)))" \
                    -in "$tmp/$uri" -out "$d/$seg" ;;
            *)
                [ $i = 4 ] && printf '#EXT-X-KEY:METHOD=AES-128,URI="key_b.bin",IV=0x%s\n' $iv_x
                openssl enc -aes-128-cbc -K "$(hexof "$d/key_b.bin")" -iv $iv_x \
                    -in "$tmp/$uri" -out "$d/$seg" ;;
            esac
            printf '#EXTINF:%s,\n%s\n' "$dur" "$seg"
            i=$((i + 1))
        done < <(segments "$tmp/clear.m3u8")
        printf '#EXT-X-ENDLIST\n'
    } > "$d/mixed.m3u8"
    ref_begin "$d" "AES-128 MPEG-TS (AAC-LC 64k 44.1 kHz, 9.5 s): iv_explicit (IV attribute; by the hls muxer), iv_sequence (IV = media sequence number; openssl); mixed (11.5 s, media sequence 7): 2 clear segments, 2 with key_a and sequence IV, 2 with key_b and an explicit IV, encrypted with openssl"
    ref_variant "$d" iv_explicit.m3u8 aac mpegts
    ref_variant "$d" iv_sequence.m3u8 aac mpegts
    ref_variant "$d" mixed.m3u8 aac mpegts
    ref_end
fi

if has aes_fmp4; then
    # ffmpeg 5.1's hls muxer refuses encrypted fMP4: encode clear, encrypt with openssl. The init
    # stays clear (its EXT-X-MAP precedes the EXT-X-KEY).
    d=$out/aes_fmp4; fresh aes_fmp4
    key_a > "$d/key_a.bin"
    key_b > "$d/key_b.bin"
    hls_media "$tmp" cf fmp4 $(src 44100 9.5) -- -c:a aac -b:a 64k
    cp "$tmp/cf_init.mp4" "$d/init.mp4"
    for v in iv_explicit iv_sequence rotate; do
        {
            printf '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI="init.mp4"\n'
            i=0
            while IFS=$'\t' read -r uri len off m k iv mu ml mo dur seq gap disc; do
                seg=$(printf '%s_%03d.m4s' $v $i)
                kf=key_a.bin
                iv=$iv_x
                case $v in
                iv_explicit) [ $i = 0 ] && printf '#EXT-X-KEY:METHOD=AES-128,URI="key_a.bin",IV=0x%s\n' $iv_x ;;
                iv_sequence)
                    [ $i = 0 ] && printf '#EXT-X-KEY:METHOD=AES-128,URI="key_a.bin"\n'
                    iv=$(printf '%032x' $i) ;;
                rotate) # 0 clear, 1-2 key_a (sequence IV), 3 clear, 4-5 key_b (explicit IV)
                    case $i in
                    0 | 3) [ $i = 3 ] && printf '#EXT-X-KEY:METHOD=NONE\n'; kf= ;;
                    1 | 2) [ $i = 1 ] && printf '#EXT-X-KEY:METHOD=AES-128,URI="key_a.bin"\n'
                           iv=$(printf '%032x' $i) ;;
                    *) [ $i = 4 ] && printf '#EXT-X-KEY:METHOD=AES-128,URI="key_b.bin",IV=0x%s\n' $iv_x
                       kf=key_b.bin ;;
                    esac ;;
                esac
                if [ -n "$kf" ]; then
                    openssl enc -aes-128-cbc -K "$(hexof "$d/$kf")" -iv "$iv" -in "$tmp/$uri" -out "$d/$seg"
                else
                    cp "$tmp/$uri" "$d/$seg"
                fi
                printf '#EXTINF:%s,\n%s\n' "$dur" "$seg"
                i=$((i + 1))
            done < <(segments "$tmp/cf.m3u8")
            printf '#EXT-X-ENDLIST\n'
        } > "$d/$v.m3u8"
    done
    ref_begin "$d" "AES-128 fMP4 (AAC-LC 64k 44.1 kHz, 9.5 s, clear init): iv_explicit, iv_sequence (IV = media sequence number), rotate (clear, key_a, clear again, key_b with explicit IV)"
    ref_variant "$d" iv_explicit.m3u8 aac fmp4
    ref_variant "$d" iv_sequence.m3u8 aac fmp4
    ref_variant "$d" rotate.m3u8 aac fmp4
    ref_end
fi

if has discontinuity; then
    # Three sources: TS AAC 44.1 kHz (6 s), TS MP3 48 kHz (4 s, other content), fMP4 AAC 48 kHz
    # (4 s, new EXT-X-MAP), concatenated with EXT-X-DISCONTINUITY.
    d=$out/discontinuity; fresh discontinuity
    hls_media "$d" part_a mpegts $(src 44100 5.5) -- -c:a aac -b:a 96k
    hls_media "$d" part_b mpegts $(src_b 48000 3.5) -- -c:a libmp3lame -b:a 96k
    hls_media "$d" part_c fmp4 $(src 48000 3.5) -- -c:a aac -b:a 96k
    {
        printf '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n'
        for p in part_a part_b part_c; do
            [ $p = part_a ] || printf '#EXT-X-DISCONTINUITY\n'
            [ $p = part_c ] && printf '#EXT-X-MAP:URI="part_c_init.mp4"\n'
            grep -v -e '^#EXTM3U' -e '^#EXT-X-VERSION' -e '^#EXT-X-TARGETDURATION' -e '^#EXT-X-MEDIA-SEQUENCE' \
                -e '^#EXT-X-PLAYLIST-TYPE' -e '^#EXT-X-MAP' -e '^#EXT-X-ENDLIST' "$d/$p.m3u8"
        done
        printf '#EXT-X-ENDLIST\n'
    } > "$d/index.m3u8"
    ref_begin "$d" "index: TS AAC 44.1 kHz 5.5 s | DISCONTINUITY | TS MP3 48 kHz 3.5 s (other content) | DISCONTINUITY | fMP4 AAC 48 kHz 3.5 s; the reference is the concatenated decodes of part_a/b/c.m3u8 (rates differ)"
    ref_variant "$d" index.m3u8 aac+mp3 mpegts+fmp4 part_a.m3u8 part_b.m3u8 part_c.m3u8
    ref_end
fi

if has rate48; then
    d=$out/rate48; fresh rate48
    hls_media "$d" index fmp4 $(src 48000 9.5) -- -c:a aac -b:a 128k
    ref_begin "$d" "media playlist: fMP4 AAC-LC 128k 48 kHz stereo, 9.5 s"
    ref_variant "$d" index.m3u8 aac fmp4
    ref_end
fi

if has gap; then
    # Segment 2 (4.04-6.04 s) is an EXT-X-GAP and its file is absent. before.m3u8/after.m3u8 list
    # the segments around it; their decodes are the references of the two sides.
    d=$out/gap; fresh gap
    hls_media "$d" full fmp4 $(src 44100 9.5) -- -c:a aac -b:a 64k
    samples_gap=$(cat "$d/full_init.mp4" "$d/full_002.m4s" > "$tmp/g.mp4" && probe_samples "$tmp/g.mp4")
    awk '/^full_002.m4s$/ { print "#EXT-X-GAP" } { print }' "$d/full.m3u8" > "$d/index.m3u8"
    # before: header + segments 0,1 (drop the last EXTINF that belonged to segment 2)
    awk '/^full_002.m4s$/ { exit } { print }' "$d/full.m3u8" | sed '$d' > "$d/before.m3u8"
    printf '#EXT-X-ENDLIST\n' >> "$d/before.m3u8"
    {
        awk '/^#EXTINF/ { exit } { print }' "$d/full.m3u8" | sed 's/^#EXT-X-MEDIA-SEQUENCE:0/#EXT-X-MEDIA-SEQUENCE:3/'
        awk 'f { print } /^full_002.m4s$/ { f = 1 }' "$d/full.m3u8"
    } > "$d/after.m3u8"
    rm "$d/full.m3u8" "$d/full_002.m4s"
    ref_begin "$d" "fMP4 AAC-LC 64k 44.1 kHz, 9.5 s; index.m3u8 marks segment 2 (full_002.m4s, absent, $samples_gap samples as ffprobe counts them) EXT-X-GAP; before.m3u8 (segments 0-1) and after.m3u8 (segments 3-) are the references of each side"
    ref_variant "$d" index.m3u8 aac fmp4 before.m3u8 after.m3u8
    ref_end
fi

if has short_tail; then
    d=$out/short_tail; fresh short_tail
    hls_media "$d" aac fmp4 $(src 44100 4) -- -c:a aac -b:a 96k
    hls_media "$d" aac_ts mpegts $(src 44100 4) -- -c:a aac -b:a 96k
    hls_media "$d" opus fmp4 $(src 48000 4) -- -c:a libopus -b:a 96k
    hls_media "$d" small fmp4 $(src 44100 2) -- -c:a aac -b:a 96k
    ref_begin "$d" "4 s VODs whose last segment is one frame: aac (fMP4, 0.023220 s), aac_ts (MPEG-TS, 0.023222 s), opus (fMP4 48 kHz, 0.020000 s); small: 2 s fMP4 AAC (2.020136 + 0.023220 s) with its reference PCM in small.f32"
    ref_variant "$d" aac.m3u8 aac fmp4
    ref_variant "$d" aac_ts.m3u8 aac mpegts
    ref_variant "$d" opus.m3u8 opus fmp4
    PCM_FILE=1 ref_variant "$d" small.m3u8 aac fmp4
    ref_end
fi

if has flac_fmp4; then
    d=$out/flac_fmp4; fresh flac_fmp4
    hls_media "$d" index fmp4 $(src 44100 5.5) -- -c:a flac -strict -2
    ref_begin "$d" "media playlist: fMP4 FLAC 44.1 kHz s16 stereo, 5.5 s (lossless: the reference is bit-exact)"
    ref_variant "$d" index.m3u8 flac fmp4
    ref_end
fi

if has opus_fmp4; then
    d=$out/opus_fmp4; fresh opus_fmp4
    hls_media "$d" index fmp4 $(src 48000 9.5) -- -c:a libopus -b:a 96k
    ref_begin "$d" "media playlist: fMP4 Opus 96k 48 kHz stereo, 9.5 s"
    ref_variant "$d" index.m3u8 opus fmp4
    ref_end
fi

if has ac3_ts; then
    d=$out/ac3_ts; fresh ac3_ts
    hls_media "$d" ac3 mpegts $(src 48000 5.5) -- -c:a ac3 -b:a 128k
    hls_media "$d" eac3 mpegts $(src 48000 5.5) -- -c:a eac3 -b:a 96k
    ref_begin "$d" "media playlists: MPEG-TS AC-3 128k and E-AC-3 96k, 48 kHz stereo, 5.5 s"
    ref_variant "$d" ac3.m3u8 ac3 mpegts
    ref_variant "$d" eac3.m3u8 eac3 mpegts
    ref_end
fi

if has demo; then
    # The hls_playback demo: 59.5 s of chords, four variants, BANDWIDTH ascending.
    d=$out/demo; fresh demo
    hls_media "$d" aac48k_44 fmp4 $(chords 44100 59.5) -- -c:a aac -b:a 48k
    hls_media "$d" aac64k_44_ts mpegts $(chords 44100 59.5) -- -c:a aac -b:a 64k
    hls_media "$d" aac96k_48 fmp4 $(chords 48000 59.5) -- -c:a aac -b:a 96k
    hls_media "$d" aac128k_48 fmp4 $(chords 48000 59.5) -- -c:a aac -b:a 128k
    printf '%s\n' 'aac48k_44.m3u8 mp4a.40.2' 'aac64k_44_ts.m3u8 mp4a.40.2' \
        'aac96k_48.m3u8 mp4a.40.2' 'aac128k_48.m3u8 mp4a.40.2' | master "$d/master.m3u8" 7
    ref_begin "$d" "hls_playback demo: 59.5 s chord progression; fMP4 AAC 48k 44.1 kHz, MPEG-TS AAC 64k 44.1 kHz, fMP4 AAC 96k 48 kHz, fMP4 AAC 128k 48 kHz"
    ref_variant "$d" aac48k_44.m3u8 aac fmp4
    ref_variant "$d" aac64k_44_ts.m3u8 aac mpegts
    ref_variant "$d" aac96k_48.m3u8 aac fmp4
    ref_variant "$d" aac128k_48.m3u8 aac fmp4
    ref_end
fi

if has abr; then
    # Adaptive bitrate: 99.5 s of the demo's chords (their 10 s cycle rendered once and looped:
    # 441000 samples, so the loop keeps the timeline), AAC-LC 44.1 kHz stereo at 64k/128k/256k,
    # each encoded once to ADTS and remuxed (stream copy) into fMP4 (aNN) and MPEG-TS (tNN): the
    # two containers of a bit rate carry the same AAC frames (the same PCM) and every variant is
    # cut at the same 2 s boundaries (87 or 86 frames). The three encodes run in parallel.
    d=$out/abr; fresh abr
    cached chords 44100 10 > /dev/null
    pids=()
    for b in 64 128 256; do
        ff -stream_loop 9 -i "$tmp/chords_44100_10.wav" -t 99.5 $bx -c:a aac -b:a ${b}k \
            -f adts "$tmp/abr$b.aac" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    for b in 64 128 256; do
        hls_media "$d" a$b fmp4 -i "$tmp/abr$b.aac" -- -c:a copy -bsf:a aac_adtstoasc
        hls_media "$d" t$b mpegts -i "$tmp/abr$b.aac" -- -c:a copy
    done
    printf '%s\n' 'a64.m3u8 mp4a.40.2' 'a128.m3u8 mp4a.40.2' 'a256.m3u8 mp4a.40.2' |
        master "$d/master_fmp4.m3u8" 7
    printf '%s\n' 't64.m3u8 mp4a.40.2' 't128.m3u8 mp4a.40.2' 't256.m3u8 mp4a.40.2' |
        master "$d/master_ts.m3u8" 7
    printf '%s\n' 'a64.m3u8 mp4a.40.2' 't128.m3u8 mp4a.40.2' 'a256.m3u8 mp4a.40.2' |
        master "$d/master_mixed.m3u8" 7
    ref_begin "$d" "adaptive bitrate: 99.5 s of the demo chords (10 s cycle looped), AAC-LC 44.1 kHz stereo 64k/128k/256k, each encode remuxed to fMP4 (a64/a128/a256) and MPEG-TS (t64/t128/t256: the same frames), 2 s segments at the same boundaries; master_fmp4, master_ts, master_mixed (a64, t128, a256)"
    for b in 64 128 256; do
        ref_variant "$d" a$b.m3u8 aac fmp4
        ref_variant "$d" t$b.m3u8 aac mpegts
    done
    ref_end
fi

if has renditions; then
    # Alternate audio: 20 s in two languages (en: the main tones, de: the falling sweep; the
    # content tells them apart), AAC-LC 44.1 kHz stereo at 64k and 128k, fMP4, 2 s segments, plus
    # a mono English commentary at 64k. Each tier has its own AUDIO group (Apple's authoring
    # rule: a group per bit rate); the variants' own URIs name video playlists that do not exist
    # (an audio player never requests them). master.m3u8: en DEFAULT; master_shared.m3u8: two
    # video tiers sharing the 128k group (one audio choice).
    d=$out/renditions; fresh renditions
    for b in 64 128; do
        hls_media "$d" en$b fmp4 $(src 44100 20) -- -ac 2 -c:a aac -b:a ${b}k
        hls_media "$d" de$b fmp4 $(src_b 44100 20) -- -ac 2 -c:a aac -b:a ${b}k
    done
    hls_media "$d" enmono64 fmp4 $(src 44100 20) -- -ac 1 -c:a aac -b:a 64k
    {
        printf '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n'
        for b in 64 128; do
            printf '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac-%s",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="en%s.m3u8"\n' $b $b
            printf '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac-%s",NAME="Deutsch",LANGUAGE="de",AUTOSELECT=YES,CHANNELS="2",URI="de%s.m3u8"\n' $b $b
        done
        printf '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac-64",NAME="English (mono)",LANGUAGE="en",ASSOC-LANGUAGE="en-GB",CHANNELS="1",URI="enmono64.m3u8"\n'
        printf '#EXT-X-STREAM-INF:BANDWIDTH=400000,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aac-64"\nvideo/v400.m3u8\n'
        printf '#EXT-X-STREAM-INF:BANDWIDTH=1200000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aac-128"\nvideo/v1200.m3u8\n'
    } > "$d/master.m3u8"
    {
        printf '#EXTM3U\n#EXT-X-VERSION:7\n'
        printf '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="en128.m3u8"\n'
        printf '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Deutsch",LANGUAGE="de",AUTOSELECT=YES,URI="de128.m3u8"\n'
        printf '#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aac"\nvideo/v800.m3u8\n'
        printf '#EXT-X-STREAM-INF:BANDWIDTH=2400000,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aac"\nvideo/v2400.m3u8\n'
    } > "$d/master_shared.m3u8"
    ref_begin "$d" "alternate audio renditions: 20 s, en (main tones) and de (falling sweep), AAC-LC 44.1 kHz stereo 64k/128k fMP4, and a mono English 64k; master.m3u8 (a group per tier, video URIs that do not exist), master_shared.m3u8 (two video tiers, one group)"
    for n in en64 de64 en128 de128 enmono64; do ref_variant "$d" $n.m3u8 aac fmp4; done
    ref_end
fi

touch "$out/stamp"
