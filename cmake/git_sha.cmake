# Writes OUT (a C++ header with the git commit of the source tree) only when it changes, so the
# env sidecar of every run names the exact sources without forcing rebuilds.
execute_process(COMMAND git -C "${SRC}" rev-parse HEAD OUTPUT_VARIABLE sha OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  set(sha "unknown")
endif()
execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no OUTPUT_VARIABLE dirty ERROR_QUIET)
if(dirty)
  set(sha "${sha}-dirty")
endif()
set(text "#pragma once\n#define CONVBENCH_GIT_SHA \"${sha}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
