# ctest driver for the consumer tests (cmake -P):
#   MODE=find_package: install the build tree into a prefix, move the prefix elsewhere (it must be
#     relocatable), then build and run tests/find-package-test against it: with every component,
#     with core alone and bufpool alone (nothing else loaded), with file and with kithara (each
#     one's whole closure loaded); also check that an unknown component fails with a clear message.
#   MODE=add_subdirectory: build and run tests/add-subdirectory-test over the source tree.
cmake_minimum_required(VERSION 3.25)
set(work ${BINARY_DIR}/consumer-${MODE})
file(REMOVE_RECURSE ${work})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_out "${out}" PARENT_SCOPE)
endfunction()
# The consumer is built with the same compiler and flags (sanitizers) as the tree under test.
# add_subdirectory compiles the whole family again: without optimisation (no build type), which
# halves that test's time; what it checks is the CMake wiring, not the code generation.
if(MODE STREQUAL "find_package")
  set(build_type Release)
else()
  set(build_type "")
endif()
set(gen -G Ninja -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_C_COMPILER=${C_COMPILER}
    "-DCMAKE_BUILD_TYPE=${build_type}" "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_C_FLAGS=${C_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
# Lists cross execute_process as comma-separated strings.
string(REPLACE ";" "," components "${COMPONENTS}")
# consumer(<name> <components> <expected> <absent>): configure, build and run one consumer.
function(consumer name components expect absent)
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/find-package-test -B ${work}/${name} ${gen}
      -DCMAKE_PREFIX_PATH=${work}/prefix "-DKITHARA_COMPONENTS=${components}"
      "-DKITHARA_EXPECT_TARGETS=${expect}" "-DKITHARA_ABSENT_TARGETS=${absent}")
  run(${CMAKE_COMMAND} --build ${work}/${name} -j2)
  run(${work}/${name}/consumer)
  message(STATUS "${name}: ${last_out}")
  set(last_out "${last_out}" PARENT_SCOPE)
endfunction()
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${work}/staging)
  file(RENAME ${work}/staging ${work}/prefix)
  consumer(core-only core core "bufpool,storage,net,assets,worker,stream,decode,file,hls,kithara")
  consumer(bufpool-only bufpool bufpool
           "core,storage,net,assets,worker,stream,decode,file,hls,kithara")
  consumer(file-closure file "core,bufpool,storage,net,assets,worker,stream,file"
           "decode,hls,kithara")
  # The umbrella loads the whole family.
  consumer(kithara-closure kithara
           "core,bufpool,storage,net,assets,worker,stream,decode,file,hls,kithara" "")
  consumer(all "${components}" "${components}" "")
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/find-package-test
                  -B ${work}/build-unknown ${gen} -DCMAKE_PREFIX_PATH=${work}/prefix
                  "-DKITHARA_COMPONENTS=core,nonexistent"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT "${out}${err}" MATCHES "no component 'nonexistent'")
    message(FATAL_ERROR "an unknown component must fail clearly; got (${rc}):\n${out}\n${err}")
  endif()
else()
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/add-subdirectory-test -B ${work}/build ${gen}
      -DKITHARA_SOURCE_DIR=${SOURCE_DIR})
  run(${CMAKE_COMMAND} --build ${work}/build --target consumer_core consumer -j2)
  run(${work}/build/consumer_core)
  message(STATUS "core only: ${last_out}")
  run(${work}/build/consumer)
endif()
message(STATUS "${last_out}")
message(STATUS "every ${MODE} consumer passed")
