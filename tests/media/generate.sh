#!/bin/sh
# Generates Kithara's decode test fixtures deterministically with the ffmpeg CLI.
#   tests/media/generate.sh <out-dir>
# Tones: 1 kHz sine, 2.0 s, stereo, 44.1 kHz (48 kHz for Opus), amplitude 0.5 (RMS 0.354).
# Chirps: a 200 Hz..1800 Hz linear sweep, 3.0 s, stereo (non-periodic content for seek tests).
# HE-AAC cannot be encoded: Debian's ffmpeg ships only the native AAC-LC encoder (no libfdk_aac).
set -eu
out=${1:?usage: generate.sh out-dir}
mkdir -p "$out"
cd "$out"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
bx="-fflags +bitexact -flags:a +bitexact -map_metadata -1"
tone() { # rate seconds freq
    echo "-f lavfi -i aevalsrc=exprs=0.5*sin(2*PI*$3*t)|0.5*sin(2*PI*$3*t):s=$1:d=$2"
}
chirp() { # rate
    echo "-f lavfi -i aevalsrc=exprs=0.5*sin(2*PI*(200*t+400/3*t*t))|0.5*sin(2*PI*(200*t+400/3*t*t)):s=$1:d=3"
}
T44=$(tone 44100 2 1000)
T48=$(tone 48000 2 1000)

ff $T44 $bx -c:a pcm_s16le tone.wav
ff $T44 $bx -c:a flac tone.flac
ff $T44 $bx -c:a libmp3lame -b:a 128k tone.mp3
ff $T44 $bx -c:a aac -b:a 128k -f adts tone.aac
ff $T44 $bx -c:a aac -b:a 128k tone.m4a
ff $T44 $bx -c:a aac -b:a 128k -movflags +faststart tone_faststart.m4a
ff $T44 $bx -c:a aac -b:a 128k -movflags frag_keyframe+empty_moov+default_base_moof -frag_duration 500000 tone_frag.mp4
ff $T44 $bx -c:a aac -b:a 128k -f mpegts tone_aac.ts
ff $T44 $bx -c:a libmp3lame -b:a 128k -f mpegts tone_mp3.ts
ff $T44 $bx -c:a libvorbis -q:a 4 tone.ogg
ff $T48 $bx -c:a libopus -b:a 96k tone.opus
ff $T44 $bx -c:a alac tone_alac.m4a
ff $T44 $bx -c:a ac3 -b:a 192k tone.ac3

C44=$(chirp 44100)
C48=$(chirp 48000)
ff $C44 $bx -c:a pcm_s16le chirp.wav
ff $C44 $bx -c:a flac chirp.flac
ff $C44 $bx -c:a libmp3lame -b:a 192k chirp.mp3
ff $C44 $bx -c:a aac -b:a 160k chirp.m4a
ff $C44 $bx -c:a libvorbis -q:a 6 chirp.ogg
ff $C48 $bx -c:a libopus -b:a 128k chirp.opus
# FLAC whose stereo mode changes between frames (independent, then left/side).
ff -f lavfi -i "aevalsrc=exprs=if(lt(t\,1)\,0.6*sin(2*PI*440*t)\,0.5*sin(2*PI*300*t))|if(lt(t\,1)\,0.5*sin(2*PI*660*t+1)+0.2*sin(2*PI*3000*t)\,0.5*sin(2*PI*300*t)+0.01*sin(2*PI*5000*t)):s=44100:d=2" $bx -c:a flac modes.flac

# Format-change material: ADTS at 44.1 kHz stereo 440 Hz, then ADTS at 48 kHz mono 880 Hz.
ff -f lavfi -i "aevalsrc=exprs=0.5*sin(2*PI*440*t)|0.5*sin(2*PI*440*t):s=44100:d=1" $bx -c:a aac -b:a 128k -f adts part44.aac
ff -f lavfi -i "aevalsrc=exprs=0.5*sin(2*PI*880*t):s=48000:d=1" $bx -c:a aac -b:a 96k -f adts part48.aac
ff -f lavfi -i "aevalsrc=exprs=0.5*sin(2*PI*880*t):s=48000:d=1" $bx -c:a flac part48.flac
ff -f lavfi -i "aevalsrc=exprs=0.5*sin(2*PI*880*t):s=48000:d=1" $bx -c:a libmp3lame -b:a 128k -f mpegts part48_mp3.ts

# Reference decodes (what `ffmpeg -f f32le` gives) for a few files: float32 interleaved.
ff -i tone.flac -f f32le ref_tone_flac.f32
touch stamp
