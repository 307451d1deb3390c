"""The examples in the docstrings of the installed package run as doctests.

Every Python module of the imported fastloss is searched with the standard
library's doctest finder, so the examples are checked against the package the suite
runs on, wherever it is installed. One test per docstring. The compiled kernel
modules are not imported here: a kernel set built for a newer CPU than this one must
only ever be imported by the dispatcher.
"""

import doctest
import importlib
import importlib.util
import pkgutil

import pytest

import fastloss

# Modules that must not be imported by a test: __main__ runs the command line; the
# framework adapters import their framework (keras picks its backend once, at import,
# and fails without one), hold no doctest examples and have their own test modules.
NOT_IMPORTED = {"fastloss.__main__", "fastloss.torch", "fastloss.jax", "fastloss.keras"}
#: Modules whose examples need an optional library: checked where it is installed.
NEEDS = {"fastloss.xgboost": "xgboost", "fastloss.lightgbm": "lightgbm",
         "fastloss.catboost": "catboost", "fastloss.dask": "dask"}
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def docstring_examples():
    finder = doctest.DocTestFinder(exclude_empty=True)
    names = ["fastloss"] + [
        info.name
        for info in pkgutil.walk_packages(fastloss.__path__, "fastloss.")
        if info.name not in NOT_IMPORTED
        and (info.name not in NEEDS or importlib.util.find_spec(NEEDS[info.name]))
        and importlib.util.find_spec(info.name).origin.endswith(".py")  # not the kernels
    ]
    found = {}
    for name in names:
        module = importlib.import_module(name)
        for test in finder.find(module):
            if test.examples:
                found.setdefault(test.name, test)
    return [found[name] for name in sorted(found)]


EXAMPLES = docstring_examples()


def test_docstrings_have_examples():
    assert EXAMPLES, "no docstring of the installed fastloss holds a doctest example"


@pytest.mark.thread_unsafe(reason="doctest redirects the process's standard output")
@pytest.mark.parametrize("example", EXAMPLES, ids=[test.name for test in EXAMPLES])
def test_docstring_example(example):
    report = []
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    result = runner.run(example, out=report.append)
    assert result.failed == 0, "".join(report)
