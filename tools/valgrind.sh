#!/usr/bin/env bash
# Run a representative part of the test suite under valgrind's memcheck on the
# installed fastloss: every loss class against its reference in float64, the
# contract's array forms (strided, read-only, lists), the small-call path and the
# function shortcuts (their compiled cache and call), in the x86-64-v3 kernel set
# (valgrind does not run AVX-512). Python's own allocator is switched off
# (PYTHONMALLOC=malloc) so that memcheck sees every block; leaks are not reported
# (the interpreter keeps its objects at exit).
#
# The interpreter and the C library have reports of their own under memcheck
# (uninitialised bytes in CPython's int and finalization code, glibc's vector string
# compares reading past a string, the loader's rpath scan). The run fails when a
# report has a fastloss frame (its kernels or its Cython code) in its stack, or when
# a test fails; the others are counted and listed by their first frame.
#
#   tools/valgrind.sh [pytest arguments]    (default: the selection above)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
    set -- tests/test_contract.py -k \
        "(matches_reference and f64) or non_contiguous or small_call_path_gives or shortcut_equals"
fi
logs=$(mktemp -d)
status=0
PYTHONMALLOC=malloc FASTLOSS_DISPATCH=${FASTLOSS_DISPATCH:-x86-64-v3} \
    valgrind --tool=memcheck --leak-check=no --num-callers=40 \
    --log-file="$logs/memcheck.%p.log" \
    python -P -m pytest -q -p no:cacheprovider "$@" || status=$?
python - "$logs" "$status" <<'PY'
import collections, pathlib, re, sys

logs, status = pathlib.Path(sys.argv[1]), int(sys.argv[2])
ours, others = [], collections.Counter()
for path in logs.glob("memcheck.*.log"):
    text = path.read_text(errors="replace")
    for block in re.split(r"\n==\d+== \n", text):
        lines = [line.split("== ", 1)[-1] for line in block.splitlines()]
        if not lines or not re.match(r"(Invalid|Conditional|Use of|Syscall|Mismatched|Source)",
                                     lines[0]):
            continue
        if any("fastloss" in line for line in lines):
            ours.append("\n".join(lines))
        else:
            first = next((line.strip() for line in lines[1:] if line.strip()), "")
            others[f"{lines[0]} {first}"] += 1
for report in ours:
    print(report, "\n")
print(f"memcheck reports with a fastloss frame: {len(ours)}; "
      f"interpreter and C library only: {sum(others.values())}")
for what, count in others.most_common():
    print(f"  {count:4d}  {what}")
sys.exit(1 if ours or status else 0)
PY
