#!/usr/bin/env bash
# Install each given wheel or sdist into a fresh virtual environment (no system site
# packages) and test it there with tools/test_installed.sh: the whole test suite from
# outside the source tree, then the installation checks. A manylinux wheel must carry
# its own OpenMP runtime (--bundled-openmp); an sdist is built by pip on the way in,
# and a plain linux_* wheel (tools/build_dist.sh's build of the sdist) uses the
# system's OpenMP runtime.
#
#   tools/check_dist.sh dist/fastloss-*.whl dist/unrepaired/fastloss-*.whl
#   tools/check_dist.sh dist/fastloss-*.tar.gz
#
# PYTHON selects the interpreter for the environments (default: python3).
set -euo pipefail
tools=$(cd "$(dirname "$0")" && pwd)

if [ "$#" -eq 0 ]; then
    echo "usage: $0 WHEEL_OR_SDIST..." >&2
    exit 2
fi

for artifact in "$@"; do
    artifact=$(cd "$(dirname "$artifact")" && pwd)/$(basename "$artifact")
    case "$artifact" in
        *-manylinux_*.whl) check_args=(--bundled-openmp) ;;
        *.whl | *.tar.gz) check_args=() ;;
        *) echo "not a wheel or sdist: $artifact" >&2; exit 2 ;;
    esac
    echo "=== checking $(basename "$artifact")"
    env_dir=$(mktemp -d)
    "${PYTHON:-python3}" -m venv "$env_dir/venv"
    (
        # shellcheck disable=SC1091
        . "$env_dir/venv/bin/activate"
        cd "$env_dir"
        python -m pip install --quiet --upgrade pip
        python -m pip install --quiet "fastloss[test] @ file://$artifact"
        bash "$tools/test_installed.sh" "${check_args[@]}"
    )
    rm -rf "$env_dir"
done
