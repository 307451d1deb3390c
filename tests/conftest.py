"""Test configuration: refuse to run against an unbuilt source tree; hypothesis profile."""

import importlib
import importlib.machinery
import os

import pytest
from hypothesis import HealthCheck, settings

try:
    import fastloss
    from fastloss._kernels import common as _kernel
    from fastloss._kernels import dispatch as _dispatch
except ImportError as exc:  # e.g. the bare source folder shadows the build
    raise pytest.UsageError(
        f"fastloss could not be imported from a build ({exc}). Install it first "
        "(pip install . or the editable install of README.md) and run pytest with "
        "`python -P -m pytest` so the source folder is not imported instead."
    ) from None


def _is_extension(module):
    path = getattr(module, "__file__", "") or ""
    return path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


_compiled = [_kernel, importlib.import_module("fastloss._kernels.regression")]
if not all(_is_extension(m) for m in _compiled):
    raise pytest.UsageError(
        "fastloss was imported from the bare source tree, not from a build: "
        + ", ".join(f"{m.__name__} -> {getattr(m, '__file__', None)}" for m in _compiled)
    )

from helpers import CPU_SKIP  # noqa: E402  (it imports fastloss: after the checks above)

settings.register_profile(
    "fastloss",
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI failures reproduce
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fastloss"))


def pytest_report_header(config):
    return (f"fastloss {fastloss.__version__} from {os.path.dirname(fastloss.__file__)}, "
            f"kernels {_dispatch.KERNEL_SET}, {fastloss.get_num_threads()} threads")


def pytest_generate_tests(metafunc):
    """Every test runs once per kernel set this CPU can run (baseline, x86-64-v3, v4),
    except tests marked `one_kernel_set` (adapters, training, metrics: code above the
    kernels, whose kernel-set equality the family tests already prove)."""
    if "kernel_set" in metafunc.fixturenames:
        one = metafunc.definition.get_closest_marker("one_kernel_set") is not None
        sets = [_dispatch.KERNEL_SET] if one else _dispatch.available()
        metafunc.parametrize("kernel_set", sets, indirect=True)


@pytest.fixture(autouse=True)
def kernel_set(request):
    """The kernel set of this run of the test (see pytest_generate_tests)."""
    with _dispatch.use(request.param):
        yield request.param


@pytest.fixture(autouse=True)
def _restore_threads():
    """Tests that change the thread count never leak it into later tests."""
    yield
    fastloss.set_num_threads(None)


def pytest_sessionfinish(session, exitstatus):
    """With FASTLOSS_NO_SKIP=1 (CI, which installs every optional framework) a skipped
    test fails the run: an integration test that skips there tests nothing. Only a test
    that needs a kernel set this CPU cannot run may skip (its reason starts with
    helpers.CPU_SKIP); those are listed."""
    if os.environ.get("FASTLOSS_NO_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    for_the_cpu = [r for r in skipped if isinstance(r.longrepr, tuple)
                   and r.longrepr[2].startswith("Skipped: " + CPU_SKIP)]
    for report in for_the_cpu:
        reporter.write_line(f"skipped for this CPU: {report.nodeid}")
    skipped = [r for r in skipped if r not in for_the_cpu]
    if skipped:
        reasons = sorted({str(getattr(r, "longrepr", ""))[:200] for r in skipped})
        reporter.write_line(
            f"FASTLOSS_NO_SKIP=1: {len(skipped)} test(s) skipped, which fails this run:",
            red=True)
        for reason in reasons[:20]:
            reporter.write_line(f"  {reason}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
