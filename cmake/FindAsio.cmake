# FindAsio: standalone (non-Boost) Asio, header-only.
# Provides Asio::asio with ASIO_STANDALONE and ASIO_NO_DEPRECATED defined, and
# ASIO_DISABLE_STD_ALIGNED_ALLOC: Asio decides between std::aligned_alloc/free and operator
# new/delete for its handler memory by testing _GLIBCXX_HAVE_ALIGNED_ALLOC without including a
# standard header first, so a translation unit whose first include is an Asio header chose
# differently from the others and the linker kept one inline definition of each side: memory
# allocated with operator new was freed with free() (ASan: alloc-dealloc-mismatch). One choice
# for every translation unit.
include(FindPackageHandleStandardArgs)
find_path(Asio_INCLUDE_DIR NAMES asio.hpp)
if(Asio_INCLUDE_DIR AND EXISTS "${Asio_INCLUDE_DIR}/asio/version.hpp")
  file(STRINGS "${Asio_INCLUDE_DIR}/asio/version.hpp" _asio_v REGEX "#define ASIO_VERSION ")
  string(REGEX MATCH "[0-9]+" _asio_v "${_asio_v}")
  math(EXPR _asio_major "${_asio_v} / 100000")
  math(EXPR _asio_minor "${_asio_v} / 100 % 1000")
  math(EXPR _asio_patch "${_asio_v} % 100")
  set(Asio_VERSION "${_asio_major}.${_asio_minor}.${_asio_patch}")
endif()
find_package_handle_standard_args(Asio REQUIRED_VARS Asio_INCLUDE_DIR VERSION_VAR Asio_VERSION)
if(Asio_FOUND AND NOT TARGET Asio::asio)
  find_package(Threads REQUIRED)
  add_library(Asio::asio INTERFACE IMPORTED)
  set_target_properties(Asio::asio PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${Asio_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "ASIO_STANDALONE;ASIO_NO_DEPRECATED;ASIO_DISABLE_STD_ALIGNED_ALLOC"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
mark_as_advanced(Asio_INCLUDE_DIR)
