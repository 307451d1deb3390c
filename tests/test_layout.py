"""The package's layers and import rules (docs/development.rst): private core modules
never import public ones, the kernels import nothing outside themselves, nothing
imports the command line, and `import fastloss` imports no optional framework."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import fastloss

pytestmark = pytest.mark.one_kernel_set

PACKAGE = Path(fastloss.__file__).parent
FAMILIES = {"regression", "classification", "detection", "segmentation", "embedding",
            "ranking", "sequence", "reference"}
OPTIONAL = ("torch", "jax", "jaxlib", "keras", "xgboost", "lightgbm", "catboost", "dask",
            "distributed", "matplotlib", "tqdm", "sklearn")


def _layer(module):
    """The layer of a fastloss module name: _kernels, _core, _cli, family or public."""
    parts = module.split(".")
    if len(parts) == 1:
        return "package"
    top = parts[1]
    if top == "__main__":  # python -m fastloss: the command line's entry point
        return "_cli"
    if top in ("_kernels", "_core", "_cli", "_version"):
        return top
    return "family" if top in FAMILIES else "public"


def _imports(path, module):
    """The fastloss modules a source file imports (absolute and relative)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "fastloss" or name.startswith("fastloss.")}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


ALLOWED = {
    "_kernels": {"_kernels"},
    "_version": set(),
    "_core": {"_core", "_kernels", "_version"},
    "family": {"_core", "_kernels", "family"},
    "public": {"package", "_core", "_kernels", "family", "public"},
    "package": {"_core", "_kernels", "family", "_version", "package"},
    "_cli": {"package", "_core", "_kernels", "family", "public", "_cli", "_version"},
}


def _real_imports(imported):
    """Drop names that are attributes of an imported module (from m import name)."""
    known = {name for name, _ in _modules()}
    return {name for name in imported if name in known or name == "fastloss"}


# ast.parse from two threads at once fails in CPython 3.11 ("AST constructor recursion
# depth mismatch"), a bug of the interpreter.
@pytest.mark.thread_unsafe(reason="ast.parse is not thread-safe in CPython 3.11")
@pytest.mark.parametrize("module, path", list(_modules()), ids=lambda v: str(v))
def test_module_imports_only_lower_layers(module, path):
    layer = _layer(module)
    wrong = sorted(name for name in _real_imports(_imports(path, module))
                   if name != module and _layer(name) not in ALLOWED[layer])
    assert not wrong, f"{module} ({layer}) must not import {wrong} (docs/development.rst)"


def test_the_rules_catch_a_core_module_importing_a_public_one(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from fastloss import regression\nimport fastloss.metrics\n")
    imported = _imports(bad, "fastloss._core.bad")
    assert {"fastloss.regression", "fastloss.metrics"} <= imported
    assert _layer("fastloss.regression") not in ALLOWED["_core"]
    assert _layer("fastloss.metrics") not in ALLOWED["_core"]
    assert _layer("fastloss._cli.main") not in ALLOWED["public"]


def test_import_fastloss_imports_no_adapter_or_framework():
    code = (
        "import sys, fastloss\n"
        f"optional = {OPTIONAL!r}\n"
        "adapters = ('metrics', 'training', 'torch', 'jax', 'keras', 'xgboost', 'lightgbm',"
        " 'catboost', 'dask', '_cli')\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in optional or m in optional]\n"
        "bad += [m for m in sys.modules\n"
        "        if m.startswith('fastloss.') and m.split('.')[1] in adapters]\n"
        "print(','.join(sorted(bad)))\n"
    )
    result = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "", f"import fastloss imported {result.stdout.strip()}"
