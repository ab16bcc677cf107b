"""pyproject.toml declares every package minidl imports (issue 21): a plain Python
with the declared dependencies imports every module, and each optional one is
in an extra."""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")

ROOT = Path(__file__).parent.parent
# import name -> distribution name, where they differ
DISTRIBUTIONS = {"sklearn": "scikit-learn", "numba_cuda": "numba-cuda"}
# imported only where an extra is installed (each import sits inside a function or a try)
OPTIONAL = {"matplotlib": "plot", "graphviz": "viz"}


def imported_packages() -> dict[str, list[str]]:
    """Top-level package -> the files of minidl (minidl/, kernels/, datasets/) importing it."""
    found: dict[str, list[str]] = {}
    for folder in ("minidl", "kernels", "datasets"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], []).append(str(path.relative_to(ROOT)))
    return found


def declared(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", requirement)[0].lower() for requirement in requirements}


def test_every_import_is_a_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = declared(project["dependencies"])
    extras = {name: declared(packages) for name, packages in
              project["optional-dependencies"].items()}
    third_party = {name: files for name, files in imported_packages().items()
                   if name not in sys.stdlib_module_names and name not in ("minidl", "__future__")}
    missing = {}
    for name, files in third_party.items():
        distribution = DISTRIBUTIONS.get(name, name).lower()
        if name in OPTIONAL:
            if distribution not in extras[OPTIONAL[name]]:
                missing[name] = f"not in the {OPTIONAL[name]!r} extra ({files[0]})"
        elif distribution not in required:
            missing[name] = f"not in dependencies ({', '.join(sorted(set(files)))})"
    assert not missing, missing
    assert "threadpoolctl" in required


def test_the_test_extra_is_the_dev_extra_without_the_gpu_and_cluster_packages():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert declared(extras["dev"]) - declared(extras["test"]) == {
        "numba-cuda", "numpy", "dask", "distributed"}


def test_every_package_folder_is_installed():
    """setuptools installs only the packages listed: a subpackage left out imports
    from a checkout and fails from a wheel (as minidl.jit once did in CI)."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {name: Path(folder) for name, folder in tool["package-dir"].items()}
    expected = set()
    for name, folder in folders.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            expected.add(".".join((name, *parts)))
    assert expected == set(tool["packages"])
