# FindKitharaBundledCurl: the lean static libcurl a static Kithara installation ships in
# <libdir>/kithara-curl (KITHARA_CURL=bundled). Provides CURL::libcurl. Installed beside
# KitharaConfig.cmake (<libdir>/cmake/Kithara), so paths are relative to it. Kithara's public
# headers never include curl's, so no include directory is needed.
include(FindPackageHandleStandardArgs)
get_filename_component(_kbc_archive "${CMAKE_CURRENT_LIST_DIR}/../../kithara-curl/libcurl.a"
                       ABSOLUTE)
set(_kbc_found FALSE)
if(EXISTS ${_kbc_archive})
  set(_kbc_found TRUE)
endif()
find_package_handle_standard_args(KitharaBundledCurl REQUIRED_VARS _kbc_found _kbc_archive)
if(KitharaBundledCurl_FOUND AND NOT TARGET CURL::libcurl)
  include(${CMAKE_CURRENT_LIST_DIR}/KitharaBundledCurlTarget.cmake)
  kithara_bundled_curl_target(${_kbc_archive} "")
endif()
