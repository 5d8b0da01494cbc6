# A Debian package of the two programs, the shipped models and the desktop integration.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/ DESTINATION share/cattery/models
        FILES_MATCHING PATTERN "*.cattery" PATTERN "*.md" PATTERN "*.png")
install(FILES ${PROJECT_SOURCE_DIR}/resources/org.cattery.Cattery.desktop DESTINATION share/applications)
install(FILES ${PROJECT_SOURCE_DIR}/resources/org.cattery.Cattery.metainfo.xml DESTINATION share/metainfo)
foreach(size 32 48 64 128 256)
    install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/cattery-${size}.png
            DESTINATION share/icons/hicolor/${size}x${size}/apps RENAME cattery.png)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/resources/cattery-mime.xml DESTINATION share/mime/packages
        RENAME cattery.xml)
# What Debian asks of every package: the copyright file (machine-readable), the changelog
# (compressed with gzip -9n, as dh_compress does, so the package is reproducible).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/copyright DESTINATION share/doc/cattery)
set(CATTERY_CHANGELOG_GZ ${PROJECT_BINARY_DIR}/packaging/changelog.gz)
add_custom_command(
    OUTPUT ${CATTERY_CHANGELOG_GZ}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/packaging
    COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/packaging/changelog > ${CATTERY_CHANGELOG_GZ}
    DEPENDS ${PROJECT_SOURCE_DIR}/packaging/changelog
    COMMENT "Compressing the package's changelog"
    VERBATIM)
add_custom_target(cattery-changelog ALL DEPENDS ${CATTERY_CHANGELOG_GZ})
install(FILES ${CATTERY_CHANGELOG_GZ} DESTINATION share/doc/cattery)

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "cattery")
set(CPACK_PACKAGE_VENDOR "Cattery")
set(CPACK_PACKAGE_CONTACT
    "Cattery Maintainers <maintainers@users.noreply.r-seed-54e00829.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
# One line per line of the control file (CPack indents them), each under 80 characters.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Cattery opens on a grid of cartoon cats that morphs between four corner
cats, each set by three numbers or by dragging a cat onto it. It draws
random batches, does arithmetic on cats, finds the cat closest to any
picture, moves cats along the directions in which the model varies most,
and writes sheets and morph movies. Its Train view turns a folder of images
into a new model on an ordinary CPU, scoring itself as it goes and keeping
the best model. cattery-cli does every file-making job without a window.
.
Three small models come with it: procedural cats at two sizes, and one
trained on the Twemoji graphics (CC-BY 4.0).")
set(CPACK_DEBIAN_PACKAGE_SECTION "graphics")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# LibTorch's matrix products go through the BLAS the system provides. Without OpenBLAS Debian's
# falls back to the reference BLAS, measured at 4 GFLOP/s against about 190 for a 2048 x 2048
# product on a 2-core machine: every model would draw and train many times slower.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libopenblas0-pthread")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)
