# Warnings and sanitizers travel as an INTERFACE target, so every target opts in the same way.
add_library(thumbfetch_warnings INTERFACE)
target_compile_options(thumbfetch_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                       -Wnon-virtual-dtor -Wold-style-cast -Wno-missing-field-initializers)
if(THUMBFETCH_SANITIZE)
  add_compile_options(-fsanitize=${THUMBFETCH_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${THUMBFETCH_SANITIZE})
endif()
