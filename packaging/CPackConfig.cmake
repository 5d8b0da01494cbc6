# A Debian package of the two programs, the shipped models and the desktop integration.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/ DESTINATION share/cattery/models
        FILES_MATCHING PATTERN "*.cattery" PATTERN "*.md" PATTERN "*.png")
install(FILES ${PROJECT_SOURCE_DIR}/resources/cattery.desktop DESTINATION share/applications)
install(FILES ${PROJECT_SOURCE_DIR}/resources/cattery.metainfo.xml DESTINATION share/metainfo)
foreach(size 32 48 64 128 256)
    install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/cattery-${size}.png
            DESTINATION share/icons/hicolor/${size}x${size}/apps RENAME cattery.png)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/resources/cattery-mime.xml DESTINATION share/mime/packages
        RENAME cattery.xml)
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "cattery")
set(CPACK_PACKAGE_CONTACT "Cattery developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)
