# External dependencies as imported targets, found on first use.
#
# Each entry maps an imported target a layer may name in PUBLIC_DEPS / PRIVATE_DEPS to the
# find_package() call that provides it. The same call is replayed by find_dependency() in the
# installed KitharaConfig.cmake for the components that need it.

include_guard(GLOBAL)

set(_kithara_pkg_tl::expected "tl-expected")
set(_kithara_pkg_spdlog::spdlog "spdlog")
set(_kithara_pkg_Threads::Threads "Threads")
set(_kithara_pkg_CURL::libcurl "CURL")
set(_kithara_pkg_OpenSSL::Crypto "OpenSSL COMPONENTS Crypto")
set(_kithara_pkg_Asio::asio "Asio")
set(_kithara_pkg_SampleRate::samplerate "SampleRate")
set(_kithara_pkg_FFmpeg::avformat "FFmpeg COMPONENTS avformat avcodec avutil swresample")
set(_kithara_pkg_FFmpeg::avcodec "FFmpeg COMPONENTS avformat avcodec avutil swresample")
set(_kithara_pkg_FFmpeg::avutil "FFmpeg COMPONENTS avformat avcodec avutil swresample")
set(_kithara_pkg_FFmpeg::swresample "FFmpeg COMPONENTS avformat avcodec avutil swresample")

# kithara_external_package(<target> <out-var>): the find_package() arguments for <target>.
function(kithara_external_package target out)
  if(NOT DEFINED _kithara_pkg_${target})
    message(FATAL_ERROR "Kithara: external target '${target}' is not in cmake/KitharaDependencies.cmake")
  endif()
  set(${out} "${_kithara_pkg_${target}}" PARENT_SCOPE)
endfunction()

# kithara_require_external(<target>): find the package providing <target> unless it exists.
macro(kithara_require_external _kithara_target)
  if(NOT TARGET ${_kithara_target})
    kithara_external_package(${_kithara_target} _kithara_pkg_args)
    if(_kithara_pkg_args STREQUAL "Threads")
      set(THREADS_PREFER_PTHREAD_FLAG ON)
    endif()
    string(REPLACE " " ";" _kithara_pkg_args "${_kithara_pkg_args}")
    find_package(${_kithara_pkg_args} REQUIRED)
  endif()
endmacro()
