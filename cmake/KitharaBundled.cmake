# Bundled third-party libraries (FFmpeg, libcurl) built from Debian's source packages, which
# scripts/install-deps.sh fetches into .deps/<name>/source (never fetched by the CMake build).
#
# kithara_bundled_build(NAME <name> SOURCE <dir> CC <compiler> LIBS <lib>... KIND configure|cmake
#                       TOOL <make-or-cmake> ARGS <arg>... [EXTRA_KEY <text>]
#                       OUT_PREFIX <var> OUT_ARCHIVES <var>)
# builds <lib>... once per content key into a cache the build trees of one checkout share (like
# the HLS fixtures): `scripts/dev test` builds the default and asan presets, which would otherwise
# build the same library twice. The key: the source (its path, Debian version, applied patches,
# RELEASE and VERSION files), the build arguments, the compiler (path and version) and
# cmake/cached_build.sh. Adds the target kithara_<name>_build, which produces the archives;
# <OUT_PREFIX> is the install prefix (include/, lib/), <OUT_ARCHIVES> the lib<lib>.a paths.

include_guard(GLOBAL)

# kithara_bundled_option(<name> <doc>): the cache options KITHARA_<NAME>=bundled|system (bundled
# when Kithara is the top-level project, else system) and KITHARA_<NAME>_SOURCE_DIR
# (.deps/<name>/source, which scripts/install-deps.sh fills); any other mode fails.
function(kithara_bundled_option name doc)
  string(TOUPPER ${name} upper)
  if(PROJECT_IS_TOP_LEVEL)
    set(default bundled)
  else()
    set(default system)
  endif()
  set(KITHARA_${upper} ${default} CACHE STRING "${doc}")
  set_property(CACHE KITHARA_${upper} PROPERTY STRINGS bundled system)
  set(KITHARA_${upper}_SOURCE_DIR ${PROJECT_SOURCE_DIR}/.deps/${name}/source CACHE PATH
      "${name} source tree for KITHARA_${upper}=bundled (scripts/install-deps.sh fetches it)")
  if(NOT KITHARA_${upper} MATCHES "^(bundled|system)$")
    message(FATAL_ERROR "KITHARA_${upper} must be 'bundled' or 'system', not '${KITHARA_${upper}}'")
  endif()
endfunction()

find_program(KITHARA_FLOCK_PROGRAM flock REQUIRED)  # used by cmake/cached_build.sh
set(_kithara_bundled_script ${CMAKE_CURRENT_LIST_DIR}/cached_build.sh)

function(kithara_bundled_build)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;SOURCE;CC;KIND;TOOL;EXTRA_KEY;OUT_PREFIX;OUT_ARCHIVES"
                        "LIBS;ARGS")
  file(REAL_PATH ${arg_SOURCE} source)
  file(REAL_PATH ${arg_CC} cc_real)
  execute_process(COMMAND ${arg_CC} --version OUTPUT_VARIABLE cc_version ERROR_QUIET)
  string(REGEX MATCH "^[^\n]*" cc_version "${cc_version}")
  file(SHA256 ${_kithara_bundled_script} key)
  string(APPEND key "|${source}|${cc_real}|${cc_version}|${arg_KIND}|${arg_ARGS}|${arg_EXTRA_KEY}")
  foreach(file debian/changelog debian/patches/series .pc/applied-patches RELEASE VERSION)
    if(EXISTS ${source}/${file})
      file(SHA256 ${source}/${file} hash)
      string(APPEND key "|${file}=${hash}")
      # A new source (install-deps fetched a newer Debian version) reconfigures, so a new key.
      set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
                   ${arg_SOURCE}/${file})
    endif()
  endforeach()
  string(SHA256 key "${key}")
  string(SUBSTRING "${key}" 0 16 key)
  kithara_fixture_cache_root(cache_root ${PROJECT_BINARY_DIR}/_deps/.fixture-cache)
  set(prefix ${cache_root}/${arg_NAME}-${key})
  set(archives)
  foreach(lib IN LISTS arg_LIBS)
    list(APPEND archives ${prefix}/lib/lib${lib}.a)
  endforeach()
  list(JOIN arg_LIBS " " libs)
  add_custom_command(OUTPUT ${prefix}/stamp
    BYPRODUCTS ${archives}
    COMMAND ${_kithara_bundled_script} ${arg_NAME} ${prefix} ${source} ${libs} ${arg_KIND}
            ${arg_TOOL} ${arg_ARGS}
    DEPENDS ${_kithara_bundled_script}
    COMMENT "Building the bundled ${arg_NAME} (or reusing the one built for this checkout)"
    VERBATIM)
  add_custom_target(kithara_${arg_NAME}_build DEPENDS ${prefix}/stamp)
  file(MAKE_DIRECTORY ${prefix}/include)
  set(${arg_OUT_PREFIX} ${prefix} PARENT_SCOPE)
  set(${arg_OUT_ARCHIVES} ${archives} PARENT_SCOPE)
endfunction()
