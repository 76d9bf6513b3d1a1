# Builds the hls_segment_fuzz seed corpus from the HLS fixtures: a few segments (each at most
# 24 KiB, an fMP4 one behind its init section), each behind the fuzzer's 4-byte header (mode,
# 16-bit cut, padding byte; see hls_segment_fuzz.cpp) in several modes: plain, AES-128 with
# PKCS#7 padding, in two parts, packed audio, truncated.
#   cmake -DIN=<hls_fixtures> -DOUT=<dir> -P make_segment_corpus.cmake
file(MAKE_DIRECTORY ${OUT})
# name | files (';'-separated in order) | modes (hex)
set(_seeds
  "ts_aac|ts_aac/index_000.ts|00 44 54 64"
  "fmp4|fmp4_multi/a64_init.mp4,fmp4_multi/a64_001.m4s|01 45 55"
  "adts|packed_adts/index_001.aac|0a 4e 2a"
  "mp3|packed_mp3/index_001.mp3|0b 4f 2b"
  "ac3|ac3_ts/ac3_000.ts|00 44")
foreach(_seed IN LISTS _seeds)
  string(REPLACE "|" ";" _f "${_seed}")
  list(GET _f 0 _name)
  list(GET _f 1 _files)
  list(GET _f 2 _modes)
  string(REPLACE "," ";" _files "${_files}")
  set(_hex "")
  foreach(_file IN LISTS _files)
    file(READ ${IN}/${_file} _h HEX)
    string(APPEND _hex "${_h}")
  endforeach()
  string(SUBSTRING "${_hex}" 0 49152 _hex)  # 24 KiB
  string(REPLACE " " ";" _modes "${_modes}")
  foreach(_m IN LISTS _modes)
    # cut 0x2000 (8 KiB: the first part, or where truncation falls), padding byte 0x07
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" _esc "${_m}200007${_hex}")
    # file(WRITE) cannot write raw bytes portably; printf does.
    execute_process(COMMAND printf "${_esc}" OUTPUT_FILE ${OUT}/${_name}.${_m}.seed
                    RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "printf failed for ${_name}.${_m}.seed")
    endif()
  endforeach()
endforeach()
file(TOUCH ${OUT}/.stamp)
