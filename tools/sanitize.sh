#!/usr/bin/env bash
# Build fastloss's extension modules with AddressSanitizer and UndefinedBehaviorSanitizer
# (meson's b_sanitize) and run the test suite on that build in a stock Python, with
# the sanitizer runtimes preloaded. Any out-of-bounds access, use after free or
# undefined behaviour in the kernels stops the run with a report.
#
#   tools/sanitize.sh [pytest arguments]     (default: the whole suite)
#
# Needs GCC (its libasan and libubsan) and the package registry: a fresh virtual
# environment gets the build requirements and the test extras, and the sanitized
# build is installed into it (without build isolation, so that the setup arguments
# reach meson). The kernels are compiled at -O1 (kernel_optimization=1). SANITIZE_DIR
# keeps the environment and the build there for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${SANITIZE_DIR:-}" ]; then
    work=$SANITIZE_DIR
else  # a temporary folder (2.6 GB with the build and the environment): removed at exit
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "meson-python>=0.18" "meson>=1.4" ninja \
    "Cython>=3.0.10" "numpy>=2.0"
"$work/venv/bin/python" -m pip install --quiet --no-build-isolation ".[test]" \
    -Cbuild-dir="$work/build" \
    -Csetup-args=-Db_sanitize=address,undefined -Csetup-args=-Db_lundef=false \
    -Csetup-args=-Dkernel_optimization=1 -Csetup-args=-Doptimization=1
asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
# Python itself frees nothing at exit (leak reports would be its own); every other
# finding is an error. float-cast-overflow is not part of -fsanitize=undefined. An
# allocation too large to serve returns NULL (NumPy's MemoryError, as without the
# sanitizer; the fuzz tests ask for 8 TiB) instead of stopping the process.
# Reports go to files (pytest captures the standard error of a process that stops).
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_string_checks=1:allocator_may_return_null=1:log_path=$work/asan
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$work/ubsan
rm -f "$work"/asan.* "$work"/ubsan.*
status=0
# -P: the installed (sanitized) fastloss, not the source tree's.
LD_PRELOAD="$asan $ubsan" "$work/venv/bin/python" -P -m pytest -q -p no:cacheprovider "$@" \
    || status=$?
reports=("$work"/asan.* "$work"/ubsan.*)
found=0
for report in "${reports[@]}"; do
    # A refused allocation (allocator_may_return_null) leaves a warning line, not an error.
    if [ -e "$report" ] && grep -qv "AddressSanitizer failed to allocate" "$report"; then
        cat "$report"
        found=$((found + 1))
    fi
done
if [ "$found" -gt 0 ]; then
    status=1
fi
echo "sanitizer reports: $found; status $status"
exit $status
