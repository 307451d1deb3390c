"""Check an installed fastloss: where it lives, its OpenMP runtime, its kernel set.

    python tools/check_installed.py [--bundled-openmp]

Run it from outside the source tree, with the Python of the environment to check
(tools/test_installed.sh does both). It checks that

- fastloss is imported from that environment's site-packages, not from a source tree;
- fastloss.show_config() and fastloss._core.config.config() report OpenMP and the kernel
  set the dispatcher chose (the best one this CPU and build offer, unless
  FASTLOSS_DISPATCH forces one);
- threadpoolctl finds the OpenMP runtime fastloss loaded, and its limits take effect:
  inside threadpool_limits(1) fastloss.get_num_threads() is 1 and a parallel-sized
  call gives bitwise the same result;
- with --bundled-openmp (a repaired wheel): the runtime is the libgomp copy inside
  fastloss.libs/, recorded in the wheel's RECORD, and the wheel's LICENSE carries the
  GCC Runtime Library Exception.

Exits non-zero with a message naming the first failed check.
"""

import argparse
import contextlib
import io
import os
import sys
import sysconfig
from importlib import metadata


def check(condition, message):
    if not condition:
        raise SystemExit(f"check failed: {message}")
    print(f"ok: {message}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--bundled-openmp",
        action="store_true",
        help="the OpenMP runtime must be the copy bundled in the wheel (fastloss.libs/)",
    )
    args = parser.parse_args()

    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    import fastloss
    from fastloss._core import config as _config
    from fastloss._kernels import dispatch as _dispatch

    # 1. Imported from the environment, not from a source tree.
    package_dir = os.path.realpath(os.path.dirname(fastloss.__file__))
    site_packages = os.path.realpath(sysconfig.get_paths()["platlib"])
    check(
        package_dir == os.path.join(site_packages, "fastloss"),
        f"fastloss is imported from {site_packages}",
    )

    # 2. show_config and config(): OpenMP and the dispatched kernel set.
    info = _config.config()
    check(info["version"] == metadata.version("fastloss"), f"version {info['version']}")
    check(info["openmp"] and info["openmp_spec"], f"built with OpenMP (spec {info['openmp_spec']})")
    forced = os.environ.get("FASTLOSS_DISPATCH", "").strip().lower()
    expected_set = forced or _dispatch.available()[-1]
    check(
        info["kernel_set"] == expected_set,
        f"kernel set {info['kernel_set']} (available here: {', '.join(_dispatch.available())})",
    )
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        fastloss.show_config()
    text = printed.getvalue()
    print(text, end="")
    check(f"kernel set: {info['kernel_set']}" in text, "show_config names the kernel set")
    check("openmp: yes" in text, "show_config reports OpenMP")
    runtime = info["openmp_runtime"]
    check(runtime not in (None, "unknown") and os.path.exists(runtime),
          f"OpenMP runtime loaded: {runtime}")

    # 3. The bundled runtime of a repaired wheel, and its licence note.
    if args.bundled_openmp:
        libs_dir = os.path.join(site_packages, "fastloss.libs")
        check(
            os.path.dirname(os.path.realpath(runtime)) == libs_dir
            and os.path.basename(runtime).startswith("libgomp"),
            f"the OpenMP runtime is the wheel's own copy in {libs_dir}",
        )
        recorded = {str(f) for f in metadata.files("fastloss")}
        check(f"fastloss.libs/{os.path.basename(runtime)}" in recorded,
              "the bundled libgomp is recorded in the wheel's RECORD")
        licence = metadata.distribution("fastloss").read_text("licenses/LICENSE") or ""
        check("BSD 3-Clause License" in licence and "GCC RUNTIME LIBRARY EXCEPTION" in licence,
              "LICENSE carries the project licence and the GCC runtime library exception")
        tags = metadata.distribution("fastloss").read_text("WHEEL") or ""
        check("-manylinux_" in tags, "the wheel is tagged manylinux")

    # 4. threadpoolctl sees the runtime fastloss loaded, and its limits take effect.
    openmp_pools = [p for p in threadpool_info() if p["user_api"] == "openmp"]
    paths = {os.path.realpath(p["filepath"]) for p in openmp_pools}
    check(os.path.realpath(runtime) in paths,
          f"threadpoolctl sees the runtime ({len(openmp_pools)} OpenMP runtime(s) loaded)")
    default_threads = fastloss.get_num_threads()
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=(2, 1 << 20))  # far above the parallel threshold
    loss = fastloss.Huber(delta=0.5)
    value, grad = loss.value_and_gradient(y_true, y_pred)
    with threadpool_limits(limits=1, user_api="openmp"):
        check(fastloss.get_num_threads() == 1, "threadpool_limits(1) -> get_num_threads() == 1")
        value_1, grad_1 = loss.value_and_gradient(y_true, y_pred)
    check(value_1 == value and np.array_equal(grad_1, grad),
          f"one thread and {default_threads} thread(s) give bitwise the same result")
    check(fastloss.get_num_threads() == default_threads,
          f"the limit is lifted on exit ({default_threads} thread(s) again)")
    print("all installation checks passed")


if __name__ == "__main__":
    sys.exit(main())
