# Warnings and sanitizers travel as an INTERFACE target, so every target opts in the same way.
add_library(thumbfetch_warnings INTERFACE)
target_compile_options(thumbfetch_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                       -Wnon-virtual-dtor -Wold-style-cast -Wno-missing-field-initializers)
if(THUMBFETCH_SANITIZE)
  # No recovery: a sanitizer report fails the test that caused it instead of scrolling past.
  # -O1 -g1 whatever the build type: quick to build on CI's 2 cores, fast enough to run the
  # whole suite, line numbers in every report.
  add_compile_options(-fsanitize=${THUMBFETCH_SANITIZE} -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -O1 -g1)
  add_link_options(-fsanitize=${THUMBFETCH_SANITIZE})
endif()

# Fuzz builds: every target (thumbfetch_lib included) gets libFuzzer's coverage instrumentation
# and ASan+UBSan; fuzz/CMakeLists.txt links each fuzz_<name> executable with libFuzzer's main.
if(THUMBFETCH_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "THUMBFETCH_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -O1 -g1)
  add_link_options(-fsanitize=address,undefined)
endif()
