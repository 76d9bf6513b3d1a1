# cmake -P: runs pcm_digest built over the bundled FFmpeg and over the system FFmpeg on the same
# fixtures and requires identical output (frame counts, formats and PCM hashes), and no failure.
file(GLOB fixtures ${FIXTURES}/*.mp3 ${FIXTURES}/*.aac ${FIXTURES}/*.m4a ${FIXTURES}/*.mp4
     ${FIXTURES}/*.ts ${FIXTURES}/*.flac ${FIXTURES}/*.ogg ${FIXTURES}/*.opus ${FIXTURES}/*.wav
     ${FIXTURES}/*.ac3)
list(SORT fixtures)
list(LENGTH fixtures n)
if(n LESS 10)
  message(FATAL_ERROR "expected the generated fixtures in ${FIXTURES}, found ${n}")
endif()
foreach(mode bundled system)
  execute_process(COMMAND ${${mode}} ${fixtures} RESULT_VARIABLE rc OUTPUT_VARIABLE out_${mode}
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${mode}: pcm_digest failed (${rc}):\n${err}")
  endif()
endforeach()
if(NOT out_bundled STREQUAL out_system)
  message(FATAL_ERROR "PCM differs between FFmpeg modes:\nbundled:\n${out_bundled}\nsystem:\n${out_system}")
endif()
message(STATUS "identical PCM for ${n} fixtures in both FFmpeg modes:\n${out_bundled}")
