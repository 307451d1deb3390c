#!/usr/bin/env bash
# Compare the asv benchmarks of two commits, run one after the other on this machine:
# exits non-zero when a benchmark of HEAD is slower than on BASE by more than
# ASV_FACTOR (default 1.25: shared CI machines are noisy).
#
#   tools/asv_compare.sh BASE [HEAD]        e.g. tools/asv_compare.sh origin/main HEAD
#
# Needs asv (and virtualenv, for asv's build environments) in the active Python.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -lt 1 ]; then
    echo "usage: $0 BASE [HEAD]" >&2
    exit 2
fi
base=$1
head=${2:-HEAD}
config=asv_benchmarks/asv.conf.json

asv machine --yes --config "$config"
asv continuous --config "$config" --factor "${ASV_FACTOR:-1.25}" --split --show-stderr \
    "$base" "$head"
