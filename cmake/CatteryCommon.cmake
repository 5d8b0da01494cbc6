# One INTERFACE target carries the language standard, the warnings and the Qt defines for every target.
add_library(cattery_common INTERFACE)
target_compile_features(cattery_common INTERFACE cxx_std_17)
# (Qt Test's macros leave their variadic arguments empty, which clang's -Wpedantic flags.)
target_compile_options(cattery_common INTERFACE -Wall -Wextra -Wpedantic
    $<$<CXX_COMPILER_ID:Clang>:-Wno-gnu-zero-variadic-macro-arguments>)
target_compile_definitions(cattery_common INTERFACE
    QT_NO_KEYWORDS QT_NO_CAST_FROM_ASCII QT_NO_CONTEXTLESS_CONNECT
    CATTERY_VERSION="${PROJECT_VERSION}")
set(CMAKE_CXX_EXTENSIONS OFF)

# Test helper: one executable per suite, registered with CTest.
function(cattery_add_test name)
    cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE cattery_common cattery_startup ${ARG_LIBS})
    set_target_properties(${name} PROPERTIES AUTOMOC ON)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "QT_QPA_PLATFORM=offscreen;QTEST_FUNCTION_TIMEOUT=1200000")
    if(ARG_TIMEOUT)
        set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT})
    endif()
endfunction()
