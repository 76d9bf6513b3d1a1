# FindKitharaBundledFFmpeg: the audio-only static FFmpeg archives a static Kithara installation
# ships in <libdir>/kithara-ffmpeg (KITHARA_FFMPEG=bundled). Provides FFmpeg::<lib> targets.
# Installed beside KitharaConfig.cmake (<libdir>/cmake/Kithara), so paths are relative to it.
include(FindPackageHandleStandardArgs)
get_filename_component(_kbf_dir "${CMAKE_CURRENT_LIST_DIR}/../../kithara-ffmpeg" ABSOLUTE)
set(_kbf_libs avformat avcodec swresample avutil)
set(_kbf_found TRUE)
foreach(_lib IN LISTS _kbf_libs)
  if(NOT EXISTS ${_kbf_dir}/lib${_lib}.a)
    set(_kbf_found FALSE)
  endif()
endforeach()
find_package_handle_standard_args(KitharaBundledFFmpeg REQUIRED_VARS _kbf_found _kbf_dir)
if(KitharaBundledFFmpeg_FOUND AND NOT TARGET FFmpeg::avutil)
  find_package(Threads REQUIRED)
  set(_kbf_deps_avformat FFmpeg::avcodec FFmpeg::avutil)
  set(_kbf_deps_avcodec FFmpeg::swresample FFmpeg::avutil)
  set(_kbf_deps_swresample FFmpeg::avutil)
  set(_kbf_deps_avutil m Threads::Threads)
  foreach(_lib IN LISTS _kbf_libs)
    add_library(FFmpeg::${_lib} STATIC IMPORTED)
    set_target_properties(FFmpeg::${_lib} PROPERTIES
      IMPORTED_LOCATION ${_kbf_dir}/lib${_lib}.a
      INTERFACE_LINK_LIBRARIES "${_kbf_deps_${_lib}}")
  endforeach()
endif()
