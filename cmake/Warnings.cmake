# Warning flags for dnas's own targets only (third-party headers are SYSTEM includes).
function(dnas_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow=local -Wno-unused-parameter)
endfunction()
