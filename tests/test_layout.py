"""The package's shape: no import circle among flowers' modules, and the benchmark cases' conftest
that only loads the plugin.

An edge is an import at a module's top level (not one inside a function, made where it is needed,
nor one under ``if TYPE_CHECKING:``), to the module it names: ``from flowers import schema`` and
``from flowers.schema import SCHEMA`` both lead to ``flowers.schema``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "flowers"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The module's own imports: its top-level statements and those in top-level try/if blocks,
    except ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    statements = list(tree.body)
    while statements:
        node = statements.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            statements += node.body + node.orelse
        elif isinstance(node, ast.Try):
            statements += node.body + [s for h in node.handlers for s in h.body] + node.orelse + node.finalbody
    return found


def edges(modules: set[str]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        targets = set()
        for node in top_level_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif node.module:
                targets |= {
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                    for a in node.names
                }
        graph[module_name(path)] = {t for t in targets if t in modules}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle (its modules in order, the first repeated at the end), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(graph[node]):
            found = visit(target, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    return next((c for c in (visit(m, []) for m in sorted(graph)) if c), None)


def test_no_import_circle_in_the_package():
    modules = {module_name(path) for path in PACKAGE.rglob("*.py")}
    graph = edges(modules)
    assert "flowers.schema" in graph["flowers.results"]  # the graph sees imports
    assert cycle(graph) is None, " -> ".join(cycle(graph) or [])
    assert cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]  # and would see a circle


def test_the_benchmarks_conftest_only_loads_the_plugin():
    conftest = ROOT / "benchmarks" / "conftest.py"
    tree = ast.parse(conftest.read_text())
    assert len(conftest.read_text().splitlines()) < 40
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]  # no hooks or fixtures of its own
    assert 'pytest_plugins = ["flowers.training.pytest_plugin"]' in conftest.read_text()
