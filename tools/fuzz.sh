#!/usr/bin/env bash
# The long fuzzing campaign: tests/test_fuzz.py (every loss class, every public
# method, perturbed inputs and extreme hyper-parameters) with EXAMPLES examples per
# class and test, in PROCESSES processes with different seeds. Each example is one
# call; the total is printed at the end. Run from a clone with fastloss installed.
#
#   EXAMPLES=11000 PROCESSES=2 tools/fuzz.sh      (about 10^6 calls over the classes)
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${EXAMPLES:-11000}
processes=${PROCESSES:-2}
pids=()
for p in $(seq 1 "$processes"); do
    FUZZ_EXAMPLES=$examples FUZZ_SEED=$p python -P -m pytest -q -p no:cacheprovider \
        tests/test_fuzz.py > "fuzz-$p.log" 2>&1 &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
tests=$(grep -ho "[0-9]* passed" fuzz-*.log | awk '{s += $1} END {print s}')
echo "$tests tests x $examples examples = $((tests * examples)) calls; status $status"
tail -n 3 fuzz-*.log
exit $status
