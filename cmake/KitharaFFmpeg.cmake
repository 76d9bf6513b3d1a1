# Which FFmpeg kithara::decode links: KITHARA_FFMPEG=bundled|system.
#
# bundled (default for Kithara's own builds): an audio-only, static, LGPL FFmpeg built from
#   Debian's source package, which scripts/install-deps.sh fetches with `apt-get source ffmpeg`
#   into .deps/ffmpeg/source (never fetched by the CMake build). Built once per content key into
#   a cache the build trees of one checkout share (see below). No programs, protocols, network,
#   devices, filters or video; PIC; symbols hidden, so a shared libkithara_decode does not
#   re-export them. Provides the same FFmpeg::<lib> imported targets as system mode, so no code
#   outside cmake/ knows the difference.
# system: pkg-config's libavformat/libavcodec/libavutil/libswresample (cmake/FindFFmpeg.cmake).

include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/KitharaBundled.cmake)

kithara_bundled_option(ffmpeg
  "FFmpeg for kithara::decode: bundled (audio-only static build of Debian's source) or system")
if(NOT KITHARA_FFMPEG STREQUAL "bundled")
  return()
endif()

if(NOT EXISTS ${KITHARA_FFMPEG_SOURCE_DIR}/configure)
  message(FATAL_ERROR
    "KITHARA_FFMPEG=bundled needs FFmpeg's source in ${KITHARA_FFMPEG_SOURCE_DIR}: run "
    "scripts/install-deps.sh (it fetches Debian's source with `apt-get source ffmpeg`), point "
    "KITHARA_FFMPEG_SOURCE_DIR at a source tree, or configure with -DKITHARA_FFMPEG=system.")
endif()

find_program(KITHARA_MAKE_PROGRAM NAMES make gmake REQUIRED)

# The C compiler FFmpeg is built with. The sanitizer presets build FFmpeg with gcc like the
# default preset (FFmpeg gets none of our flags anyway), so every tree shares one FFmpeg build.
set(KITHARA_FFMPEG_CC ${CMAKE_C_COMPILER} CACHE STRING
    "C compiler the bundled FFmpeg is built with (name or path)")
find_program(_ff_cc NAMES ${KITHARA_FFMPEG_CC} NO_CACHE)
if(NOT _ff_cc)
  message(FATAL_ERROR "KITHARA_FFMPEG_CC: no C compiler '${KITHARA_FFMPEG_CC}' found")
endif()

# What a player needs, and nothing else.
set(_ff_demuxers mp3 aac mov mpegts flac ogg wav matroska caf w64 aiff ac3 eac3 loas)
set(_ff_decoders mp3 mp3float mp2 mp2float aac aac_fixed aac_latm flac opus vorbis alac
                 ac3 ac3_fixed eac3 "pcm_*")
set(_ff_parsers mpegaudio aac aac_latm flac opus vorbis ac3)
list(JOIN _ff_demuxers "," _ff_demuxers)
list(JOIN _ff_decoders "," _ff_decoders)
list(JOIN _ff_parsers "," _ff_parsers)
# FFmpeg is built without our sanitizer flags: it is not our code, and its hand-written assembly
# does not take them. Audio decoders run single-threaded here, so TSan sees no hidden races.
set(_ff_configure_args
  --cc=${_ff_cc} --enable-static --disable-shared --enable-pic
  --disable-programs --disable-doc --disable-htmlpages --disable-manpages --disable-podpages
  --disable-txtpages --disable-network --disable-autodetect --disable-everything
  --disable-avdevice --disable-avfilter --disable-swscale --disable-postproc
  --enable-avformat --enable-avcodec --enable-avutil --enable-swresample
  --enable-demuxer=${_ff_demuxers} --enable-decoder=${_ff_decoders}
  --enable-parser=${_ff_parsers} --enable-bsf=aac_adtstoasc
  --extra-cflags=-fvisibility=hidden)

# Built once per content key into a cache the build trees of one checkout share
# (cmake/KitharaBundled.cmake).
set(_ff_libs avformat avcodec swresample avutil)  # link order
kithara_bundled_build(NAME ffmpeg SOURCE ${KITHARA_FFMPEG_SOURCE_DIR} CC ${_ff_cc}
  LIBS ${_ff_libs} KIND configure TOOL ${KITHARA_MAKE_PROGRAM} ARGS ${_ff_configure_args}
  OUT_PREFIX _ff_prefix OUT_ARCHIVES _ff_byproducts)
set(KITHARA_BUNDLED_FFMPEG_PREFIX ${_ff_prefix} CACHE INTERNAL
    "Where the bundled FFmpeg of this build tree is installed (a shared, content-keyed cache)")

find_package(Threads REQUIRED)
set(_ff_deps_avformat FFmpeg::avcodec FFmpeg::avutil)
set(_ff_deps_avcodec FFmpeg::swresample FFmpeg::avutil)
set(_ff_deps_swresample FFmpeg::avutil)
set(_ff_deps_avutil m Threads::Threads)
foreach(_lib IN LISTS _ff_libs)
  add_library(FFmpeg::${_lib} STATIC IMPORTED GLOBAL)
  set_target_properties(FFmpeg::${_lib} PROPERTIES
    IMPORTED_LOCATION ${_ff_prefix}/lib/lib${_lib}.a
    INTERFACE_INCLUDE_DIRECTORIES ${_ff_prefix}/include
    INTERFACE_LINK_LIBRARIES "${_ff_deps_${_lib}}")
  add_dependencies(FFmpeg::${_lib} kithara_ffmpeg_build)
endforeach()

# In the installed package a static kithara::decode needs these archives; a shared one has them
# linked in (hidden) and needs nothing.
foreach(_lib IN LISTS _ff_libs)
  set(_kithara_pkg_FFmpeg::${_lib} "KitharaBundledFFmpeg")
endforeach()
set(KITHARA_BUNDLED_FFMPEG_ARCHIVES ${_ff_byproducts})
