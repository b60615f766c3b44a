# Sanitizer run-time options, sourced by scripts/test.sh and scripts/fuzz.sh. Every process a test
# starts (the thumbfetch executable, the worker processes it execs) inherits them, so a report in
# a child fails its test too. Suppressions (the *.supp files here) name only libraries that are
# not instrumented (GLib, libvips, libcurl), never thumbfetch's code.
SANITIZERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1:print_summary=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$SANITIZERS_DIR/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export TSAN_OPTIONS="suppressions=$SANITIZERS_DIR/tsan.supp:halt_on_error=1:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
