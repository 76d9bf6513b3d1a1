# FindSampleRate: libsamplerate through pkg-config. Provides SampleRate::samplerate.
include(FindPackageHandleStandardArgs)
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_SampleRate QUIET IMPORTED_TARGET samplerate)
endif()
find_package_handle_standard_args(SampleRate REQUIRED_VARS PC_SampleRate_FOUND
                                  VERSION_VAR PC_SampleRate_VERSION)
if(SampleRate_FOUND AND NOT TARGET SampleRate::samplerate)
  add_library(SampleRate::samplerate INTERFACE IMPORTED)
  set_target_properties(SampleRate::samplerate PROPERTIES
    INTERFACE_LINK_LIBRARIES PkgConfig::PC_SampleRate)
endif()
