# `cmake --install`: the binary, a man page made from its --help by help2man (when present;
# scripts/setup.sh installs it) and bash completion.
include(GNUInstallDirs)
install(TARGETS thumbfetch RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/share/bash-completion/thumbfetch
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(THUMBFETCH_MAN ${CMAKE_BINARY_DIR}/thumbfetch.1)
  set(THUMBFETCH_MAN_COMMANDS ${CMAKE_BINARY_DIR}/thumbfetch-commands.h2m)
  add_custom_command(
    OUTPUT ${THUMBFETCH_MAN}
    COMMAND sh ${PROJECT_SOURCE_DIR}/cmake/man-commands.sh $<TARGET_FILE:thumbfetch>
            ${THUMBFETCH_MAN_COMMANDS}
    COMMAND ${HELP2MAN} --no-info --no-discard-stderr
            --name "download image sets concurrently and make thumbnails in parallel"
            --include ${THUMBFETCH_MAN_COMMANDS} --output ${THUMBFETCH_MAN} $<TARGET_FILE:thumbfetch>
    DEPENDS thumbfetch ${PROJECT_SOURCE_DIR}/cmake/man-commands.sh
    COMMENT "Man page from thumbfetch --help (help2man)")
  add_custom_target(thumbfetch_man ALL DEPENDS ${THUMBFETCH_MAN})
  install(FILES ${THUMBFETCH_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found: no man page (scripts/setup.sh installs it)")
endif()
