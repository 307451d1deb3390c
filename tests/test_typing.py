"""fastloss is a typed package (PEP 561) and its annotations hold what a user needs.

typing_user_script.py calls every public class and function the way a user would;
mypy --strict (and pyright in strict mode, where it is installed) must accept it,
checked against the fastloss this suite imports (installed in site-packages, or the
source folder of an editable install, which the checkers cannot find through its
import hook), and it must run. The function shortcuts are typed functions of their
own: their signatures must stay those of their classes, and their overloads on the
reduction (a float for "mean" and "sum", an array for "none") those of the
implementation.
"""

import importlib.util
import inspect
import json
import os
import site
import subprocess
import sys
import sysconfig
import typing
from pathlib import Path

import pytest

import fastloss as fl
from fastloss._core.base import FloatArray, LossValue, Reduction

USER_SCRIPT = Path(__file__).with_name("typing_user_script.py")
PACKAGE = Path(fl.__file__).resolve().parent
CONFIG_FUNCTIONS = {"get_num_threads", "set_num_threads", "threads", "show_config"}
# The user's view of an installed package: mypy reports errors in the user's code
# only (as it does for anything in site-packages), whatever finds fastloss.
MYPY_CONFIG = """\
[mypy]
strict = True

[mypy-fastloss.*]
follow_imports = silent
"""


def mypy_search_path():
    """MYPYPATH for mypy to find this fastloss: empty when it is in site-packages."""
    site_dirs = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    site_dirs |= {Path(d).resolve() for d in [*site.getsitepackages(), site.getusersitepackages()]}
    return "" if PACKAGE.parent in site_dirs else str(PACKAGE.parent)


def test_package_ships_its_types():
    assert (PACKAGE / "py.typed").is_file()
    # The compiled module the Python layer imports by name has its stub beside it.
    assert (PACKAGE / "_kernels" / "common.pyi").is_file()


@pytest.mark.one_kernel_set  # a type check: the kernels play no part
def test_mypy_strict_accepts_the_user_script(tmp_path):
    config = tmp_path / "mypy.ini"
    config.write_text(MYPY_CONFIG)
    env = {key: value for key, value in os.environ.items() if not key.startswith("MYPY")}
    env["MYPYPATH"] = mypy_search_path()
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(config),
         "--cache-dir", str(tmp_path / "cache"), "--no-error-summary", str(USER_SCRIPT)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.one_kernel_set  # a type check: the kernels play no part
def test_pyright_strict_accepts_the_user_script(tmp_path):
    if importlib.util.find_spec("pyright") is None:
        pytest.skip("pyright is not installed (pip install pyright)")
    config = {
        "typeCheckingMode": "strict",
        "extraPaths": [p for p in [mypy_search_path()] if p],
        # the user script's ignores are mypy's; pyright need not report the same calls
        "reportUnnecessaryTypeIgnoreComment": False,
    }
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
    result = subprocess.run(
        [sys.executable, "-m", "pyright", "--pythonpath", sys.executable, "--project",
         str(tmp_path / "pyrightconfig.json"), str(USER_SCRIPT)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_user_script_runs(tmp_path, kernel_set):
    env = {**os.environ, "FASTLOSS_DISPATCH": kernel_set}
    result = subprocess.run(
        [sys.executable, str(USER_SCRIPT)], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"kernel set: {kernel_set}" in result.stdout  # it reached show_config


def shortcuts():
    """(function, class) for every shortcut: the class its docstring names."""
    pairs = []
    for name in fl.__all__:
        obj = getattr(fl, name)
        if inspect.isfunction(obj) and name not in CONFIG_FUNCTIONS:
            cls_name = obj.__doc__.split(":class:`")[1].split("`")[0]
            pairs.append((obj, getattr(fl, cls_name)))
    return pairs


def test_every_class_has_one_shortcut():
    classes = [getattr(fl, name) for name in fl.__all__ if inspect.isclass(getattr(fl, name))]
    assert sorted(cls.__name__ for _, cls in shortcuts()) == sorted(c.__name__ for c in classes)


@pytest.mark.parametrize("shortcut,cls", shortcuts(), ids=lambda x: x.__name__)
def test_shortcut_signature_is_its_class(shortcut, cls):
    """Arrays as the class's __call__ takes them, then the constructor's keywords, then
    the call's keywords: same names, defaults and types."""
    init = inspect.signature(cls.__init__).parameters.values()
    call = list(inspect.signature(cls.__call__).parameters.values())[1:]
    expected = (
        [p for p in call if p.kind is p.POSITIONAL_OR_KEYWORD]
        + [p for p in init if p.kind is p.KEYWORD_ONLY]
        + [p for p in call if p.kind is p.KEYWORD_ONLY]
    )
    actual = list(inspect.signature(shortcut).parameters.values())
    assert [(p.name, p.kind, p.default) for p in actual] == [
        (p.name, p.kind, p.default) for p in expected
    ]
    hints = {
        **typing.get_type_hints(cls.__init__),
        **typing.get_type_hints(cls.__call__),
    }
    shortcut_hints = typing.get_type_hints(shortcut)
    # __call__ returns the class's value type parameter, a float or an array
    assert shortcut_hints.pop("return") == hints["return"].__bound__ == LossValue
    assert shortcut_hints == {p.name: hints[p.name] for p in expected}


#: The overloads of every shortcut, in order: (reduction type, whether it has a
#: default, value type).
REDUCTION_OVERLOADS = [
    (typing.Literal["mean", "sum"], True, float),
    (typing.Literal["none"], False, FloatArray),
    (Reduction, False, LossValue),  # a reduction that is not a literal
]


@pytest.mark.one_kernel_set
@pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.get_overloads is new in 3.11")
@pytest.mark.parametrize("shortcut", [f for f, _ in shortcuts()], ids=lambda f: f.__name__)
def test_shortcut_overloads_follow_the_reduction(shortcut):
    """Each overload has the implementation's parameters, types and defaults, except
    the type of reduction (and its default: only "mean" and "sum" have it) and the
    value type. mypy and pyright read them; the user script checks every shortcut
    with each reduction literal."""
    implementation = inspect.signature(shortcut).parameters
    implementation_hints = typing.get_type_hints(shortcut)
    overloads = typing.get_overloads(shortcut)
    assert len(overloads) == len(REDUCTION_OVERLOADS)
    for overload, (reduction, has_default, value) in zip(
        overloads, REDUCTION_OVERLOADS, strict=True
    ):
        parameters = inspect.signature(overload).parameters
        assert [(p.name, p.kind) for p in parameters.values()] == [
            (p.name, p.kind) for p in implementation.values()
        ]
        assert [p.default for p in parameters.values()] == [
            p.default if p.name != "reduction" or has_default else p.empty
            for p in implementation.values()
        ]
        hints = typing.get_type_hints(overload)
        assert hints.pop("return") == value
        assert hints.pop("reduction") == reduction
        assert hints == {k: v for k, v in implementation_hints.items()
                         if k not in ("return", "reduction")}
