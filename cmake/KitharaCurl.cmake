# Which libcurl kithara::net links: KITHARA_CURL=bundled|system.
#
# bundled (default for Kithara's own builds): a lean, static libcurl built from Debian's source
#   package, which scripts/install-deps.sh fetches with `apt-get source curl` into
#   .deps/curl/source (never fetched by the CMake build), with only what Kithara uses: HTTP/1.1
#   and HTTP/2 (nghttp2), HTTPS over the system OpenSSL, zlib, IPv6, the threaded resolver, proxies
#   and the system CA bundle and path Debian's own build uses. No other protocols, no LDAP, RTMP,
#   SSH, GSSAPI, PSL or IDN: Debian's libcurl4 loads ~30 shared objects for those, ~17 ms of every
#   process start (docs/PERFORMANCE.md "libcurl modes"). PIC, symbols hidden, so a shared
#   libkithara_net does not re-export them. Provides the same CURL::libcurl imported target as
#   system mode, so no code outside cmake/ knows the difference.
# system: find_package(CURL) (Debian's libcurl4-openssl-dev).

include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/KitharaBundled.cmake)

kithara_bundled_option(curl
  "libcurl for kithara::net: bundled (lean static build of Debian's source) or system")
if(NOT KITHARA_CURL STREQUAL "bundled")
  return()
endif()

if(NOT EXISTS ${KITHARA_CURL_SOURCE_DIR}/CMakeLists.txt)
  message(FATAL_ERROR
    "KITHARA_CURL=bundled needs curl's source in ${KITHARA_CURL_SOURCE_DIR}: run "
    "scripts/install-deps.sh (it fetches Debian's source with `apt-get source curl`), point "
    "KITHARA_CURL_SOURCE_DIR at a source tree, or configure with -DKITHARA_CURL=system.")
endif()

# The C compiler curl is built with: like FFmpeg, the sanitizer presets build it with gcc, without
# our flags, so every tree shares one build.
set(KITHARA_CURL_CC ${CMAKE_C_COMPILER} CACHE STRING
    "C compiler the bundled libcurl is built with (name or path)")
find_program(_curl_cc NAMES ${KITHARA_CURL_CC} NO_CACHE)
if(NOT _curl_cc)
  message(FATAL_ERROR "KITHARA_CURL_CC: no C compiler '${KITHARA_CURL_CC}' found")
endif()

# curl's own CMake build. CURL_HIDDEN_SYMBOLS=OFF with -fvisibility=hidden hides every symbol,
# curl_* included (with it ON curl marks its API visible, and a shared libkithara_net would
# export it).
find_program(KITHARA_NINJA_PROGRAM ninja)
if(KITHARA_NINJA_PROGRAM)
  set(_curl_generator -G Ninja -DCMAKE_MAKE_PROGRAM=${KITHARA_NINJA_PROGRAM})
else()
  set(_curl_generator -G "Unix Makefiles")
endif()
set(_curl_args
  ${_curl_generator} -DCMAKE_C_COMPILER=${_curl_cc}
  # -O2 as Debian builds its libcurl (CMake's Release would be -O3: a slower build, no gain).
  -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG"
  "-DCMAKE_C_FLAGS=-fvisibility=hidden"
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCURL_HIDDEN_SYMBOLS=OFF
  -DBUILD_SHARED_LIBS=OFF -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF -DENABLE_MANUAL=OFF
  -DCURL_ENABLE_EXPORT_TARGET=ON -DPICKY_COMPILER=OFF
  # HTTP and HTTPS only; HTTP/2 over nghttp2; TLS by the system OpenSSL; gzip/deflate by zlib.
  -DHTTP_ONLY=ON -DCURL_DISABLE_LDAP=ON -DCURL_DISABLE_LDAPS=ON
  -DCURL_USE_OPENSSL=ON -DUSE_NGHTTP2=ON -DCURL_ZLIB=ON
  -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF -DUSE_LIBIDN2=OFF -DCURL_USE_LIBPSL=OFF
  -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF -DCURL_USE_GSSAPI=OFF
  -DUSE_NGTCP2=OFF -DUSE_QUICHE=OFF -DUSE_MSH3=OFF -DENABLE_ARES=OFF
  -DENABLE_THREADED_RESOLVER=ON -DENABLE_IPV6=ON
  # Debian's defaults (debian/rules: --with-ca-path, --with-ca-bundle).
  -DCURL_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt -DCURL_CA_PATH=/etc/ssl/certs)
kithara_bundled_build(NAME curl SOURCE ${KITHARA_CURL_SOURCE_DIR} CC ${_curl_cc}
  LIBS curl KIND cmake TOOL ${CMAKE_COMMAND} ARGS ${_curl_args}
  OUT_PREFIX _curl_prefix OUT_ARCHIVES _curl_archives)
set(KITHARA_BUNDLED_CURL_PREFIX ${_curl_prefix} CACHE INTERNAL
    "Where the bundled libcurl of this build tree is installed (a shared, content-keyed cache)")

include(${CMAKE_CURRENT_LIST_DIR}/KitharaBundledCurlTarget.cmake)
kithara_bundled_curl_target(${_curl_prefix}/lib/libcurl.a ${_curl_prefix}/include GLOBAL)
add_dependencies(CURL::libcurl kithara_curl_build)

# In the installed package a static kithara::net needs the archive (FindKitharaBundledCurl); a
# shared one has it linked in (hidden) and needs nothing.
set(_kithara_pkg_CURL::libcurl "KitharaBundledCurl")
set(KITHARA_BUNDLED_CURL_ARCHIVES ${_curl_archives})
