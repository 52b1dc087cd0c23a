# Install rules, the package config and the Debian package of scaf.
#
# `cmake --install` puts the public headers under include/, the libraries
# under lib/, and scafConfig.cmake (with its version file, the exported
# targets scaf::framework and scaf::actors, and the FindCAF.cmake they need)
# under lib/cmake/scaf, so that a consumer writes
#   find_package(scaf 0.1 CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE scaf::framework scaf::actors)
# and gets C++20 and the include folders through the targets.
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(scaf_config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/scaf)

install(TARGETS scaf_framework scaf_actors
        EXPORT scafTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET scaf_node)
  # A node that serves other processes' scopes, out of the box, and the
  # tool that merges its trace with its callers'.
  install(TARGETS scaf_node scaf_merge_traces
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/framework/include/
                  ${PROJECT_SOURCE_DIR}/actors/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT scafTargets
        NAMESPACE scaf::
        FILE scafTargets.cmake
        DESTINATION ${scaf_config_dir})

configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/scafConfig.cmake.in
  ${PROJECT_BINARY_DIR}/scafConfig.cmake
  INSTALL_DESTINATION ${scaf_config_dir})
# 0.x: a minor version may break the API.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/scafConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/scafConfig.cmake
              ${PROJECT_BINARY_DIR}/scafConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake
        DESTINATION ${scaf_config_dir})

# `cpack -G DEB` in the build folder: libscaf-dev, next to Debian's libcaf-dev.
if(PROJECT_IS_TOP_LEVEL)
  set(CPACK_GENERATOR DEB)
  set(CPACK_PACKAGE_NAME libscaf-dev)
  set(CPACK_PACKAGE_VENDOR scaf)
  set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
      "structured concurrency for the C++ Actor Framework (headers, static libraries)")
  set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
  set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
  set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
  set(CPACK_DEBIAN_PACKAGE_MAINTAINER "scaf developers")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libcaf-dev (>= 0.17.6), libspdlog-dev, libfmt-dev")
  include(CPack)
endif()
