# Builds the decode fuzzer's seed corpus: each fixture's first 24 KiB (and a whole small one),
# prefixed with a mode byte (see decode_fuzz.cpp).  cmake -DIN=<fixtures> -DOUT=<dir> -P this
file(MAKE_DIRECTORY ${OUT})
file(GLOB _files ${IN}/*.wav ${IN}/*.flac ${IN}/*.mp3 ${IN}/*.aac ${IN}/*.m4a ${IN}/*.mp4
     ${IN}/*.ts ${IN}/*.ogg ${IN}/*.opus ${IN}/*.ac3)
set(_mode 0)
foreach(_f IN LISTS _files)
  get_filename_component(_name ${_f} NAME)
  file(READ ${_f} _hex LIMIT 24576 HEX)
  math(EXPR _mode "(${_mode} + 37) % 256")
  # Each fixture twice: probed (mode bit 4 clear) and hinted by its magic bytes (bit 4 set).
  foreach(_variant probed hinted)
    if(_variant STREQUAL "hinted")
      math(EXPR _m "${_mode} | 16" OUTPUT_FORMAT HEXADECIMAL)
    else()
      math(EXPR _m "${_mode} & 239" OUTPUT_FORMAT HEXADECIMAL)
    endif()
    string(REPLACE "0x" "" _m ${_m})
    string(LENGTH "${_m}" _l)
    if(_l EQUAL 1)
      set(_m "0${_m}")
    endif()
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" _esc "${_m}${_hex}")
    # file(WRITE) cannot write raw bytes portably; use a configure-time helper through printf.
    execute_process(COMMAND printf "${_esc}" OUTPUT_FILE ${OUT}/${_name}.${_variant}.seed)
  endforeach()
endforeach()
# Inputs that once crashed the fuzzer (regressions) go in as they are.
file(GLOB _regressions ${CMAKE_CURRENT_LIST_DIR}/fuzz_regressions/*.bin)
foreach(_r IN LISTS _regressions)
  file(COPY ${_r} DESTINATION ${OUT})
endforeach()
file(TOUCH ${OUT}/.stamp)
