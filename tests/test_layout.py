"""The package's shape: the reading side apart from the training side, no import circle, check,
report and trends that use one another's public names only and one way, the benchmark cases'
conftest that only loads the plugin, and no module of 450 lines or more.

What counts, read from the source with ``ast`` (nothing is imported):

* An import leads to the flowers module it names: ``from flowers import schema`` and ``from
  flowers.schema import SCHEMA`` both to ``flowers.schema``, ``from flowers.check import Config`` to
  ``flowers.check`` (the package's ``__init__``).
* What a module *reaches* follows every import in it, at any depth (inside functions, made where
  they are needed, and under ``if TYPE_CHECKING:`` too), and the packages' ``__init__`` that
  importing a module runs (``flowers.check.settings`` runs ``flowers.check``), module after module.
  Imports by name (``importlib.import_module``) are not seen here: a test imports every module of
  the reading side in a fresh interpreter and looks at what was loaded.
* An *import circle* is a circle of top-level imports only: those that run when the module is
  imported (not inside a function, nor under ``if TYPE_CHECKING:``).
* The *training side* is ``flowers.training`` and everything under it; every other module is the
  reading side or neutral (schema, results, check, report, trends, store, merge, shards, cli and the
  modules they share).
* check, report and trends are *packages*; a module of one may import another only as the table
  :data:`MAY_IMPORT` allows (check nothing of report or trends; report check; trends report and
  check), and then only names its ``__init__`` lists in ``__all__``.  The top-level modules import
  none of them (``flowers.cli`` finds each command by name).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "flowers"
TRAINING = "flowers.training"
PACKAGES = ("check", "report", "trends")
MAY_IMPORT = {"check": set(), "report": {"check"}, "trends": {"check", "report"}, None: set()}
COMMAND = {"add_arguments", "run"}  # what flowers.cli calls on every command's package


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


PATHS = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


@cache
def tree(module: str) -> ast.Module:
    return ast.parse(PATHS[module].read_text())


def top_level_imports(module: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The module's own imports: its top-level statements and those in top-level try/if blocks,
    except ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    statements = list(module.body)
    while statements:
        node = statements.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            statements += node.body + node.orelse
        elif isinstance(node, ast.Try):
            statements += node.body + [s for h in node.handlers for s in h.body] + node.orelse + node.finalbody
    return found


def all_imports(module: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    return [node for node in ast.walk(module) if isinstance(node, (ast.Import, ast.ImportFrom))]


def source(node: ast.ImportFrom, module: str) -> str:
    """The module a ``from ... import`` reads from, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if PATHS[module].name == "__init__.py" else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def targets(node: ast.Import | ast.ImportFrom, module: str) -> Iterator[tuple[str, str | None]]:
    """(flowers module, name imported from it or None) for each name of one import statement."""
    if isinstance(node, ast.Import):
        yield from ((alias.name, None) for alias in node.names if alias.name in PATHS)
        return
    origin = source(node, module)
    for alias in node.names:
        if f"{origin}.{alias.name}" in PATHS:
            yield f"{origin}.{alias.name}", None
        elif origin in PATHS:
            yield origin, alias.name


def parents(module: str) -> list[str]:
    parts = module.split(".")
    return [p for p in (".".join(parts[:i]) for i in range(1, len(parts))) if p in PATHS]  # no namespace packages


def edges(imports=top_level_imports) -> dict[str, set[str]]:
    """Module -> the modules its imports run: each target, and the ``__init__`` of each package
    above it that the module is not itself inside (those of its own are being imported already)."""
    graph: dict[str, set[str]] = {}
    for m in PATHS:
        found = {t for node in imports(tree(m)) for t, _ in targets(node, m)}
        graph[m] = found | {p for t in found for p in parents(t) if p not in (m, *parents(m))}
    return graph


def reach(start: str) -> dict[str, str | None]:
    """Every module ``start`` reaches -> the module it was reached from (None for ``start``)."""
    graph = edges(all_imports)
    found: dict[str, str | None] = {start: None}
    todo = [start, *parents(start)]
    found.update(dict.fromkeys(parents(start), start))
    while todo:
        module = todo.pop()
        for target in sorted(graph[module]):
            if target not in found:
                found[target] = module
                todo.append(target)
    return found


def chain(found: dict[str, str | None], end: str) -> str:
    steps = [end]
    while (before := found[steps[-1]]) is not None:
        steps.append(before)
    return " -> ".join(reversed(steps))


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


def reading_side() -> list[str]:
    return [m for m in PATHS if not (m == TRAINING or m.startswith(TRAINING + "."))]


def package_of(module: str) -> str | None:
    """``"check"`` for ``flowers.check`` and its modules; None for the top-level modules."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in PACKAGES else None


@cache
def public(package: str) -> set[str]:
    """The names ``flowers.<package>.__all__`` lists."""
    for node in tree(f"flowers.{package}").body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def package_imports(module: str) -> Iterator[tuple[str, str, str | None, int]]:
    """(package, module imported, name or None, line) for each import of check, report or trends
    in ``module`` from outside that package; name None: a module object is imported."""
    for node in all_imports(tree(module)):
        for target, name in targets(node, module):
            package = package_of(target)
            if package and package != package_of(module):
                yield package, target, name, node.lineno


def test_no_import_circle_in_the_package():
    graph = edges()
    assert "flowers.schema" in graph["flowers.results"]  # the graph sees imports
    assert cycle(graph) is None, " -> ".join(cycle(graph) or [])
    assert cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]  # and would see a circle


def test_the_reading_side_reaches_nothing_of_the_training_side():
    assert "flowers.training.pytest_plugin" in PATHS and len(reading_side()) > 40
    assert "flowers.training.work" in reach("flowers.training.pytest_plugin.collection")  # reach sees lazy imports
    bad = []
    for module in reading_side():
        found = reach(module)
        bad += [chain(found, m) for m in found if m.startswith(TRAINING)][:1]
    assert not bad, "the reading side imports the training side:\n" + "\n".join(bad)


def test_importing_the_reading_side_loads_no_training_module_keras_or_tensorflow():
    code = (
        "import importlib, sys\n"
        f"for name in {[m for m in reading_side() if not m.endswith('__main__')]!r}:\n"  # __main__ runs the CLI
        "    importlib.import_module(name)\n"
        "heavy = ('flowers.training', 'keras', 'tensorflow')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(heavy[0])))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]", result.stdout[-2000:]


def test_check_report_and_trends_use_one_another_s_public_names_one_way():
    assert public("check") >= {"compare", "Config"}
    bad = []
    for module in reading_side():
        allowed = MAY_IMPORT[package_of(module)]
        for package, target, name, line in package_imports(module):
            where = f"{PATHS[module].relative_to(ROOT)}:{line}"
            if package not in allowed:
                bad.append(f"{where}: {package_of(module) or 'a top-level module'} imports {package}")
            elif target != f"flowers.{package}" or name not in public(package):
                what = f"{target}.{name}" if name else target
                bad.append(f"{where}: imports {what}; import only names flowers.{package}.__all__ lists")
    assert not bad, "\n".join(bad)


def uses(package: str) -> set[str]:
    """Names of ``flowers.<package>`` used outside it: imported by name, or read off the package
    (``check.compare``), in the Python files and the docs' commands of the repository."""
    found: set[str] = set()
    files = [
        p
        for p in ROOT.rglob("*.py")
        if PACKAGE / package not in p.parents and not any(part.startswith(".") for part in p.parts)
    ]
    for path in files:
        module = ast.parse(path.read_text())
        aliases = {
            a.asname or a.name
            for node in all_imports(module)
            if isinstance(node, ast.ImportFrom) and node.module == "flowers"
            for a in node.names
            if a.name == package
        }
        for node in ast.walk(module):
            if isinstance(node, ast.ImportFrom) and node.module == f"flowers.{package}":
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                found.add(node.attr)
    docs = "\n".join(p.read_text() for p in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
    imported = {n for line in docs.splitlines() if f"from flowers.{package} import " in line for n in line.split()}
    return found | imported | {name for name in public(package) if f"{package}.{name}(" in docs}


def test_each_package_exports_what_is_used_outside_it():
    for package in PACKAGES:
        unused = public(package) - COMMAND - uses(package)
        assert not unused, f"flowers.{package}.__all__ lists names nobody outside it uses: {sorted(unused)}"


def test_the_benchmarks_conftest_only_loads_the_plugin():
    conftest = ROOT / "benchmarks" / "conftest.py"
    parsed = ast.parse(conftest.read_text())
    assert len(conftest.read_text().splitlines()) < 40
    assert not [n for n in ast.walk(parsed) if isinstance(n, ast.FunctionDef)]  # no hooks or fixtures of its own
    assert 'pytest_plugins = ["flowers.training.pytest_plugin"]' in conftest.read_text()


def test_every_module_stays_under_450_lines():
    sources = [p for folder in ("flowers", "tests", "scripts", "benchmarks") for p in (ROOT / folder).rglob("*.py")]
    long = {str(p.relative_to(ROOT)): n for p in sources if (n := len(p.read_text().splitlines())) >= 450}
    assert not long, f"split these modules (450 lines at most): {long}"
