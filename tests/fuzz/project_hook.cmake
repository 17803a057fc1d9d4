# Used by run_fuzzers.sh (as CMAKE_PROJECT_INCLUDE) only while tests/CMakeLists.txt does not
# add_subdirectory(fuzz) itself: reads tests/fuzz/CMakeLists.txt once the whole tree has been
# read (deferred calls cannot add a subdirectory, hence include()).
if(PROJECT_NAME STREQUAL "wsgid" AND CMAKE_CURRENT_SOURCE_DIR STREQUAL CMAKE_SOURCE_DIR
   AND NOT DEFINED WSGID_FUZZ_HOOK_LIST)
  set(WSGID_FUZZ_HOOK_LIST "${CMAKE_CURRENT_LIST_DIR}/CMakeLists.txt")
  cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL include "${WSGID_FUZZ_HOOK_LIST}")
endif()
