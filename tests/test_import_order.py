"""minidl's modules import one another one way, down the layers: no cycles.

A cycle (``train`` importing ``monitor`` importing ``train``) works only as long
as each side imports the other late enough; it also makes the code harder to
read in order. The check parses every module's imports, those inside functions
too, resolves relative imports to module names and looks for a cycle.
"""
from __future__ import annotations

import ast
from pathlib import Path

import minidl

PACKAGE = Path(minidl.__file__).parent


def module_name(path: Path) -> str:
    parts = ("minidl", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports(name: str) -> set[str]:
    """The minidl modules that module ``name`` imports, less its own packages
    (importing ``minidl.nn.layers`` runs ``minidl.nn`` first: no edge to read)."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            found |= {target} | {f"{target}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {target for target in found & MODULES.keys()
            if target != name and not name.startswith(target + ".")}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it starts, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        for target in sorted(graph[node]):
            if (cycle := visit(target, path + [node])) is not None:
                return cycle
        done.add(node)
        return None

    for node in sorted(graph):
        if (cycle := visit(node, [])) is not None:
            return cycle
    return None


def test_minidl_imports_run_one_way():
    cycle = find_cycle({name: imports(name) for name in MODULES})
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_check_finds_a_cycle_and_reads_relative_imports():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
    assert "minidl.history" in imports("minidl.monitor")          # from .history import ...
    assert "minidl.nn.functional" in imports("minidl.nn.layers")  # two levels, from ..
