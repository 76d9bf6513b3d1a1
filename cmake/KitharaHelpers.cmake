# kithara_add_library / kithara_add_test / kithara_add_benchmark and the deferred layering check.
#
#   kithara_add_library(NAME net
#                       DEPS core                          # lower Kithara layers (PUBLIC)
#                       PUBLIC_DEPS Asio::asio              # externals seen by public headers
#                       PRIVATE_DEPS CURL::libcurl
#                       SOURCES src/client.cpp ...)
#
# creates kithara_<name>, alias kithara::<name>, EXPORT_NAME <name>, the header file set on
# include/, src/ as a private include directory, a generated <kithara/<name>/export.hpp>, hidden
# symbols, VERSION/SOVERSION, and warnings through a build-only target never exported to users.

include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/KitharaLayers.cmake)
include(${CMAKE_CURRENT_LIST_DIR}/KitharaDependencies.cmake)
include(GenerateExportHeader)

option(KITHARA_WERROR "Treat warnings in Kithara's own code as errors" ${PROJECT_IS_TOP_LEVEL})

if(NOT TARGET kithara_warnings)
  add_library(kithara_warnings INTERFACE)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(kithara_warnings INTERFACE -Wall -Wextra -Wconversion -Wshadow
                                                      $<$<BOOL:${KITHARA_WERROR}>:-Werror>)
  endif()
endif()

# Test code (test executables, their support libraries, header snippets) is compiled with line
# tables only (-g1: file:line in backtraces and sanitizer reports) and, in optimised builds, at
# -O1: test code is a third of what `scripts/dev test` compiles, and -O2 -g made it 37 % slower
# to build (hls_fault_test.cpp: 20.8 s at -O2 -g, 13.1 s at -O1 -g1). The libraries under test
# keep their build type's flags.
if(NOT TARGET kithara_test_code)
  add_library(kithara_test_code INTERFACE)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(kithara_test_code INTERFACE
                           $<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-O1> -g1)
  endif()
endif()

function(kithara_add_library)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME" "DEPS;PUBLIC_DEPS;PRIVATE_DEPS;SOURCES")
  set(layer ${arg_NAME})
  kithara_layer_rank(${layer} _rank)
  foreach(dep IN LISTS arg_DEPS)
    kithara_check_dependency(${layer} ${dep} "declares")
    if(NOT TARGET kithara_${dep})
      message(FATAL_ERROR "Kithara: kithara::${layer} depends on kithara::${dep}, which is not "
                          "defined yet; add libs/${dep} before libs/${layer}.")
    endif()
  endforeach()

  set(target kithara_${layer})
  add_library(${target} ${arg_SOURCES})
  add_library(kithara::${layer} ALIAS ${target})
  string(TOUPPER ${layer} _upper)
  set_target_properties(${target} PROPERTIES
    EXPORT_NAME ${layer}
    OUTPUT_NAME kithara_${layer}
    VERSION ${Kithara_VERSION}
    SOVERSION ${Kithara_VERSION_MAJOR}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON
    INSTALL_RPATH "$ORIGIN"  # installed layers find each other wherever the prefix is moved
    KITHARA_LAYER ${layer}
    KITHARA_DEPS "${arg_DEPS}")
  target_compile_features(${target} PUBLIC cxx_std_20)

  set(_gen ${CMAKE_CURRENT_BINARY_DIR}/generated/include)
  generate_export_header(${target} BASE_NAME KITHARA_${_upper}
                         EXPORT_FILE_NAME ${_gen}/kithara/${layer}/export.hpp)
  if(NOT BUILD_SHARED_LIBS)
    target_compile_definitions(${target} PUBLIC KITHARA_${_upper}_STATIC_DEFINE)
  endif()
  target_sources(${target} PUBLIC FILE_SET HEADERS
                 BASE_DIRS ${CMAKE_CURRENT_SOURCE_DIR}/include ${_gen}
                 FILES ${_gen}/kithara/${layer}/export.hpp)
  file(GLOB_RECURSE _headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/include/*.hpp)
  if(_headers)
    target_sources(${target} PUBLIC FILE_SET HEADERS FILES ${_headers})
  endif()
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)

  set(_externals)
  foreach(dep IN LISTS arg_DEPS)
    target_link_libraries(${target} PUBLIC kithara::${dep})
  endforeach()
  foreach(ext IN LISTS arg_PUBLIC_DEPS)
    kithara_require_external(${ext})
    target_link_libraries(${target} PUBLIC ${ext})
    list(APPEND _externals ${ext})
  endforeach()
  # Every layer logs through spdlog (privately) and uses threads.
  foreach(ext IN LISTS arg_PRIVATE_DEPS ITEMS spdlog::spdlog Threads::Threads)
    kithara_require_external(${ext})
    target_link_libraries(${target} PRIVATE ${ext})
    list(APPEND _externals ${ext})
  endforeach()
  # kithara_internal (core's build-internal logger header, defined in libs/core) is resolved
  # when the build is generated, so core itself can use it too.
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:kithara_warnings>
                                          $<BUILD_INTERFACE:kithara_internal>)
  if(BUILD_SHARED_LIBS AND NOT KITHARA_SANITIZE)
    target_link_options(${target} PRIVATE LINKER:--no-undefined)
  endif()
  list(REMOVE_DUPLICATES _externals)
  set_target_properties(${target} PROPERTIES
    KITHARA_PUBLIC_EXTERNALS "${arg_PUBLIC_DEPS}"
    KITHARA_EXTERNALS "${_externals}")
  set_property(GLOBAL APPEND PROPERTY KITHARA_LIBRARY_TARGETS ${target})

  if(KITHARA_INSTALL)
    kithara_install_layer(${layer})
  endif()
endfunction()

# Deferred check, run once at the end of the top directory: every kithara_* layer target's real
# link lists may name only the layers it declared, and those only if the table allows them.
function(kithara_check_layering)
  get_property(_targets GLOBAL PROPERTY KITHARA_LIBRARY_TARGETS)
  foreach(target IN LISTS _targets)
    get_target_property(layer ${target} KITHARA_LAYER)
    get_target_property(declared ${target} KITHARA_DEPS)
    if(NOT declared)
      set(declared "")
    endif()
    get_target_property(_links ${target} LINK_LIBRARIES)
    get_target_property(_ilinks ${target} INTERFACE_LINK_LIBRARIES)
    foreach(item IN LISTS _links _ilinks)
      string(REGEX MATCHALL "kithara(::|_)([a-z]+)" _hits "${item}")
      foreach(hit IN LISTS _hits)
        string(REGEX REPLACE "kithara(::|_)" "" dep "${hit}")
        if(NOT dep IN_LIST KITHARA_LAYERS OR dep STREQUAL layer)
          continue()
        endif()
        kithara_check_dependency(${layer} ${dep} "links")
        if(NOT dep IN_LIST declared)
          message(FATAL_ERROR "Kithara layering: kithara::${layer} links kithara::${dep} without "
                              "declaring it in kithara_add_library(NAME ${layer} DEPS ...).")
        endif()
      endforeach()
    endforeach()
  endforeach()
endfunction()

# kithara_add_test(NAME <name> SOURCES <files>...
#                  [LIBS <targets>...]            linked PRIVATE (GTest and gtest_main are added)
#                  [INCLUDES <dirs>...] [DEFINITIONS <defs>...] [COMPILE_OPTIONS <opts>...]
#                  [DEPENDS <targets>...]         built first (generated fixtures)
#                  [LABELS <labels>...]           CTest labels, see below
#                  [TIMEOUT <s>] [ENVIRONMENT <VAR=value>...] [RUN_SERIAL]
#                  [FIXTURES_REQUIRED <f>...] [FIXTURES_SETUP <f>...] [FIXTURES_CLEANUP <f>...])
# One GoogleTest executable; each test case becomes a CTest test carrying every property above.
# Labels: a test defined in libs/<layer>/tests gets the label <layer> automatically; integration
# tests name `integration` and each layer they exercise; build-system tests `build`; see
# tests/labels/check_labels.cmake for the rules the `build.labels` test enforces.
function(kithara_add_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "RUN_SERIAL;SINGLE_THREADED" "NAME;TIMEOUT"
    "LIBS;SOURCES;LABELS;INCLUDES;DEFINITIONS;COMPILE_OPTIONS;DEPENDS;ENVIRONMENT;FIXTURES_REQUIRED;FIXTURES_SETUP;FIXTURES_CLEANUP")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "kithara_add_test(${arg_NAME}): unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  # SINGLE_THREADED: pure code on one thread (parsers, schedulers); nothing for ThreadSanitizer
  # to find, so the tsan preset (KITHARA_TSAN_SCOPE) does not build it. ASan runs it.
  if(arg_SINGLE_THREADED AND KITHARA_TSAN_SCOPE)
    return()
  endif()
  add_executable(${arg_NAME} ${arg_SOURCES})
  target_link_libraries(${arg_NAME} PRIVATE ${arg_LIBS} GTest::gtest GTest::gtest_main
                                            kithara_warnings kithara_internal kithara_test_code)
  target_include_directories(${arg_NAME} PRIVATE ${arg_INCLUDES})
  target_compile_definitions(${arg_NAME} PRIVATE ${arg_DEFINITIONS})
  target_compile_options(${arg_NAME} PRIVATE ${arg_COMPILE_OPTIONS})
  # Under a sanitizer the test's own files are compiled unoptimised: they run little code (the
  # libraries and the test server keep -O1) and compile in about half the time.
  if(KITHARA_SANITIZE)
    target_compile_options(${arg_NAME} PRIVATE -O0)
  endif()
  if(arg_DEPENDS)
    add_dependencies(${arg_NAME} ${arg_DEPENDS})
  endif()

  set(_labels ${arg_LABELS})
  file(RELATIVE_PATH _rel ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  if(_rel MATCHES "^libs/([a-z]+)/tests$")
    list(PREPEND _labels ${CMAKE_MATCH_1})
  endif()
  list(REMOVE_DUPLICATES _labels)
  if(NOT _labels)
    message(FATAL_ERROR "kithara_add_test(${arg_NAME}): give LABELS (the layers it tests, "
                        "`integration`, or `build`)")
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 120)
  endif()
  # gtest_discover_tests flattens list values in its PROPERTIES (two labels would become a label
  # and a bogus property), so the properties are set by a script CTest includes right after the
  # discovered tests, on the list of tests discovery names (generator expressions allowed).
  gtest_discover_tests(${arg_NAME} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       TEST_LIST ${arg_NAME}_TESTS)
  set(_list "\${${arg_NAME}_TESTS}")
  set(_script "if(NOT \"${_list}\" STREQUAL \"\")\n  set_tests_properties(${_list} PROPERTIES\n")
  string(APPEND _script "    TIMEOUT ${arg_TIMEOUT}\n    LABELS [==[${_labels}]==]\n")
  foreach(_prop ENVIRONMENT FIXTURES_REQUIRED FIXTURES_SETUP FIXTURES_CLEANUP)
    if(arg_${_prop})
      string(APPEND _script "    ${_prop} [==[${arg_${_prop}}]==]\n")
    endif()
  endforeach()
  if(arg_RUN_SERIAL)
    string(APPEND _script "    RUN_SERIAL TRUE\n")
  endif()
  string(APPEND _script "  )\nendif()\n")
  set(_file ${CMAKE_CURRENT_BINARY_DIR}/${arg_NAME}_properties.cmake)
  file(GENERATE OUTPUT ${_file} CONTENT "${_script}")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${_file})
endfunction()

# kithara_add_benchmark(NAME <name> SOURCES <files>... [LIBS <targets>...] [INCLUDES <dirs>...]
#                       [DEFINITIONS <defs>...] [DEPENDS <targets>...])
function(kithara_add_benchmark)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME" "LIBS;SOURCES;INCLUDES;DEFINITIONS;DEPENDS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "kithara_add_benchmark(${arg_NAME}): unknown arguments "
                        "${arg_UNPARSED_ARGUMENTS}")
  endif()
  add_executable(${arg_NAME} ${arg_SOURCES})
  target_link_libraries(${arg_NAME} PRIVATE ${arg_LIBS} benchmark::benchmark kithara_warnings
                                            kithara_internal)
  target_include_directories(${arg_NAME} PRIVATE ${arg_INCLUDES})
  target_compile_definitions(${arg_NAME} PRIVATE ${arg_DEFINITIONS})
  if(arg_DEPENDS)
    add_dependencies(${arg_NAME} ${arg_DEPENDS})
  endif()
endfunction()

# kithara_fuzzing_enabled(<var>): sets <var> to TRUE where libFuzzer targets are built (the asan
# preset: KITHARA_SANITIZE=address with clang), FALSE elsewhere.
function(kithara_fuzzing_enabled out)
  if(KITHARA_SANITIZE STREQUAL "address" AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

# kithara_add_fuzzer(NAME <target> TEST <ctest-name> SOURCES <files>...
#                    [LIBS <targets>...] [INCLUDES <dirs>...] [DEFINITIONS <defs>...]
#                    [CORPUS <dir>] [DEPENDS <targets>...]   the seed corpus and what makes it
#                    [SECONDS <s>] [INPUT_TIMEOUT <s>] [RSS_LIMIT_MB <mb>] [MAX_LEN <bytes>])
# A libFuzzer executable (its sources compiled with -fsanitize=fuzzer: coverage-guided by the code
# compiled into it) and a CTest test running it for SECONDS (default 30) over CORPUS, labelled
# `fuzz` only (so the layer labels stay quick and the tsan preset can exclude it), with leak
# detection on and aborting on the first report. Does nothing where kithara_fuzzing_enabled is
# false.
function(kithara_add_fuzzer)
  cmake_parse_arguments(PARSE_ARGV 0 arg ""
    "NAME;TEST;CORPUS;SECONDS;INPUT_TIMEOUT;RSS_LIMIT_MB;MAX_LEN"
    "SOURCES;LIBS;INCLUDES;DEFINITIONS;DEPENDS")
  if(arg_UNPARSED_ARGUMENTS OR NOT arg_NAME OR NOT arg_TEST OR NOT arg_SOURCES)
    message(FATAL_ERROR "kithara_add_fuzzer(${arg_NAME}): give NAME, TEST and SOURCES "
                        "(unknown: ${arg_UNPARSED_ARGUMENTS})")
  endif()
  kithara_fuzzing_enabled(_fuzz)
  if(NOT _fuzz)
    return()
  endif()
  foreach(_opt SECONDS:30 INPUT_TIMEOUT:10 RSS_LIMIT_MB:1024 MAX_LEN:65536)
    string(REPLACE ":" ";" _kv ${_opt})
    list(GET _kv 0 _k)
    list(GET _kv 1 _v)
    if(NOT arg_${_k})
      set(arg_${_k} ${_v})
    endif()
  endforeach()
  add_executable(${arg_NAME} ${arg_SOURCES})
  target_include_directories(${arg_NAME} PRIVATE ${arg_INCLUDES})
  target_compile_definitions(${arg_NAME} PRIVATE ${arg_DEFINITIONS})
  target_link_libraries(${arg_NAME} PRIVATE ${arg_LIBS} kithara_warnings)
  target_compile_options(${arg_NAME} PRIVATE -fsanitize=fuzzer)
  target_link_options(${arg_NAME} PRIVATE -fsanitize=fuzzer)
  if(arg_DEPENDS)
    add_dependencies(${arg_NAME} ${arg_DEPENDS})
  endif()
  math(EXPR _ctest_timeout "${arg_SECONDS} * 2 + 60")
  add_test(NAME ${arg_TEST}
           COMMAND ${arg_NAME} -max_total_time=${arg_SECONDS} -timeout=${arg_INPUT_TIMEOUT}
                   -rss_limit_mb=${arg_RSS_LIMIT_MB} -max_len=${arg_MAX_LEN}
                   -print_final_stats=1 ${arg_CORPUS})
  set_tests_properties(${arg_TEST} PROPERTIES LABELS "fuzz" TIMEOUT ${_ctest_timeout}
                       ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1")
endfunction()

# kithara_fixture_cache_root(<out-var> <fallback>): where content-keyed build products shared by
# the build trees of one checkout live (generated HLS fixtures, bundled FFmpeg and libcurl):
# build/.fixture-cache when this tree is build/<name> of the source tree, else <fallback>.
function(kithara_fixture_cache_root out fallback)
  cmake_path(IS_PREFIX PROJECT_SOURCE_DIR "${PROJECT_BINARY_DIR}" NORMALIZE in_tree)
  get_filename_component(binary_parent ${PROJECT_BINARY_DIR} DIRECTORY)
  if(in_tree AND binary_parent STREQUAL "${PROJECT_SOURCE_DIR}/build")
    set(${out} ${binary_parent}/.fixture-cache PARENT_SCOPE)
  else()
    set(${out} ${fallback} PARENT_SCOPE)
  endif()
endfunction()
