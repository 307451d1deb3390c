#!/usr/bin/env bash
# Test the fastloss installed in the active Python environment, from outside the
# source tree: the whole test suite, then tools/check_installed.py (OpenMP runtime,
# kernel set, threadpoolctl).
#
#   tools/test_installed.sh [--bundled-openmp] [pytest arguments...]
#
# The suite (tests/ and the pytest settings in pyproject.toml, with the benchmark
# scripts and the asv suite's benchmark module, which tests/test_bench.py loads) is
# copied into a temporary folder and run there, so `import fastloss` can only find the
# installed package. Used by tools/check_dist.sh and as cibuildwheel's test-command.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)

check_args=()
if [ "${1:-}" = "--bundled-openmp" ]; then
    check_args+=(--bundled-openmp)
    shift
fi

suite=$(mktemp -d)
trap 'rm -rf "$suite"' EXIT
cp -r "$repo/tests" "$repo/benchmarks" "$repo/pyproject.toml" "$suite/"
mkdir "$suite/asv_benchmarks"
cp -r "$repo/asv_benchmarks/benchmarks" "$suite/asv_benchmarks/"
cd "$suite"
python -c 'import fastloss, sys; print(f"testing fastloss {fastloss.__version__} from {fastloss.__file__} (Python {sys.version.split()[0]})")'
python -m pytest -p no:cacheprovider "$@"
python "$repo/tools/check_installed.py" "${check_args[@]}"
