# kithara_bundled_curl_target(<archive> <include-dir> [GLOBAL]): the CURL::libcurl imported target
# over the bundled static libcurl (cmake/KitharaCurl.cmake), with what it links: the system
# OpenSSL, nghttp2 and zlib (shared). Used by the build tree and, installed beside
# KitharaConfig.cmake, by FindKitharaBundledCurl.cmake for a static installation.
include_guard(GLOBAL)

function(kithara_bundled_curl_target archive include_dir)
  set(global)
  if(ARGN STREQUAL "GLOBAL")
    set(global GLOBAL)
  endif()
  set(THREADS_PREFER_PTHREAD_FLAG ON)
  find_package(Threads REQUIRED)
  find_package(OpenSSL REQUIRED COMPONENTS SSL Crypto)
  find_package(ZLIB REQUIRED)
  find_library(KITHARA_NGHTTP2_LIBRARY NAMES nghttp2 REQUIRED)
  add_library(CURL::libcurl STATIC IMPORTED ${global})
  set_target_properties(CURL::libcurl PROPERTIES
    IMPORTED_LOCATION ${archive}
    INTERFACE_COMPILE_DEFINITIONS CURL_STATICLIB
    INTERFACE_LINK_LIBRARIES
      "OpenSSL::SSL;OpenSSL::Crypto;${KITHARA_NGHTTP2_LIBRARY};ZLIB::ZLIB;Threads::Threads")
  if(include_dir)
    set_target_properties(CURL::libcurl PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${include_dir})
  endif()
endfunction()
