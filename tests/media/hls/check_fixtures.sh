#!/bin/sh
# Checks the HLS fixtures made by generate_hls.sh against their reference.json manifests:
#   tests/media/hls/check_fixtures.sh <fixtures-dir>
# Per variant: the playlist exists and lists exactly the manifest's segments; each segment file
# (or byte range) exists with the recorded size, a GAP segment's file is absent; EXTINF matches the
# segment's samples; the segment samples add up to the decoded PCM length within the codec's
# priming and padding; the decode parts add up to the PCM length; a written .f32 has that length
# and the recorded SHA-256. Each master lists only variants the manifest describes.
set -eu
dir=${1:?usage: check_fixtures.sh fixtures-dir}
fail() {
    echo "check_fixtures: $*" >&2
    exit 1
}
[ -f "$dir/stamp" ] || fail "$dir/stamp is missing: build the kithara_hls_fixtures target first"
fixtures="fmp4_multi ts_aac ts_mp3 packed_adts packed_mp3 byterange_ts byterange_fmp4 aes_ts aes_fmp4
discontinuity rate48 gap short_tail flac_fmp4 opus_fmp4 ac3_ts demo abr"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
variants=0
segs=0
for f in $fixtures; do
    d=$dir/$f
    ref=$d/reference.json
    [ -f "$ref" ] || fail "$f: reference.json is missing"
    grep -q "^  \"fixture\": \"$f\",\$" "$ref" || fail "$f: reference.json names another fixture"
    # One line per variant (V) and per segment (S), from the manifest's fixed layout.
    awk -F'"' '
        /^      "playlist": / { pl = $4 }
        /^      "pcm_samples": / { split($0, a, ": "); ps = a[2] + 0 }
        /^      "pcm_sha256": / { sha = $4 }
        /^      "pcm_file": / { pf = ($4 == "") ? "-" : $4 }
        /^      "decode_parts": / {
            line = $0; np = 0; sum = 0; rate = 0
            while (match(line, /"samples": [0-9]+/)) { sum += substr(line, RSTART + 11, RLENGTH - 11) + 0; np++
                                                       line = substr(line, RSTART + RLENGTH) }
            line = $0; if (match(line, /"sample_rate": [0-9]+/)) rate = substr(line, RSTART + 15, RLENGTH - 15)
            print "V", pl, ps, sha, pf, sum, np, rate }
        /^        \{"uri": / {
            br = "-"; gap = 0; ex = ""; by = "-"; sa = "-"
            if (match($0, /"byterange": "[0-9]+@[0-9]+"/)) br = substr($0, RSTART + 14, RLENGTH - 15)
            if ($0 ~ /"gap": true/) gap = 1
            if (match($0, /"extinf": [0-9.]+/)) ex = substr($0, RSTART + 10, RLENGTH - 10)
            if (match($0, /"bytes": [0-9]+/)) by = substr($0, RSTART + 9, RLENGTH - 9)
            if (match($0, /"samples": [0-9]+/)) sa = substr($0, RSTART + 11, RLENGTH - 11)
            print "S", $4, br, gap, ex, by, sa }
        /^      \]/ { print "E" }' "$ref" > "$tmp/lines"
    grep -q '^V' "$tmp/lines" || fail "$f: reference.json lists no variant"
    while read -r kind a b c dd e g h; do
        case $kind in
        V)
            pl=$a pcm=$b sha=$c pf=$dd parts=$e nparts=$g rate=$h
            [ -f "$d/$pl" ] || fail "$f/$pl is missing"
            [ "$parts" = "$pcm" ] || fail "$f/$pl: decode parts add up to $parts samples, not $pcm"
            [ "$pcm" -gt 0 ] || fail "$f/$pl: no PCM"
            if [ "$pf" != - ]; then
                [ -f "$d/$pf" ] || fail "$f/$pf is missing"
                [ "$(wc -c < "$d/$pf")" -eq $((pcm * 8)) ] || fail "$f/$pf: not $pcm stereo float samples"
                [ "$(sha256sum < "$d/$pf" | cut -d' ' -f1)" = "$sha" ] || fail "$f/$pf: SHA-256 differs"
            fi
            grep -v '^#' "$d/$pl" | grep -v '^$' > "$tmp/uris"
            : > "$tmp/segs"
            total=0
            off_extinf=
            variants=$((variants + 1))
            ;;
        S)
            uri=$a br=$b gap=$c ex=$dd bytes=$e samples=$g
            echo "$uri" >> "$tmp/segs"
            segs=$((segs + 1))
            if [ "$gap" = 1 ]; then
                [ ! -e "$d/$uri" ] || fail "$f/$pl: the GAP segment $uri exists"
                continue
            fi
            [ -f "$d/$uri" ] || fail "$f/$pl: segment $uri is missing"
            size=$(wc -c < "$d/$uri")
            if [ "$br" = - ]; then
                [ "$size" -eq "$bytes" ] || fail "$f/$uri: $size bytes, the manifest says $bytes"
            else
                len=${br%@*} off=${br#*@}
                [ "$len" -eq "$bytes" ] || fail "$f/$pl: byte range $br is not $bytes bytes"
                [ $((off + len)) -le "$size" ] || fail "$f/$pl: byte range $br is past the end of $uri"
            fi
            [ "$samples" -gt 0 ] || fail "$f/$pl: segment $uri has no samples"
            total=$((total + samples))
            [ -z "$off_extinf" ] || fail "$off_extinf"
            if [ "$nparts" = 1 ]; then
                # One sample rate: EXTINF within 1 ms of samples / rate, except in the last
                # segment, whose EXTINF may leave out the encoder's padding (up to 0.1 s).
                awk -v e="$ex" -v s="$samples" -v r="$rate" 'BEGIN { d = e - s / r; exit !(d < 0.001 && d > -0.001) }' ||
                    off_extinf="$f/$pl: $uri has EXTINF $ex but $samples samples at $rate Hz"
                awk -v e="$ex" -v s="$samples" -v r="$rate" 'BEGIN { d = e - s / r; exit !(d < 0.1 && d > -0.1) }' ||
                    fail "$f/$pl: $uri has EXTINF $ex but $samples samples at $rate Hz"
            fi
            ;;
        E)
            cmp -s "$tmp/uris" "$tmp/segs" || fail "$f/$pl: the playlist's segments differ from the manifest's"
            # The decode may leave out what the container marks as priming or padding (fMP4
            # Opus pre-skip, FLAC's short last block), at most one frame, and never adds samples.
            [ "$nparts" = 1 ] || continue
            diff=$((total - pcm))
            [ $diff -ge 0 ] && [ $diff -le 4608 ] ||
                fail "$f/$pl: segments hold $total samples, the decode $pcm"
            ;;
        esac
    done < "$tmp/lines"
    # Masters list only variants the manifest describes.
    for m in "$d"/*master*.m3u8; do
        [ -f "$m" ] || continue
        m=${m##*/}
        for v in $(grep -v '^#' "$d/$m"); do
            grep -q "^      \"playlist\": \"$v\",\$" "$ref" || fail "$f/$m lists $v, which reference.json lacks"
        done
    done
done
echo "check_fixtures: $variants variants, $segs segments consistent"
