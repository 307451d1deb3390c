#!/usr/bin/env bash
# Build the documentation with warnings as errors, then run the examples of its
# pages as doctests. fastloss and the docs extra must be installed in the active
# Python (python -m pip install "fastloss[docs]", or ".[docs]" from a clone).
#
#   tools/build_docs.sh [OUT_DIR]        (default: docs/_build)
set -euo pipefail
docs=$(cd "$(dirname "$0")/../docs" && pwd)
out=${1:-$docs/_build}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# From docs/, so that `import fastloss` finds the installed package, not the clone's
# uncompiled source folder.
cd "$docs"
rm -rf generated  # autosummary stubs, regenerated from api.rst
python -m sphinx -W --keep-going -q -b html . "$out/html"
python -m sphinx -W --keep-going -q -b doctest . "$out/doctest"
echo "documentation built in $out/html"
