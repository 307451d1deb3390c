#!/usr/bin/env bash
# Build fastloss's extension modules with AddressSanitizer and UndefinedBehaviorSanitizer
# (meson's b_sanitize) and run the test suite on that build in a stock Python, with
# the sanitizer runtimes preloaded. Any out-of-bounds access, use after free or
# undefined behaviour in the kernels stops the run with a report.
#
#   tools/sanitize.sh [pytest arguments]     (default: the whole suite)
#
# Needs GCC (its libasan and libubsan), and meson-python, Cython, ninja, NumPy and the
# test extras in the active Python: the build is installed without build isolation
# into a virtual environment that sees them (--system-site-packages).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${SANITIZE_DIR:-$(mktemp -d)}
python3 -m venv --system-site-packages "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --no-build-isolation --no-deps . \
    -Cbuild-dir="$work/build" \
    -Csetup-args=-Db_sanitize=address,undefined -Csetup-args=-Db_lundef=false
asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
# Python itself frees nothing at exit (leak reports would be its own); every other
# finding is an error. float-cast-overflow is not part of -fsanitize=undefined.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# -P: the installed (sanitized) fastloss, not the source tree's.
LD_PRELOAD="$asan $ubsan" "$work/venv/bin/python" -P -m pytest -q -p no:cacheprovider "$@"
