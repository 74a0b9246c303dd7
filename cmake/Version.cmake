# The git revision and build version, baked into a generated header for result provenance.
find_package(Git QUIET)
set(DNAS_GIT_REVISION "unknown")
if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
  execute_process(COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
                  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} OUTPUT_VARIABLE DNAS_GIT_REVISION
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  execute_process(COMMAND ${GIT_EXECUTABLE} status --porcelain --untracked-files=no
                  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} OUTPUT_VARIABLE DNAS_GIT_DIRTY
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(DNAS_GIT_DIRTY)
    set(DNAS_GIT_REVISION "${DNAS_GIT_REVISION}-dirty")
  endif()
endif()
configure_file(${PROJECT_SOURCE_DIR}/src/core/build_info.cpp.in ${PROJECT_BINARY_DIR}/generated/build_info.cpp @ONLY)
