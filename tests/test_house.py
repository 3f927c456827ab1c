"""The layout the README describes, held against the code: rooms, the direction of their
imports, no cycles, public names only across modules, and no formatter escapes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "duiding"
# Each room and the rooms it may import (errors and config are the ground every room stands on).
ALLOWED = {
    "meta": set(),
    "evidence": {"meta"},
    "grade": {"evidence", "meta"},
    "report": {"grade", "evidence", "meta"},
    "commands": {"report", "grade", "evidence", "meta"},
}
SHARED = {"errors", "config", "__init__"}


def modules() -> dict[str, Path]:
    return {".".join(p.relative_to(PACKAGE).with_suffix("").parts): p for p in PACKAGE.rglob("*.py")}


def imports(name: str, path: Path) -> set[str]:
    """Modules of the package that ``name`` imports (relative imports resolved), at any depth."""
    package = name.split(".")[:-1]  # the package a module (or an __init__) sits in
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            target = ".".join([*base, node.module]) if node.module else ".".join(base)
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("duiding"):
            found.add(node.module.removeprefix("duiding").lstrip("."))
    known = modules()
    return {m for m in found if m in known or m.replace(".", "/") in {k.replace(".", "/") for k in known}}


def room(module: str) -> str:
    return module.split(".")[0]


def test_dependencies_point_one_way():
    wrong = []
    for name, path in modules().items():
        source = room(name)
        if source not in ALLOWED:
            continue
        for target in imports(name, path):
            other = room(target)
            if other != source and other not in SHARED and other not in ALLOWED[source]:
                wrong.append(f"{name} imports {target}")
    assert not wrong, wrong


def test_no_import_cycles_between_modules():
    graph = {name: {t for t in imports(name, path) if t in modules() and t != name} for name, path in modules().items()}
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.endswith("__init__")}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                pytest.fail(f"import cycle: {' -> '.join([*trail, node, nxt])}")
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for name in graph:
        if name not in state and not name.endswith("__init__"):
            visit(name, [])


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_each_room_says_what_it_holds_and_lists_its_public_names(name):
    init = PACKAGE / name / "__init__.py"
    tree = ast.parse(init.read_text())
    doc = ast.get_docstring(tree)
    assert doc and "import" in doc, f"{name}/__init__.py: say what the room holds and what it may import"
    if name != "commands":
        assigned = [n for n in tree.body if isinstance(n, ast.Assign) and any(t.id == "__all__" for t in n.targets)]
        assert assigned, f"{name}/__init__.py lists no __all__"


def test_no_fmt_skip_anywhere():
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")]
    marked = [str(p) for p in files if "fmt: " + "skip" in p.read_text()]
    assert not marked, marked


def test_no_private_names_imported_across_modules():
    files = [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py")]
    private = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [a.name for a in node.names if a.name.startswith("_") and not a.name.endswith("__")]
                private += [f"{path.name}: {node.module}.{n}" for n in names]
    assert not private, private


def test_cli_holds_argparse_only():
    tree = ast.parse((PACKAGE / "cli.py").read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert imported <= {
        "__future__",
        "argparse",
        "os",
        "re",
        "sys",
        "warnings",
        "collections.abc",
        "importlib",
        "typing",
        "errors",
    }
