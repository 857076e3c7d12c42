"""The house: which side of the I/O line each package is on, and that the wheel ships all of it.

* nothing under ``planner/core`` (nor the pure ``exporters``/``importers``) imports flask, sqlite3,
  subprocess, socket or pyroute2, or an edge package - at module level or inside a function;
* the core's modules import each other without circles;
* every package of the tree is listed in ``pyproject.toml`` (else ``pip install .`` drops it).
"""
from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PLANNER = ROOT / "planner"
SIDE_EFFECTS = {"flask", "sqlite3", "subprocess", "socket", "pyroute2"}
EDGES = {"planner.netlink", "planner.lab", "planner.web", "planner.cli"}
PURE = ["core", "exporters", "importers"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[str]:
    """Every module a file imports (absolute names; relative imports resolved), anywhere in the file."""
    tree = ast.parse(path.read_text("utf-8"))
    me = _module_name(path).split(".")
    package = me if path.name == "__init__.py" else me[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            if node.module is None:  # from . import x, y
                out += [f"{mod}.{a.name}" for a in node.names]
            else:
                out.append(mod)
    return out


def _pure_files() -> list[Path]:
    return [p for name in PURE if (PLANNER / name).is_dir() for p in sorted((PLANNER / name).rglob("*.py"))]


@pytest.mark.parametrize("path", _pure_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_packages_do_no_io(path):
    bad = [m for m in _imports(path) if m.split(".")[0] in SIDE_EFFECTS or any(
        m == e or m.startswith(e + ".") for e in EDGES)]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}: the core has no side effects"


def test_the_core_has_no_import_circles():
    g = nx.DiGraph()
    for path in sorted((PLANNER / "core").rglob("*.py")):
        me = _module_name(path)
        g.add_node(me)
        for m in _imports(path):
            if m.startswith("planner.core"):
                # "from planner.core.model import x" names the package; a module is a node too
                target = m if (ROOT / Path(*m.split("."))).with_suffix(".py").exists() or \
                    (ROOT / Path(*m.split(".")) / "__init__.py").exists() else m.rsplit(".", 1)[0]
                if target != me and not me.startswith(target + "."):  # a module may import its own package
                    g.add_edge(me, target)
    cycles = list(nx.simple_cycles(g))
    assert not cycles, f"import circles in planner.core: {cycles[:3]}"


def test_every_package_is_in_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    present = {_module_name(p) for p in PLANNER.rglob("__init__.py")}
    assert present <= listed, f"not listed in pyproject.toml [tool.setuptools] packages: {sorted(present - listed)}"


def test_no_dynamic_imports_that_could_drop_code():
    for path in sorted(PLANNER.rglob("*.py")):
        text = path.read_text("utf-8")
        assert "import_module(" not in text and "__import__(" not in text, path
