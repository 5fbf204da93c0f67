"""The library's house has no circles: no digits/ module imports, however indirectly, one that imports it back.

Every import counts, at the top of a module or inside a function (a late import is still a dependency), except
those under ``if TYPE_CHECKING:``, which only type checkers follow."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import PROJECT_ROOT

PACKAGE = "digits"


def imported_modules(path: Path) -> set[str]:
    """The digits.* modules ``path`` imports (``from digits import x`` counts as digits.x when x is a module)."""
    tree = ast.parse(path.read_text())
    type_checking_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                          and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
                          for statement in block.body for node in ast.walk(statement)}
    modules = set()
    for node in ast.walk(tree):
        if id(node) in type_checking_only:
            continue
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names if alias.name.startswith(PACKAGE + "."))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == PACKAGE:
            # ``from digits.background import jobs`` imports the module digits.background.jobs; ``from
            # digits.background.jobs import Job`` imports digits.background.jobs: keep both readings, the graph
            # keeps those that are modules.
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Each module of the package (subpackages' too, by dotted name) and the package's modules it imports."""
    modules = {".".join((PACKAGE, *path.relative_to(package_dir).with_suffix("").parts)): path
               for path in package_dir.rglob("*.py") if path.stem != "__init__"}
    return {name: imported_modules(path) & modules.keys() - {name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports (its modules in order, the first repeated at the end), or None."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once every way on from it is explored

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                return [*path[path.index(imported):], imported]
            if imported not in state and (cycle := visit(imported, [*path, imported])):
                return cycle
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module, [module])):
            return cycle
    return None


def test_find_cycle_finds_a_circle_and_only_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_late_imports_count_and_type_checking_ones_do_not(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nfrom digits import data\n"
                      "if TYPE_CHECKING:\n    from digits.store import ModelStore\n"
                      "def f():\n    import digits.background.jobs\n    from digits.models import build_model\n")
    assert {"digits.data", "digits.background.jobs", "digits.models"} <= imported_modules(module)
    assert "digits.store" not in imported_modules(module)


def test_no_import_circles_among_the_library_modules() -> None:
    graph = import_graph(PROJECT_ROOT / PACKAGE)
    assert "digits.background.engine_local" in graph["digits.background.engines"]
    assert "digits.data" in graph["digits.background.tasks"]
    cycle = find_cycle(graph)
    assert cycle is None, "an import circle: " + " -> ".join(cycle or [])
