# FindFFmpeg: FFmpeg libraries through pkg-config.
#   find_package(FFmpeg COMPONENTS avformat avcodec avutil swresample)
# Provides FFmpeg::<component> imported targets.
include(FindPackageHandleStandardArgs)
find_package(PkgConfig QUIET)
if(NOT FFmpeg_FIND_COMPONENTS)
  set(FFmpeg_FIND_COMPONENTS avformat avcodec avutil)
endif()
set(_ffmpeg_required_vars)
foreach(_c IN LISTS FFmpeg_FIND_COMPONENTS)
  if(PkgConfig_FOUND)
    pkg_check_modules(PC_FFmpeg_${_c} QUIET IMPORTED_TARGET lib${_c})
  endif()
  set(FFmpeg_${_c}_FOUND ${PC_FFmpeg_${_c}_FOUND})
  if(FFmpeg_${_c}_FOUND AND NOT TARGET FFmpeg::${_c})
    add_library(FFmpeg::${_c} INTERFACE IMPORTED)
    set_target_properties(FFmpeg::${_c} PROPERTIES
      INTERFACE_LINK_LIBRARIES PkgConfig::PC_FFmpeg_${_c})
  endif()
endforeach()
find_package_handle_standard_args(FFmpeg HANDLE_COMPONENTS
                                  REQUIRED_VARS PkgConfig_FOUND)
