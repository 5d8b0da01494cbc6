# A Debian package of the two programs, the shipped models and the desktop integration.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/ DESTINATION share/cattery/models
        FILES_MATCHING PATTERN "*.cattery" PATTERN "*.md" PATTERN "*.png")
install(FILES ${PROJECT_SOURCE_DIR}/resources/cattery.desktop DESTINATION share/applications)
install(FILES ${PROJECT_SOURCE_DIR}/resources/cattery-mime.xml DESTINATION share/mime/packages
        RENAME cattery.xml)
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "cattery")
set(CPACK_PACKAGE_CONTACT "Cattery developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)
