# Route compiles through ccache; PCH needs the sloppiness settings below to get hits, and
# BASEDIR makes paths relative so clones and worktrees share cache entries.
if(DNAS_USE_CCACHE)
  find_program(CCACHE_PROGRAM ccache)
  if(CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER
        ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
        CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}
        CCACHE_COMPILERCHECK=content ${CCACHE_PROGRAM})
    message(STATUS "dnas: compiling through ccache (${CCACHE_PROGRAM})")
  endif()
endif()
